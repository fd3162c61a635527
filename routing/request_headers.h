#pragma once

// Header lookup over a RequestView, the way Envoy's header map answers it: the pseudo headers
// :authority, :path, :method and :scheme come from the view's fields (absent when empty); every
// other name, including other pseudo headers, is looked up in RequestView::headers.

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "routing/request_view.h"

namespace routing {

// Calls `fn` once per value of header `lowercase_name`, in arrival order.
void ForEachHeaderValue(const RequestView& request, absl::string_view lowercase_name,
                        absl::FunctionRef<void(absl::string_view)> fn);

}  // namespace routing
