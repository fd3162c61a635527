#pragma once

// PathMatcher: the path specifier of envoy.config.route.v3.RouteMatch, with Envoy's rules:
//   prefix                 StartsWith(:path, prefix), query string INCLUDED (Envoy matches the
//                          prefix against the full :path value);
//   path                   path without query/fragment (cut at the first '?' or '#') == path;
//   safe_regex             RE2 full match of the path without query/fragment;
//   path_separated_prefix  path without query/fragment == prefix, or starts with prefix + "/".
// case_sensitive=false makes prefix / path / path_separated_prefix ASCII case-insensitive; it does
// not apply to safe_regex. Matching never allocates.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "routing/route_config.h"
#include "routing/validation_errors.h"

namespace routing {

// The :path without its query string and fragment (Envoy's PathUtil::removeQueryAndFragment).
absl::string_view PathWithoutQuery(absl::string_view path);

class PathMatcher {
 public:
  // Validates the path specifier of `match`, adding errors beneath the current path under the
  // Envoy field name ("safe_regex: invalid regex: ...", "path_separated_prefix: ...").
  static std::optional<PathMatcher> Create(const RouteMatchConfig& match, ValidationErrors* errors);

  bool Matches(absl::string_view path) const {
    // Inline fast path for the common case: a case-sensitive prefix is one memcmp.
    if (kind_ == RouteMatchConfig::PathKind::kPrefix && case_sensitive_) {
      return path.size() >= value_.size() && path.compare(0, value_.size(), value_) == 0;
    }
    return MatchesSlow(path);
  }

  // How many leading characters of a matching `path` prefix_rewrite replaces: the prefix for
  // prefix and path_separated_prefix, the whole path without query for path and safe_regex
  // (Envoy's "matched path").
  size_t MatchedLength(absl::string_view path) const;

  RouteMatchConfig::PathKind kind() const { return kind_; }

 private:
  PathMatcher(const RouteMatchConfig& match, std::unique_ptr<const RE2> regex)
      : kind_(match.path_kind),
        value_(match.path),
        case_sensitive_(match.case_sensitive),
        regex_(std::move(regex)) {}

  bool MatchesSlow(absl::string_view path) const;
  bool Equals(absl::string_view a, absl::string_view b) const;

  RouteMatchConfig::PathKind kind_;
  std::string value_;
  bool case_sensitive_;
  std::unique_ptr<const RE2> regex_;  // kSafeRegex only
};

}  // namespace routing
