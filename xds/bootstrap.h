#pragma once

// Loading an Envoy v3 bootstrap file (YAML or JSON) into validated, protobuf-free config:
//
//   file ──LoadConfigFile──► ConfigNode ──TreeToProtoJson──► JSON ──protobuf──► Bootstrap proto
//        ──translate_*──► BootstrapConfig (listeners with compiled route tables, clusters)
//
// Every stage reports all of its problems with field paths; a later stage runs only when the
// earlier ones found no error. This is what `weir --mode validate` prints.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "routing/cluster.h"
#include "xds/listener_config.h"

namespace xds {

// dynamic_resources.ads_config: where the aggregated xDS stream goes.
struct AdsConfig {
  std::string cluster_name;  // envoy_grpc: a static cluster
  std::string target_uri;    // google_grpc
  std::string authority;     // envoy_grpc.authority ("" = the cluster name)
  absl::Duration timeout = absl::ZeroDuration();
  std::vector<std::pair<std::string, std::string>> initial_metadata;
  bool set_node_on_first_message_only = false;
};

struct DynamicResourcesConfig {
  std::optional<AdsConfig> ads;
  bool lds = false;  // listeners over ADS
  bool cds = false;  // clusters over ADS
  absl::Duration lds_initial_fetch_timeout = absl::Seconds(15);
  absl::Duration cds_initial_fetch_timeout = absl::Seconds(15);
};

struct NodeConfig {
  std::string id;
  std::string cluster;
};

struct BootstrapConfig {
  NodeConfig node;
  std::optional<SocketAddress> admin_address;  // no admin listener when absent
  std::vector<ListenerConfig> listeners;
  std::vector<std::shared_ptr<const routing::Cluster>> clusters;
  DynamicResourcesConfig dynamic_resources;
  // The bootstrap as protobuf JSON (unsupported fields removed): for /config_dump, and for the
  // ADS client, which sends the full Node (metadata, locality) to the control plane.
  std::string bootstrap_json;
};

struct BootstrapOptions {
  bool allow_unknown_static_fields = false;  // --allow-unknown-static-fields
  std::string service_node;                  // --service-node: overrides node.id
  std::string service_cluster;               // --service-cluster: overrides node.cluster
};

struct BootstrapResult {
  std::optional<BootstrapConfig> config;  // set iff errors is empty
  std::vector<std::string> errors;        // "field.path: message"
  std::vector<std::string> warnings;
};

BootstrapResult LoadBootstrap(const std::string& path, const BootstrapOptions& options);

// The same, for bootstrap text already in memory (tests); `json` selects the JSON reader.
BootstrapResult ParseBootstrap(std::string_view text, bool json, const BootstrapOptions& options);

}  // namespace xds
