#pragma once

// AdsService: envoy.service.discovery.v3.AggregatedDiscoveryService over gRPC's callback API,
// state of the world only (DeltaAggregatedResources answers UNIMPLEMENTED). Each stream is a
// reactor that feeds requests to an AdsStreamState, registers with the SnapshotCache once the
// first request named the node, and writes the responses it owes, one write in flight at a time.
// No thread per stream: reads, writes and snapshot pushes are callbacks. Logs each ACK and NACK
// (info) through spdlog's default logger.

#include "absl/synchronization/mutex.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "xds/server/snapshot_cache.h"

namespace xds::server {

class AdsService final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  // `cache` must outlive the grpc::Server this service is registered with.
  explicit AdsService(SnapshotCache* cache) : cache_(cache) {}

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                          envoy::service::discovery::v3::DiscoveryResponse>*
  StreamAggregatedResources(grpc::CallbackServerContext* context) override;

  // Blocks until every stream this service started has seen OnDone (after grpc::Server::Shutdown
  // cancelled them), so that nothing touches the cache once the caller destroys it.
  void WaitForStreamsDone();

 private:
  class Stream;

  SnapshotCache* cache_;
  absl::Mutex mu_;
  int active_streams_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace xds::server
