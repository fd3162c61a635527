#include "routing/route_table.h"

#include <algorithm>
#include <optional>

namespace routing {

std::shared_ptr<const RouteTable> RouteTable::Create(const RouteTableConfig& config,
                                                     ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  std::vector<VirtualHost> virtual_hosts;
  virtual_hosts.reserve(config.virtual_hosts.size());
  for (size_t i = 0; i < config.virtual_hosts.size(); ++i) {
    ValidationErrors::ScopedField field(errors, "virtual_hosts");
    ValidationErrors::ScopedField index(errors, ValidationErrors::Index(i));
    if (std::optional<VirtualHost> vhost = VirtualHost::Create(
            config.virtual_hosts[i], config.max_direct_response_body_size_bytes, errors)) {
      virtual_hosts.push_back(std::move(*vhost));
    }
  }
  DomainMatcher domains = DomainMatcher::Create(config, errors);
  if (errors->errors().size() != errors_before) return nullptr;
  return std::shared_ptr<const RouteTable>(
      new RouteTable(config.name, std::move(virtual_hosts), std::move(domains)));
}

absl::StatusOr<std::shared_ptr<const RouteTable>> RouteTable::Create(
    const RouteTableConfig& config) {
  ValidationErrors errors;
  std::shared_ptr<const RouteTable> table = Create(config, &errors);
  if (table == nullptr) return errors.ToStatus();
  return table;
}

const VirtualHost* RouteTable::FindVirtualHost(absl::string_view authority) const {
  const std::optional<size_t> index = domains_.Find(authority);
  return index.has_value() ? &virtual_hosts_[*index] : nullptr;
}

const Route* RouteTable::Match(const RequestView& request) const {
  const VirtualHost* vhost = FindVirtualHost(request.authority);
  return vhost == nullptr ? nullptr : vhost->Match(request);
}

std::vector<std::string> RouteTable::ReferencedClusters() const {
  std::vector<std::string> clusters;
  for (const VirtualHost& vhost : virtual_hosts_) {
    for (const Route& route : vhost.routes()) {
      const RouteActionConfig* action = route.route_action();
      if (action == nullptr) continue;
      if (action->cluster_specifier == RouteActionConfig::ClusterSpecifier::kCluster) {
        clusters.push_back(action->cluster);
      } else if (action->cluster_specifier ==
                 RouteActionConfig::ClusterSpecifier::kWeightedClusters) {
        for (const auto& entry : action->weighted_clusters.clusters) {
          clusters.push_back(entry.name);
        }
      }
    }
  }
  std::sort(clusters.begin(), clusters.end());
  clusters.erase(std::unique(clusters.begin(), clusters.end()), clusters.end());
  return clusters;
}

}  // namespace routing
