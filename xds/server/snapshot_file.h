#pragma once

// The snapshot file: Envoy resources in their JSON/YAML form, so that a person can drive a fleet
// of proxies by editing one file.
//
//   version: "7"        # optional; default: a hash of the resources' content
//   nodes: ["*"]        # optional; the node ids served this snapshot ("*": every node without
//                       # a snapshot of its own; the default)
//   resources:
//     listeners: [...]  # envoy.config.listener.v3.Listener
//     routes: [...]     # envoy.config.route.v3.RouteConfiguration
//     clusters: [...]   # envoy.config.cluster.v3.Cluster
//     endpoints: [...]  # envoy.config.endpoint.v3.ClusterLoadAssignment
//
// Resources are read with weir's schema-guided reader (tree_to_proto_json.h) against the proto
// subset, without weir's support policy: every field of the subset passes through, including
// those weir itself does not implement (api_listener, for gRPC clients). Every error names its
// field path (resources.clusters[1].load_assignment...). An inconsistent snapshot (routes or
// endpoints nobody references, or references to missing ones; Snapshot::Validate) is a warning,
// not an error, so a file can serve broken config on purpose.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xds/server/snapshot.h"

namespace xds::server {

struct SnapshotFile {
  std::vector<std::string> nodes;
  Snapshot snapshot;
  std::vector<std::string> warnings;  // with field paths, like the errors
};

// By extension: .json as JSON, .yaml/.yml as YAML. InvalidArgument lists every error, one per
// line.
absl::StatusOr<SnapshotFile> LoadSnapshotFile(const std::string& path);
absl::StatusOr<SnapshotFile> ParseSnapshotFile(absl::string_view text, bool json);

}  // namespace xds::server
