#pragma once

// Checks a resource received over xDS against what weir implements, before it is translated:
// the binary counterpart of the support policy that the bootstrap reader applies
// (tree_to_proto_json.h). It walks every field that is set, recursing into messages and into
// `google.protobuf.Any` values:
//   - an Any whose type weir does not implement (or cannot parse) is an error, the NACK Envoy
//     would send for an unknown extension; inside an HttpFilter marked is_optional, a warning;
//   - a field refused by support_policy.h is an error (ignoring it would change what is served);
//   - a field weir does not implement, or one outside weir's proto subset (an unknown field on
//     the wire), is a warning and is ignored: Envoy's default for dynamic config
//     (--reject-unknown-dynamic-fields is off), counted in server.dynamic_unknown_fields.
// Problems go to `errors` under Envoy field paths (filter_chains[0].filters[0].typed_config...).

#include "google/protobuf/message.h"
#include "routing/validation_errors.h"

namespace xds {

void CheckDynamicResource(const google::protobuf::Message& resource,
                          routing::ValidationErrors* errors);

}  // namespace xds
