#include "routing/path_rewrite.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "routing/path_matcher.h"
#include "routing/regex.h"

namespace routing {

PathRewrite PathRewrite::Prefix(std::string prefix_rewrite) {
  PathRewrite rewrite;
  rewrite.prefix_ = std::move(prefix_rewrite);
  return rewrite;
}

std::optional<PathRewrite> PathRewrite::Regex(const RegexRewriteConfig& config,
                                              ValidationErrors* errors) {
  std::unique_ptr<const RE2> regex;
  {
    ValidationErrors::ScopedField field(errors, "pattern");
    regex = CompileRegex(config.pattern, errors);
    if (regex == nullptr) return std::nullopt;
  }
  std::string error;
  if (!regex->CheckRewriteString(config.substitution, &error)) {
    ValidationErrors::ScopedField field(errors, "substitution");
    errors->AddError(error);
    return std::nullopt;
  }
  PathRewrite rewrite;
  rewrite.regex_ = std::move(regex);
  rewrite.substitution_ = config.substitution;
  return rewrite;
}

std::string PathRewrite::Apply(absl::string_view path, size_t matched_length) const {
  if (!prefix_.empty()) {
    return absl::StrCat(prefix_, path.substr(std::min(matched_length, path.size())));
  }
  if (regex_ != nullptr) {
    const absl::string_view without_query = PathWithoutQuery(path);
    std::string result(without_query);
    RE2::GlobalReplace(&result, *regex_, substitution_);
    const absl::string_view rest = path.substr(without_query.size());
    result.append(rest.data(), rest.size());
    return result;
  }
  return std::string(path);
}

}  // namespace routing
