#pragma once

// ConfigSnapshot is everything a worker needs to serve traffic, frozen: listeners (with their
// compiled route tables) and compiled clusters, plus a version. It is built on the main thread
// from a bootstrap (and, with xDS, from the resources a control plane sends), then shared with
// every worker as std::shared_ptr<const ConfigSnapshot>; a request keeps the snapshot it started
// with, so a config change never affects requests in flight. Nothing in it mutates.

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "routing/cluster.h"
#include "xds/bootstrap.h"
#include "xds/listener_config.h"

namespace xds {

class ConfigSnapshot {
 public:
  ConfigSnapshot(std::string version, std::vector<ListenerConfig> listeners,
                 std::vector<std::shared_ptr<const routing::Cluster>> clusters);

  // The static part of a bootstrap, as version "static".
  static std::shared_ptr<const ConfigSnapshot> FromBootstrap(const BootstrapConfig& bootstrap);

  const std::string& version() const { return version_; }
  const std::vector<ListenerConfig>& listeners() const { return listeners_; }
  const std::vector<std::shared_ptr<const routing::Cluster>>& clusters() const {
    return clusters_;
  }
  // nullptr when no cluster has that name (the proxy answers cluster_not_found_response_code).
  const routing::Cluster* FindCluster(absl::string_view name) const;

 private:
  std::string version_;
  std::vector<ListenerConfig> listeners_;
  std::vector<std::shared_ptr<const routing::Cluster>> clusters_;
  absl::flat_hash_map<std::string, const routing::Cluster*> clusters_by_name_;
};

}  // namespace xds
