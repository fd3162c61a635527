#pragma once

// The xDS server's status endpoint: what each node has ACKed and NACKed, for tests and operators
// who should not have to parse logs.
//
//   GET /status → {"nodes": {"<node id>": {"connected": 1, "snapshot_version": "7",
//                  "types": {"<type url>": {"acked_version": "7", "nacked_version": "6",
//                  "error_detail": "...", "last_nonce": "12", "sent_version": "7",
//                  "acks": 3, "nacks": 1}}}}}
//
// StatusServer is a deliberately minimal HTTP/1.1 listener (one request per connection, served
// in turn on one thread, GET only) built on POSIX sockets: xds/ may not depend on asio/Beast
// (tests/check_layering.sh), and weir's admin server lives in proxy/, which xds must not use.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "xds/server/snapshot_cache.h"

namespace xds::server {

// The body of GET /status for `cache`.
std::string RenderStatusJson(const SnapshotCache& cache);

class StatusServer {
 public:
  // Serves GET /status with `cache`'s status on address:port (0: ephemeral).
  static absl::StatusOr<std::unique_ptr<StatusServer>> Start(const std::string& address,
                                                             uint16_t port,
                                                             const SnapshotCache* cache);
  ~StatusServer();  // stops accepting and joins the thread
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"

 private:
  explicit StatusServer(const SnapshotCache* cache) : cache_(cache) {}
  void Run();
  void Serve(int fd);

  const SnapshotCache* const cache_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  uint16_t port_ = 0;
  std::string address_;
  std::thread thread_;
};

}  // namespace xds::server
