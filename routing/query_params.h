#pragma once

// Query-string access for route matching, as Envoy's QueryParamsMulti::parseAndDecodeQueryString:
// the query is everything after the first '?', split on '&'; a parameter is name=value (no '='
// means value ""); names and values are percent-decoded (%XX only, '+' stays '+'; malformed
// escapes are kept verbatim). A QueryParameterMatcher looks at the FIRST value of its parameter.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "routing/route_config.h"
#include "routing/string_matcher.h"
#include "routing/validation_errors.h"

namespace routing {

std::string PercentDecode(absl::string_view encoded);

// The first value of query parameter `name` (names compare after decoding) in `path` (a :path
// value), still percent-encoded so that the common case needs no copy; nullopt if absent.
std::optional<absl::string_view> FindRawQueryParameter(absl::string_view path,
                                                       absl::string_view name);

// The compiled form of envoy.config.route.v3.QueryParameterMatcher.
class QueryParameterMatcher {
 public:
  // Errors are added beneath the current path ("name: must not be empty",
  // "string_match.safe_regex: invalid regex: ..."). Returns nullopt if an error was added.
  static std::optional<QueryParameterMatcher> Create(const QueryParameterMatcherConfig& config,
                                                     ValidationErrors* errors);

  // Absent parameter: no match. Present: matches if there is no string_match, else by it.
  bool Matches(absl::string_view path) const;

 private:
  QueryParameterMatcher(std::string name, std::optional<StringMatcher> string_match)
      : name_(std::move(name)), string_match_(std::move(string_match)) {}

  std::string name_;
  std::optional<StringMatcher> string_match_;
};

}  // namespace routing
