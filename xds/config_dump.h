#pragma once

// /config_dump: Envoy's envoy.admin.v3.ConfigDump as JSON: the bootstrap itself, then clusters,
// listeners and route configurations (in Envoy's order), the bootstrap's as static resources and,
// with xDS, the dynamic ones with their version_info, last_updated and active/warming state.

#include <string>

#include "absl/time/time.h"
#include "xds/bootstrap.h"
#include "xds/dynamic_config.h"

namespace xds {

// `dynamic` may be null (no xDS).
std::string RenderConfigDump(const BootstrapConfig& bootstrap, absl::Time loaded_at,
                             const DynamicConfig* dynamic = nullptr);

}  // namespace xds
