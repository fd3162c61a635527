#pragma once

// /config_dump: Envoy's envoy.admin.v3.ConfigDump as JSON, for a static bootstrap: the bootstrap
// itself, then its clusters, listeners and route configurations as static resources, each with
// last_updated (in Envoy's order: bootstrap, clusters, listeners, routes).

#include <string>

#include "absl/time/time.h"
#include "xds/bootstrap.h"

namespace xds {

std::string RenderConfigDump(const BootstrapConfig& bootstrap, absl::Time loaded_at);

}  // namespace xds
