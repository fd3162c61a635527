#include "xds/config_snapshot.h"

namespace xds {

ConfigSnapshot::ConfigSnapshot(std::string version, std::vector<ListenerConfig> listeners,
                               std::vector<std::shared_ptr<const routing::Cluster>> clusters)
    : version_(std::move(version)),
      listeners_(std::move(listeners)),
      clusters_(std::move(clusters)) {
  for (const auto& cluster : clusters_) {
    clusters_by_name_.emplace(cluster->config().name, cluster.get());
  }
}

std::shared_ptr<const ConfigSnapshot> ConfigSnapshot::FromBootstrap(
    const BootstrapConfig& bootstrap) {
  return std::make_shared<const ConfigSnapshot>("static", bootstrap.listeners, bootstrap.clusters);
}

const routing::Cluster* ConfigSnapshot::FindCluster(absl::string_view name) const {
  auto it = clusters_by_name_.find(name);
  return it == clusters_by_name_.end() ? nullptr : it->second;
}

}  // namespace xds
