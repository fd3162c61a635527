#pragma once

// Compiles the RE2 patterns of a configuration (safe_regex matchers, regex_rewrite) the way
// Envoy's google_re2 engine does: RE2 syntax, UTF-8, errors reported instead of logged. A failed
// compile becomes a validation error "invalid regex: <RE2 error>" at the caller's field path.

#include <memory>

#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "routing/validation_errors.h"

namespace routing {

// Returns the compiled pattern, or nullptr after adding an error to `errors`.
std::unique_ptr<const RE2> CompileRegex(absl::string_view pattern, ValidationErrors* errors);

}  // namespace routing
