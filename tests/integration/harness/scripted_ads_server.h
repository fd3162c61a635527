#pragma once

// ScriptedAdsServer: an ADS endpoint (envoy.service.discovery.v3.AggregatedDiscoveryService,
// state of the world) with no logic of its own, for testing weir's xDS client one message at a
// time. The test reads every DiscoveryRequest weir sends, in order, and decides what to answer,
// including things a real control plane never sends (unknown type URLs, malformed bytes,
// repeated names), or closes the stream. It listens on 127.0.0.1:0 in-process (grpc++ sync
// server); every wait has a deadline.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "grpcpp/grpcpp.h"

namespace weir_test {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

inline constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kEndpointType[] =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr char kRouteType[] =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

class ScriptedAdsServer {
 public:
  // Listens on `port` (0: an ephemeral port; a fixed one to restart on the same address).
  static absl::StatusOr<std::unique_ptr<ScriptedAdsServer>> Start(uint16_t port = 0);
  ~ScriptedAdsServer();

  uint16_t port() const { return port_; }

  // The next request weir sent (on any stream, in arrival order).
  absl::StatusOr<DiscoveryRequest> NextRequest(absl::Duration timeout = absl::Seconds(5));
  // The next request for `type_url` (requests for other types stay queued).
  absl::StatusOr<DiscoveryRequest> NextRequestFor(const std::string& type_url,
                                                  absl::Duration timeout = absl::Seconds(5));
  // Sends `response` on the current stream. A nonce is filled in ("n1", "n2", ...) when empty,
  // and returned.
  absl::StatusOr<std::string> Send(DiscoveryResponse response);
  // Ends the current stream with `status` (UNAVAILABLE by default).
  void CloseStream(grpc::Status status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "test"));
  // How many streams were opened so far.
  int streams() const;
  // Waits until a stream is open.
  bool WaitForStream(absl::Duration timeout = absl::Seconds(5));

 private:
  class Service;
  ScriptedAdsServer() = default;

  uint16_t port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

// Builds a response of `type_url` with `version` from serialized resources of the same type.
DiscoveryResponse MakeResponse(const std::string& type_url, const std::string& version,
                               const std::vector<std::string>& serialized_resources);

}  // namespace weir_test
