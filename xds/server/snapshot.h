#pragma once

// Snapshot: one complete set of xDS resources for a node (listeners, route configurations,
// clusters, cluster load assignments) with the version string clients ACK, as in
// go-control-plane's snapshot cache. Resources are kept packed in google.protobuf.Any, keyed by
// name per type, because that is how they go on the wire; a snapshot is immutable once it is
// handed to the SnapshotCache, so every stream can share it.

#include <array>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"

namespace xds::server {

// The four SotW types, in the order go-control-plane answers them after a snapshot change
// (make-before-break: clusters and their endpoints before the listeners and routes using them).
enum class ResourceType { kCluster = 0, kEndpoint = 1, kListener = 2, kRoute = 3 };
inline constexpr std::array<ResourceType, 4> kResourceTypes = {
    ResourceType::kCluster, ResourceType::kEndpoint, ResourceType::kListener, ResourceType::kRoute};

inline constexpr absl::string_view kClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr absl::string_view kEndpointType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr absl::string_view kListenerType =
    "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr absl::string_view kRouteType =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

absl::string_view TypeUrl(ResourceType type);
std::optional<ResourceType> ResourceTypeFromUrl(absl::string_view type_url);
// "CDS", "EDS", "LDS", "RDS": for logs.
absl::string_view ShortName(ResourceType type);
// LDS and CDS are state-of-the-world types: every response carries all subscribed resources, and
// an empty first request means "all" (the legacy wildcard).
inline bool IsFullStateType(ResourceType type) {
  return type == ResourceType::kCluster || type == ResourceType::kListener;
}

struct Snapshot {
  using Resources = std::map<std::string, google::protobuf::Any>;  // by resource name

  std::string version;
  std::array<Resources, 4> resources;  // indexed by ResourceType

  Resources& Of(ResourceType type) { return resources[static_cast<int>(type)]; }
  const Resources& Of(ResourceType type) const { return resources[static_cast<int>(type)]; }

  // Adds `message` (a Listener, RouteConfiguration, Cluster or ClusterLoadAssignment) under its
  // name (`cluster_name` for a ClusterLoadAssignment). Fails on another message type, an empty
  // name, or a name already present for that type.
  absl::Status Add(const google::protobuf::Message& message);

  // go-control-plane's Snapshot.Consistent(), with every problem listed: the route
  // configurations are exactly those named by HttpConnectionManager.rds in the listeners
  // (filter chains and api_listener), and the load assignments exactly those of the EDS clusters
  // (eds_cluster_config.service_name, else the cluster name). SetSnapshot does not require it, so
  // tests can serve inconsistent config on purpose.
  absl::Status Validate() const;
};

}  // namespace xds::server
