#include "routing/validation_errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace routing {

ValidationErrors::ScopedField::ScopedField(ValidationErrors* errors, std::string_view field)
    : errors_(errors) {
  errors_->fields_.emplace_back(field);
}

ValidationErrors::ScopedField::~ScopedField() { errors_->fields_.pop_back(); }

std::string ValidationErrors::Index(size_t i) { return absl::StrCat("[", i, "]"); }

// absl::string_view is not std::string_view in this abseil build (ABSL_USES_STD_STRING_VIEW=0),
// so std::string_view arguments are converted for absl::StrCat.
std::string ValidationErrors::Key(std::string_view key) {
  return absl::StrCat("[\"", absl::string_view(key.data(), key.size()), "\"]");
}

std::string ValidationErrors::CurrentPath() const {
  std::string path;
  for (const std::string& field : fields_) {
    if (field.empty()) continue;
    if (!path.empty() && field.front() != '[') path.push_back('.');
    path.append(field);
  }
  return path;
}

std::string ValidationErrors::Format(std::string_view message) const {
  std::string path = CurrentPath();
  if (path.empty()) return std::string(message);
  return absl::StrCat(path, ": ", absl::string_view(message.data(), message.size()));
}

void ValidationErrors::AddError(std::string_view message) { errors_.push_back(Format(message)); }

void ValidationErrors::AddWarning(std::string_view message) {
  warnings_.push_back(Format(message));
}

absl::Status ValidationErrors::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
}

}  // namespace routing
