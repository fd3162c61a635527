#include "routing/regex.h"

#include "absl/strings/str_cat.h"

namespace routing {

std::unique_ptr<const RE2> CompileRegex(absl::string_view pattern, ValidationErrors* errors) {
  auto regex =
      std::make_unique<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), RE2::Quiet);
  if (!regex->ok()) {
    errors->AddError(absl::StrCat("invalid regex: ", regex->error()));
    return nullptr;
  }
  return regex;
}

}  // namespace routing
