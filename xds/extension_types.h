#pragma once

// The protobuf types weir accepts inside google.protobuf.Any (typed_config and
// typed_extension_protocol_options): the extensions it implements. Listing them explicitly also
// makes sure their generated code is linked in, so the protobuf JSON parser can resolve them.

#include <string_view>

#include "google/protobuf/descriptor.h"

namespace xds {

// The descriptor for full message name `type_name`, or nullptr if weir does not implement it.
const google::protobuf::Descriptor* FindExtensionType(std::string_view type_name);

}  // namespace xds
