#pragma once

// HeaderMatcher: the compiled form of envoy.config.route.v3.HeaderMatcher, with Envoy's
// HeaderUtility::matchHeaders semantics:
//   - several values of one header are joined with "," before matching;
//   - an absent header (unless treat_missing_header_as_empty) matches only a presence check:
//     present_match: false matches, present_match: true matches when inverted, and every other
//     kind does not match, inverted or not (Envoy's API docs: "the header is not present ... so it
//     will not match");
//   - otherwise the value ("" when missing and treated as empty) is matched by kind and the result
//     is XORed with invert_match.
// Pseudo headers come from RequestView (request_headers.h).

#include <cstdint>
#include <optional>
#include <string>

#include "routing/request_view.h"
#include "routing/route_config.h"
#include "routing/string_matcher.h"
#include "routing/validation_errors.h"

namespace routing {

class HeaderMatcher {
 public:
  // Errors are added beneath the current path ("name: must not be empty",
  // "string_match.safe_regex: invalid regex: ..."). Returns nullopt if an error was added.
  static std::optional<HeaderMatcher> Create(const HeaderMatcherConfig& config,
                                             ValidationErrors* errors);

  bool Matches(const RequestView& request) const;

 private:
  HeaderMatcher(const HeaderMatcherConfig& config, std::optional<StringMatcher> string_match);

  std::string name_;  // lower case
  HeaderMatcherConfig::Kind kind_;
  bool present_;
  std::string legacy_exact_value_;
  std::optional<StringMatcher> string_match_;
  int64_t range_start_;
  int64_t range_end_;
  bool invert_match_;
  bool treat_missing_header_as_empty_;
};

}  // namespace routing
