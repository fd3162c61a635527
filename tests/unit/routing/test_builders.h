#pragma once

// Small builders for routing configs in tests: they keep the tables readable. Test-only.

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "routing/route_config.h"

namespace routing::testing {

inline StringMatcherConfig Str(StringMatcherConfig::Kind kind, std::string value,
                               bool ignore_case = false) {
  StringMatcherConfig config;
  config.kind = kind;
  config.value = std::move(value);
  config.ignore_case = ignore_case;
  return config;
}

inline RouteMatchConfig PathMatch(RouteMatchConfig::PathKind kind, std::string path,
                                  bool case_sensitive = true) {
  RouteMatchConfig match;
  match.path_kind = kind;
  match.path = std::move(path);
  match.case_sensitive = case_sensitive;
  return match;
}

inline RouteMatchConfig Prefix(std::string prefix) {
  return PathMatch(RouteMatchConfig::PathKind::kPrefix, std::move(prefix));
}

inline RouteActionConfig ClusterAction(std::string cluster) {
  RouteActionConfig action;
  action.cluster = std::move(cluster);
  return action;
}

inline RouteActionConfig WeightedAction(std::vector<std::pair<std::string, uint32_t>> clusters,
                                        std::string header_name = "") {
  RouteActionConfig action;
  action.cluster_specifier = RouteActionConfig::ClusterSpecifier::kWeightedClusters;
  for (auto& [name, weight] : clusters) {
    WeightedClustersConfig::Entry entry;
    entry.name = std::move(name);
    entry.weight = weight;
    action.weighted_clusters.clusters.push_back(std::move(entry));
  }
  action.weighted_clusters.header_name = std::move(header_name);
  return action;
}

inline RouteConfig MakeRouteConfig(
    RouteMatchConfig match,
    std::variant<RouteActionConfig, RedirectConfig, DirectResponseConfig> action =
        ClusterAction("cluster")) {
  RouteConfig route;
  route.match = std::move(match);
  route.action = std::move(action);
  return route;
}

inline VirtualHostConfig MakeVirtualHost(std::string name, std::vector<std::string> domains,
                                         std::vector<RouteConfig> routes = {}) {
  VirtualHostConfig vhost;
  vhost.name = std::move(name);
  vhost.domains = std::move(domains);
  vhost.routes = std::move(routes);
  return vhost;
}

}  // namespace routing::testing
