#pragma once

// AdsTestClient: a scripted ADS client for tests of the xDS server, over a real grpc++ channel.
// Requests are written as the test says; responses are read on a thread into a queue, so every
// wait is bounded. Plus builders for small resources and snapshots.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "xds/server/snapshot.h"

namespace xds::server::testing {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

class AdsTestClient {
 public:
  // Opens a StreamAggregatedResources stream to `address` ("127.0.0.1:PORT").
  static std::unique_ptr<AdsTestClient> Connect(const std::string& address,
                                                const std::string& node_id);
  ~AdsTestClient();  // cancels the stream and joins the reader

  // Writes `request`; the first one gets node {id: node_id} unless `with_node` is false.
  bool Send(DiscoveryRequest request, bool with_node = true);
  // Helpers: a request for `type_url` naming `names`, with `version` and `nonce`.
  bool Request(absl::string_view type_url, const std::vector<std::string>& names,
               const std::string& version = "", const std::string& nonce = "");
  bool Ack(const DiscoveryResponse& response, const std::vector<std::string>& names = {});
  bool Nack(const DiscoveryResponse& response, const std::string& version_held,
            const std::string& message, const std::vector<std::string>& names = {});

  // The next response, or nullopt once `timeout` passed or the stream ended.
  std::optional<DiscoveryResponse> Next(absl::Duration timeout = absl::Seconds(5));
  // The stream's status once it ended, or nullopt if it did not within `timeout`.
  std::optional<grpc::Status> WaitForEnd(absl::Duration timeout = absl::Seconds(5));

 private:
  AdsTestClient() = default;
  void ReadLoop();

  std::string node_id_;
  bool node_sent_ = false;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>> stream_;
  std::thread reader_;

  absl::Mutex mu_;
  std::deque<DiscoveryResponse> responses_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
};

// Names of the resources in `response` (their `name`, or `cluster_name` for endpoints).
std::vector<std::string> ResourceNames(const DiscoveryResponse& response);

// Minimal resources: an EDS cluster over ADS, its load assignment (one endpoint on `port`), a
// route configuration sending everything to `cluster`, and a listener whose HTTP connection
// manager uses RDS `route`.
envoy::config::cluster::v3::Cluster Cluster(const std::string& name);
envoy::config::endpoint::v3::ClusterLoadAssignment Endpoints(const std::string& cluster,
                                                             int port = 10000);
envoy::config::route::v3::RouteConfiguration Route(const std::string& name,
                                                   const std::string& cluster);
envoy::config::listener::v3::Listener Listener(const std::string& name, const std::string& route);

// A snapshot holding clusters c1..cN with their endpoints, listener "l1" and route "r1" → c1.
Snapshot MakeSnapshot(const std::string& version, int clusters = 2);

}  // namespace xds::server::testing
