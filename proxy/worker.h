#pragma once

// Worker: one thread running its own io_context with its own SO_REUSEPORT listener sockets,
// downstream connections, upstream connection pools, endpoint pickers and random generator.
// Nothing here is shared with other workers except the immutable ServingConfig (swapped by
// ApplyConfig, posted from the main thread) and the metrics (per-thread shards), so the request
// path takes no locks.

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "boost/asio/steady_timer.hpp"
#include "proxy/asio_types.h"
#include "proxy/deadline_sweeper.h"
#include "proxy/draining_read.h"
#include "proxy/read_buffer_pool.h"
#include "proxy/serving_config.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/h2_connection.h"
#include "routing/lb/endpoint_picker.h"
#include "routing/random.h"

namespace proxy {

class DownstreamConnection;

// Process-wide flags the main thread sets and workers read (relaxed loads, no read-modify-write).
struct ServerFlags {
  std::atomic<bool> draining{false};             // every response closes its connection
  std::atomic<bool> health_check_failed{false};  // /healthcheck/fail
};

// A worker's view of one cluster: the shared entry plus this worker's picker and idle pool.
struct WorkerCluster {
  std::shared_ptr<const ClusterEntry> entry;
  std::unique_ptr<routing::lb::EndpointPicker> picker;
  upstream::ConnPool pool{0};     // HTTP/1.1 keep-alive connections
  upstream::H2Pool h2_pool{0};    // HTTP/2 connections (clusters that speak it)
  uint64_t generation = 0;  // bumped when picker/pool are rebuilt for new hosts
  int in_flight = 0;        // requests using this object; removal waits for them
  bool removed = false;
};

class Worker {
 public:
  Worker(int index, uint64_t seed, ServerFlags* flags);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();
  // Stops the io_context and joins the thread (after Shutdown was posted and ran).
  void Join();
  boost::asio::io_context& io() { return io_; }
  int index() const { return index_; }

  // Runs `task` on this worker's thread; callable from any thread. The worker's io_context runs
  // without any locking (one thread owns it), so other threads must not use asio::post on it;
  // tasks come through this mailbox instead (a mutex-guarded list plus an eventfd wake-up),
  // which costs a lock only when the main thread has something to say.
  void Post(std::function<void()> task);

  // --- Main thread → worker (through Post) ---
  void ApplyConfig(std::shared_ptr<const ServingConfig> config);
  // Starts accepting on an already bound and listening socket for listener `name`.
  void AddListener(const std::string& name, int fd, bool v6);
  // Stops accepting for listener `name` (removed, or moved to another address by LDS); its
  // connections drain as the next ApplyConfig tells them.
  void RemoveListener(const std::string& name);
  void StopAccepting();
  // Draining began (flags().draining is set): idle connections get a short deadline.
  void StartDrain();
  // Closes every connection and stops the loop.
  void Shutdown();

  // Active downstream connections, readable from any thread.
  int active_connections() const { return active_connections_.load(std::memory_order_relaxed); }

  // --- For connections, on this worker's thread ---
  const std::shared_ptr<const ServingConfig>& config() const { return config_; }
  WorkerCluster* AcquireCluster(absl::string_view name);
  void ReleaseCluster(WorkerCluster* cluster);
  routing::Random& random() { return random_; }
  // A fresh x-request-id (UUID version 4 from this worker's generator), in its 36-character text
  // form; a fixed array, so making one per request allocates nothing.
  using RequestId = std::array<char, 36>;
  RequestId NewRequestId();
  DeadlineSweeper& sweeper() { return sweeper_; }
  PeerCloseWatch& peer_close_watch() { return peer_close_watch_; }
  ReadBufferPool& read_buffers() { return read_buffers_; }
  // The Date header's value, refreshed every tick.
  const std::string& date_header() {
    if (sweeper_.sleeping()) [[unlikely]]
      Wake();
    return date_;
  }
  // The time of the last tick (at most DeadlineSweeper::kTick old): cheap enough to read several
  // times per request, for arming deadlines (measurements read the real clock). Reading it also
  // tells the worker it is busy, so it keeps ticking; an idle worker stops ticking (see Tick) and
  // the first read after that wakes it.
  std::chrono::steady_clock::time_point coarse_now() {
    if (sweeper_.sleeping()) [[unlikely]]
      Wake();
    busy_ = true;
    return coarse_now_;
  }
  const ServerFlags& flags() const { return *flags_; }
  void OnConnectionOpen(DownstreamConnection* connection);
  void OnConnectionClose(DownstreamConnection* connection);

 private:
  void Tick();
  // Arms the next tick: one tick period ahead while busy; otherwise when the earliest deadline or
  // idle upstream timeout is due, or never if nothing is.
  void ScheduleTick(std::chrono::steady_clock::time_point now);
  // Leaves the sleep that ScheduleTick chose: fresh clock and date, ticking again.
  void Wake();
  // When the first idle upstream connection reaches its cluster's idle_timeout.
  std::chrono::steady_clock::time_point NextUpstreamIdleExpiry() const;
  void RefreshDate();
  void WaitForMail();

  const int index_;
  ServerFlags* flags_;
  // One thread runs this io_context and only it touches it (other threads go through Post), so
  // asio's scheduler and reactor need no locks.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  PeerCloseWatch peer_close_watch_{io_.get_executor()};
  ReadBufferPool read_buffers_;
  absl::Mutex mailbox_mu_;
  std::vector<std::function<void()>> mailbox_ ABSL_GUARDED_BY(mailbox_mu_);
  int mailbox_fd_ = -1;  // eventfd
  std::unique_ptr<boost::asio::posix::stream_descriptor> mailbox_wakeup_;
  uint64_t mailbox_read_ = 0;
  std::thread thread_;
  routing::Random random_;
  uint64_t seed_;
  DeadlineSweeper sweeper_{[this] { Wake(); }};
  boost::asio::steady_timer tick_timer_;
  std::string date_;
  bool busy_ = false;  // coarse_now() was read since the last tick
  std::chrono::steady_clock::time_point coarse_now_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point next_upstream_idle_check_;
  std::chrono::system_clock::time_point date_second_;

  std::shared_ptr<const ServingConfig> config_;
  absl::flat_hash_map<std::string, std::unique_ptr<WorkerCluster>> clusters_;
  std::vector<std::unique_ptr<WorkerCluster>> removed_clusters_;  // awaiting in_flight == 0

  struct ListenerSocket {
    std::string name;
    std::shared_ptr<Acceptor> acceptor;  // shared with its accept loop, which outlives a removal
  };
  std::vector<ListenerSocket> acceptors_;
  std::vector<DownstreamConnection*> connections_;
  std::atomic<int> active_connections_{0};
  bool shutting_down_ = false;
};

}  // namespace proxy
