#pragma once

// Which fields of Envoy's v3 API weir implements. A field missing here is never silently
// dropped: in a static bootstrap it is an error naming its path (Envoy's default for static
// config), or, with --allow-unknown-static-fields, a warning and the field is ignored. Fields
// whose absence would widen a match or weaken security (a route's runtime_fraction, a filter
// chain's transport_socket, ...) are refused even with that flag. The table is data, listed per
// message, so that adding support for a field is one line here plus its translation.

#include "absl/strings/string_view.h"

namespace xds {

enum class FieldSupport {
  kSupported,    // translated and honoured
  kIgnored,      // accepted with a warning: it has no effect on what weir does (admin.profile_path)
  kUnsupported,  // error; warning + ignored with --allow-unknown-static-fields
  kRefused,      // error even with --allow-unknown-static-fields: ignoring it changes behaviour
};

// `message` is the full protobuf name (envoy.config.route.v3.RouteMatch); `field` the field's
// proto name, whether or not weir's proto subset defines it.
FieldSupport GetFieldSupport(absl::string_view message, absl::string_view field);

}  // namespace xds
