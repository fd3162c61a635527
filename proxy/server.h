#pragma once

// Server: the main thread. It owns the metrics store, the workers and their listener sockets,
// the admin listener, DNS resolution for STRICT_DNS/LOGICAL_DNS clusters, the xDS client,
// signals and the drain sequence, and publishes ServingConfig to the workers (through their
// mailboxes; workers never lock). Every config change, from the bootstrap, xDS or DNS, goes
// through ApplySnapshot: bind the sockets of new listeners (a failure rejects the change), then
// publish, then hand the sockets to the workers and retire removed listeners.
//
// Lifecycle: PRE_INITIALIZING (admin up; first DNS round and the xDS initial fetch in flight) →
// LIVE (listeners accept) →
// DRAINING (SIGTERM or /drain_listeners: /ready says 503, every response closes its connection,
// idle connections close within a second, listeners keep accepting for a short grace period so
// clients that reconnect are not refused, then stop) → exit when no connection is left, or at
// --drain-time-s at the latest.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "proxy/admin/admin_server.h"
#include "proxy/options.h"
#include "proxy/proxy_stats.h"
#include "proxy/serving_config.h"
#include "proxy/worker.h"
#include "stats/store.h"
#include "xds/ads_client.h"
#include "xds/bootstrap.h"
#include "xds/dynamic_config.h"

namespace proxy {

class Server {
 public:
  enum class State { kLive = 0, kDraining = 1, kPreInitializing = 2, kInitializing = 3 };

  Server(Options options, xds::BootstrapConfig bootstrap);
  ~Server();

  // Runs until shutdown; returns the process exit code.
  int Run();

 private:
  struct BoundListener {
    std::string name;
    xds::SocketAddress address;  // as configured (port 0: ephemeral)
    boost::asio::ip::tcp::endpoint endpoint;  // as bound
  };
  struct DnsCluster;
  // A bound socket not yet handed to its worker (before LIVE, or until the config naming the
  // listener is published).
  struct PendingListener {
    Worker* worker;
    std::string name;
    int fd;
    bool v6;
  };

  // Serves `snapshot`: binds new listeners (an error changes nothing), publishes, and moves
  // listener sockets in and out of the workers.
  absl::Status ApplySnapshot(std::shared_ptr<const xds::ConfigSnapshot> snapshot);
  absl::Status BindListener(const xds::ListenerConfig& listener, BoundListener* bound,
                            std::vector<PendingListener>* fds);
  void HandOverListeners();
  absl::Status StartAdmin();
  void RegisterAdminHandlers();
  std::shared_ptr<const ServingConfig> BuildServingConfig();
  void Publish(std::shared_ptr<const ServingConfig> config);
  void CountConfigChanges(const xds::ConfigSnapshot& before, const xds::ConfigSnapshot& after);
  void StartAds();
  // Starts, restarts or stops DNS resolution to match the snapshot's DNS clusters.
  void ReconcileDns();
  void ResolveCluster(const std::string& name);
  void OnDnsResolved(const std::string& name, uint64_t id, std::vector<UpstreamHost> hosts);
  void MaybeFinishInitialization();
  void FinishInitialization();
  void StartDrain(bool exit_when_done, absl::Duration grace);
  void CheckDrain();
  void StopAccepting();
  void Shutdown();
  State state() const;
  void UpdateServerStats();

  Options options_;
  xds::BootstrapConfig bootstrap_;
  absl::Time started_ = absl::Now();
  boost::asio::io_context io_{1};
  stats::Store store_;
  ServerStats server_stats_;
  ManagerStats manager_stats_;
  ServerFlags flags_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<BoundListener> bound_listeners_;
  admin::AdminServer admin_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer init_timer_;
  boost::asio::steady_timer drain_timer_;

  std::unique_ptr<xds::DynamicConfig> dynamic_;
  // After io_: destroyed first, while the io_context its hooks post to still exists.
  std::unique_ptr<xds::AdsClient> ads_;
  std::shared_ptr<const xds::ConfigSnapshot> snapshot_;
  absl::flat_hash_map<std::string, std::unique_ptr<ClusterStats>> cluster_stats_;
  absl::flat_hash_map<std::string, std::unique_ptr<HttpStats>> http_stats_;
  absl::flat_hash_map<std::string, std::unique_ptr<ListenerStats>> listener_stats_;
  absl::flat_hash_map<std::string, std::shared_ptr<const ClusterEntry>> cluster_entries_;
  std::shared_ptr<const ServingConfig> serving_;
  absl::flat_hash_map<std::string, std::unique_ptr<DnsCluster>> dns_clusters_;
  uint64_t dns_ids_ = 0;

  bool initialized_ = false;
  bool ads_initialized_ = false;
  bool dns_init_timed_out_ = false;
  bool draining_ = false;
  bool exit_after_drain_ = false;
  bool accepting_stopped_ = false;
  bool shutting_down_ = false;
  std::chrono::steady_clock::time_point drain_started_;
  std::chrono::steady_clock::time_point last_busy_;
  std::chrono::steady_clock::duration drain_grace_{};
  std::vector<PendingListener> pending_listener_fds_;
  int exit_code_ = 0;
};

}  // namespace proxy
