#pragma once

// StringMatcher: the compiled form of envoy.type.matcher.v3.StringMatcher, shared by header and
// query-parameter matchers. exact / prefix / suffix / contains compare ASCII case-insensitively
// when ignore_case is set; safe_regex is an RE2 full match and ignores ignore_case, as in Envoy.
// Matching never allocates.

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "routing/route_config.h"
#include "routing/validation_errors.h"

namespace routing {

class StringMatcher {
 public:
  // Validates `config` (prefix, suffix and contains must not be empty, the regex must compile),
  // adding errors under the Envoy field name of the kind ("prefix", "safe_regex", ...) beneath
  // the current path. Returns nullopt if an error was added.
  static std::optional<StringMatcher> Create(const StringMatcherConfig& config,
                                             ValidationErrors* errors);

  bool Matches(absl::string_view value) const;

 private:
  StringMatcher(const StringMatcherConfig& config, std::unique_ptr<const RE2> regex)
      : kind_(config.kind),
        value_(config.value),
        ignore_case_(config.ignore_case),
        regex_(std::move(regex)) {}

  StringMatcherConfig::Kind kind_;
  std::string value_;
  bool ignore_case_;
  std::unique_ptr<const RE2> regex_;  // kSafeRegex only
};

// ASCII case-insensitive substring search (absl has no allocation-free one in this version).
bool StrContainsIgnoreCase(absl::string_view haystack, absl::string_view needle);

}  // namespace routing
