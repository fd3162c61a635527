#include "routing/request_headers.h"

namespace routing {
namespace {

// The pseudo header held in a RequestView field, or nullptr if `name` is not one of them.
const absl::string_view* PseudoHeader(const RequestView& request, absl::string_view name) {
  if (name == ":authority") return &request.authority;
  if (name == ":path") return &request.path;
  if (name == ":method") return &request.method;
  if (name == ":scheme") return &request.scheme;
  return nullptr;
}

}  // namespace

void ForEachHeaderValue(const RequestView& request, absl::string_view lowercase_name,
                        absl::FunctionRef<void(absl::string_view)> fn) {
  if (!lowercase_name.empty() && lowercase_name.front() == ':') {
    if (const absl::string_view* value = PseudoHeader(request, lowercase_name)) {
      if (!value->empty()) fn(*value);
      return;
    }
  }
  if (request.headers != nullptr) request.headers->ForEachValue(lowercase_name, fn);
}

}  // namespace routing
