#pragma once

// PathRewrite: prefix_rewrite and regex_rewrite, shared by route actions and redirects, applied
// as Envoy's RouteEntryImplBase::currentUrlPathAfterRewriteWithMatchedPath does:
//   prefix_rewrite  the matched part of the :path (PathMatcher::MatchedLength) is replaced, the
//                   rest (query included) kept;
//   regex_rewrite   every match in the path without query/fragment is replaced (RE2 GlobalReplace,
//                   \1-style groups in the substitution), the query/fragment kept.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "routing/route_config.h"
#include "routing/validation_errors.h"

namespace routing {

class PathRewrite {
 public:
  // No rewrite: Apply returns the path unchanged.
  PathRewrite() = default;

  static PathRewrite Prefix(std::string prefix_rewrite);
  // Errors are added beneath the current path at "pattern" ("invalid regex: ...") or
  // "substitution" (a \N group the pattern does not have, a bad escape).
  static std::optional<PathRewrite> Regex(const RegexRewriteConfig& config,
                                          ValidationErrors* errors);

  bool empty() const { return prefix_.empty() && regex_ == nullptr; }

  // `path` is the full :path of a request the route matched; `matched_length` is
  // PathMatcher::MatchedLength(path).
  std::string Apply(absl::string_view path, size_t matched_length) const;

 private:
  std::string prefix_;
  std::shared_ptr<const RE2> regex_;  // shared: a PathRewrite stays copyable
  std::string substitution_;
};

}  // namespace routing
