#pragma once

// Cluster (+ its ClusterLoadAssignment) → routing::Cluster, with errors under Envoy field
// paths. EDS reuses TranslateLoadAssignment for the endpoints it delivers.

#include <memory>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "routing/cluster.h"
#include "routing/cluster_config.h"
#include "routing/validation_errors.h"

namespace xds {

// Endpoints of priority 0. `require_ip` for STATIC and EDS clusters (no DNS names).
std::vector<routing::EndpointConfig> TranslateLoadAssignment(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& proto, bool require_ip,
    routing::ValidationErrors* errors);

// Translates and validates; nullptr if any error was added.
std::shared_ptr<const routing::Cluster> TranslateCluster(
    const envoy::config::cluster::v3::Cluster& proto, routing::ValidationErrors* errors);

}  // namespace xds
