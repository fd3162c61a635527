#pragma once

// Reads a ConfigNode tree as a protobuf message and writes the protobuf JSON for it, so that
// protobuf's own JSON parser (JsonStringToMessage) builds the message afterwards. Along the way
// it does what protobuf's parser cannot do for us: it reports *every* problem with its field path
// (unknown and unsupported fields per support_policy.h, wrong scalar types, two members of a
// oneof, `Any` types outside weir's subset, i.e. extensions weir does not implement), reads YAML
// plain scalars by the schema's type, and drops fields ignored under
// --allow-unknown-static-fields so that the JSON parser never sees them.

#include <string>

#include "google/protobuf/descriptor.h"
#include "routing/validation_errors.h"
#include "xds/config_tree.h"

namespace xds {

struct TreeReadOptions {
  // Envoy's --allow-unknown-static-fields: unknown and unsupported fields become warnings.
  bool allow_unknown_fields = false;
  // Whether weir's support policy (support_policy.h) applies. The xDS server turns it off: it
  // passes on every field of the proto subset, including those weir itself does not implement
  // (Listener.api_listener for gRPC clients); fields outside the subset stay errors.
  bool apply_support_policy = true;
};

// Returns the JSON text for `node` read as `descriptor`. Problems go to `errors` (errors and
// warnings, under the current path of `errors`); the JSON is only meaningful if no error was
// added.
std::string TreeToProtoJson(const ConfigNode& node, const google::protobuf::Descriptor& descriptor,
                            const TreeReadOptions& options, routing::ValidationErrors* errors);

}  // namespace xds
