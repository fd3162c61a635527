#pragma once

// Cluster: the validated, immutable form of one upstream cluster (Envoy's Cluster plus its
// ClusterLoadAssignment, priority 0). xds/ creates it from CDS/EDS or bootstrap config; the proxy
// shares it between workers, builds each worker's lb::EndpointPicker from LbHosts(), and does the
// DNS resolution and connection pooling itself (no I/O here).
//
// An empty cluster is valid: the proxy answers 503 "no healthy upstream".

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "routing/cluster_config.h"
#include "routing/lb/endpoint_picker.h"
#include "routing/validation_errors.h"

namespace routing {

class Cluster {
 public:
  // Validates `config`, adding errors under field paths relative to the Cluster resource with
  // Envoy's field names where they exist ("connect_timeout", "common_lb_config.
  // healthy_panic_threshold", ...); endpoints are reported as "endpoints[i].address" and so on,
  // which xds/ maps to load_assignment paths. Returns nullptr if any error was added.
  static std::shared_ptr<const Cluster> Create(const ClusterConfig& config,
                                               ValidationErrors* errors);
  // The same, with all errors in one InvalidArgument status (one per line).
  static absl::StatusOr<std::shared_ptr<const Cluster>> Create(const ClusterConfig& config);

  const ClusterConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  const std::vector<EndpointConfig>& endpoints() const { return config_.endpoints; }

  // The endpoints as load-balancer hosts, index for index. healthy follows the EDS health
  // status as Envoy does for HEALTHY, UNKNOWN (healthy) and UNHEALTHY, DRAINING, TIMEOUT (not
  // healthy). DEGRADED counts as not healthy: weir has no separate degraded tier, so degraded
  // hosts only take traffic in panic mode.
  std::vector<lb::Host> LbHosts() const;

 private:
  explicit Cluster(ClusterConfig config) : config_(std::move(config)) {}

  ClusterConfig config_;
};

}  // namespace routing
