#include "routing/string_matcher.h"

#include "absl/strings/match.h"
#include "routing/regex.h"

namespace routing {
namespace {

using Kind = StringMatcherConfig::Kind;

const char* FieldName(Kind kind) {
  switch (kind) {
    case Kind::kExact:
      return "exact";
    case Kind::kPrefix:
      return "prefix";
    case Kind::kSuffix:
      return "suffix";
    case Kind::kContains:
      return "contains";
    case Kind::kSafeRegex:
      return "safe_regex";
  }
  return "";
}

}  // namespace

bool StrContainsIgnoreCase(absl::string_view haystack, absl::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (absl::EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::optional<StringMatcher> StringMatcher::Create(const StringMatcherConfig& config,
                                                   ValidationErrors* errors) {
  ValidationErrors::ScopedField field(errors, FieldName(config.kind));
  std::unique_ptr<const RE2> regex;
  switch (config.kind) {
    case Kind::kExact:
      break;
    case Kind::kPrefix:
    case Kind::kSuffix:
    case Kind::kContains:
      // Envoy's proto validation: min_len 1 for these three.
      if (config.value.empty()) {
        errors->AddError("must not be empty");
        return std::nullopt;
      }
      break;
    case Kind::kSafeRegex:
      regex = CompileRegex(config.value, errors);
      if (regex == nullptr) return std::nullopt;
      break;
  }
  return StringMatcher(config, std::move(regex));
}

bool StringMatcher::Matches(absl::string_view value) const {
  switch (kind_) {
    case Kind::kExact:
      return ignore_case_ ? absl::EqualsIgnoreCase(value, value_) : value == value_;
    case Kind::kPrefix:
      return ignore_case_ ? absl::StartsWithIgnoreCase(value, value_)
                          : absl::StartsWith(value, value_);
    case Kind::kSuffix:
      return ignore_case_ ? absl::EndsWithIgnoreCase(value, value_) : absl::EndsWith(value, value_);
    case Kind::kContains:
      return ignore_case_ ? StrContainsIgnoreCase(value, value_) : absl::StrContains(value, value_);
    case Kind::kSafeRegex:
      return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex_);
  }
  return false;
}

}  // namespace routing
