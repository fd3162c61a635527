#pragma once

// XdsServer: a gRPC server on one TCP address serving the ADS service from its own
// SnapshotCache; what tests start in-process and what `weir-xds-server` runs.
//
//   absl::StatusOr<std::unique_ptr<XdsServer>> server = XdsServer::Start({});  // 127.0.0.1:0
//   (*server)->cache().SetSnapshot("node-1", snapshot);
//   ASSERT_TRUE((*server)->cache().WaitForAck("node-1", kClusterType, "v1", absl::Seconds(5)).ok());
//
// Messages of up to `max_message_bytes` go both ways (gRPC's default receive limit is 4 MiB;
// snapshots of tens of MiB must work). Server keepalive pings notice clients that vanished
// without closing their connection, and clients may ping as often as they like.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "xds/server/ads_service.h"
#include "xds/server/snapshot_cache.h"

namespace xds::server {

struct XdsServerOptions {
  std::string address = "127.0.0.1";  // an IP address (IPv6 without brackets)
  uint16_t port = 0;                  // 0: an ephemeral port, see XdsServer::port()
  int max_message_bytes = 256 << 20;
};

class XdsServer {
 public:
  static absl::StatusOr<std::unique_ptr<XdsServer>> Start(const XdsServerOptions& options);
  ~XdsServer();  // Shutdown()
  XdsServer(const XdsServer&) = delete;
  XdsServer& operator=(const XdsServer&) = delete;

  SnapshotCache& cache() { return cache_; }
  uint16_t port() const { return port_; }
  // "127.0.0.1:PORT" ("[::1]:PORT"): a gRPC target and what --address-path files contain.
  const std::string& address() const { return address_; }

  // Cancels every open stream (clients see the stream end and reconnect elsewhere or later)
  // and stops listening; returns once no stream can touch the cache any more. Idempotent.
  void Shutdown();

 private:
  XdsServer() : service_(&cache_) {}

  SnapshotCache cache_;  // declared first: outlives the service and the server
  AdsService service_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
  std::string address_;
  bool shut_down_ = false;
};

}  // namespace xds::server
