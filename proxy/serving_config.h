#pragma once

// ServingConfig: what every worker serves from, published by the main thread as one immutable
// object. It wraps the xds::ConfigSnapshot with the proxy-side state that goes with it: each
// cluster's resolved hosts (DNS) and metrics, and each listener's metrics and compiled health
// check. A worker swaps its pointer when a new one arrives; a request keeps the one it started
// with.

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "boost/asio/ip/tcp.hpp"
#include "proxy/proxy_stats.h"
#include "routing/cluster.h"
#include "routing/header_matcher.h"
#include "xds/config_snapshot.h"

namespace proxy {

// One upstream host of a cluster (an endpoint, or one address a DNS name resolved to).
struct UpstreamHost {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string address;   // "10.0.0.1:80", for /clusters and logs
  std::string hostname;  // Endpoint.hostname, or the DNS name it came from
  uint32_t weight = 1;
  bool healthy = true;
};

// A cluster with its current hosts. Replaced whole when the hosts change.
struct ClusterEntry {
  std::shared_ptr<const routing::Cluster> cluster;
  std::vector<UpstreamHost> hosts;
  ClusterStats* stats = nullptr;  // owned by the Server, lives for the process
  uint64_t hosts_version = 0;     // bumped on every host change
};

struct ListenerEntry {
  const xds::ListenerConfig* config = nullptr;  // points into ServingConfig::snapshot
  HttpStats* http = nullptr;
  ListenerStats* listener = nullptr;
  std::vector<routing::HeaderMatcher> health_check_headers;  // envoy.filters.http.health_check
};

struct ServingConfig {
  std::shared_ptr<const xds::ConfigSnapshot> snapshot;
  absl::flat_hash_map<std::string, std::shared_ptr<const ClusterEntry>> clusters;
  // By listener name: connections find their listener by name, because LDS adds and removes
  // listeners between snapshots.
  absl::flat_hash_map<std::string, ListenerEntry> listeners;

  const ClusterEntry* FindCluster(absl::string_view name) const {
    auto it = clusters.find(name);
    return it == clusters.end() ? nullptr : it->second.get();
  }
  const ListenerEntry* FindListener(absl::string_view name) const {
    auto it = listeners.find(name);
    return it == listeners.end() ? nullptr : &it->second;
  }
};

}  // namespace proxy
