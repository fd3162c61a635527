#include "routing/path_matcher.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "routing/regex.h"

namespace routing {

using PathKind = RouteMatchConfig::PathKind;

absl::string_view PathWithoutQuery(absl::string_view path) {
  return path.substr(0, path.find_first_of("?#"));
}

std::optional<PathMatcher> PathMatcher::Create(const RouteMatchConfig& match,
                                               ValidationErrors* errors) {
  std::unique_ptr<const RE2> regex;
  switch (match.path_kind) {
    case PathKind::kPrefix:
    case PathKind::kPath:
      break;
    case PathKind::kSafeRegex: {
      ValidationErrors::ScopedField field(errors, "safe_regex");
      regex = CompileRegex(match.path, errors);
      if (regex == nullptr) return std::nullopt;
      break;
    }
    case PathKind::kPathSeparatedPrefix: {
      // Envoy's proto pattern is ^[^?#]+[^?#/]$; we also require the leading '/' that every
      // matchable :path has.
      ValidationErrors::ScopedField field(errors, "path_separated_prefix");
      const size_t errors_before = errors->errors().size();
      if (!absl::StartsWith(match.path, "/")) errors->AddError("must start with '/'");
      if (absl::EndsWith(match.path, "/")) errors->AddError("must not end with '/'");
      if (match.path.find_first_of("?#") != std::string::npos) {
        errors->AddError("must not contain '?' or '#'");
      }
      if (errors->errors().size() != errors_before) return std::nullopt;
      break;
    }
  }
  return PathMatcher(match, std::move(regex));
}

bool PathMatcher::Equals(absl::string_view a, absl::string_view b) const {
  return case_sensitive_ ? a == b : absl::EqualsIgnoreCase(a, b);
}

bool PathMatcher::MatchesSlow(absl::string_view path) const {
  switch (kind_) {
    case PathKind::kPrefix:
      return path.size() >= value_.size() && Equals(path.substr(0, value_.size()), value_);
    case PathKind::kPath:
      return Equals(PathWithoutQuery(path), value_);
    case PathKind::kSafeRegex: {
      const absl::string_view without_query = PathWithoutQuery(path);
      return RE2::FullMatch(re2::StringPiece(without_query.data(), without_query.size()), *regex_);
    }
    case PathKind::kPathSeparatedPrefix: {
      const absl::string_view without_query = PathWithoutQuery(path);
      return without_query.size() >= value_.size() &&
             Equals(without_query.substr(0, value_.size()), value_) &&
             (without_query.size() == value_.size() || without_query[value_.size()] == '/');
    }
  }
  return false;
}

size_t PathMatcher::MatchedLength(absl::string_view path) const {
  switch (kind_) {
    case PathKind::kPrefix:
    case PathKind::kPathSeparatedPrefix:
      return std::min(value_.size(), path.size());
    case PathKind::kPath:
    case PathKind::kSafeRegex:
      return PathWithoutQuery(path).size();
  }
  return 0;
}

}  // namespace routing
