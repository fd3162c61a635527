#pragma once

// AdsClient: weir's xDS client. It keeps one StreamAggregatedResources stream (gRPC, state of
// the world) to the management server named by the bootstrap's ads_config and follows
// envoy-compat.md §2:
//   - CDS and LDS are wildcard subscriptions; EDS and RDS requests name every resource the
//     clusters and listeners reference, all in one request, re-sent whenever that set changes.
//   - Start-up order as Envoy's: CDS, then EDS for its clusters; once they arrived (or their
//     initial_fetch_timeout passed) LDS, then RDS. Then `initialized` runs and listeners accept.
//   - Every response is validated and compiled into a ConfigSnapshot (DynamicConfig) and handed
//     to `apply` before it is ACKed with its version and nonce. A response that fails either
//     step is NACKed with the last accepted version, the nonce and an error_detail naming each
//     resource and field path; the config in use does not change.
//   - When the stream fails, the config in use stays; the client reconnects with jittered
//     exponential backoff (0.5 s doubling to 30 s, reset by any received message) and
//     resubscribes with the versions it holds.
// Stats use Envoy's names: control_plane.connected_state, cluster_manager.cds.*,
// listener_manager.lds.*, cluster.<name>.update_* (EDS), http.<prefix>.rds.<name>.*.
//
// Threading: everything but gRPC's callbacks runs on the owner's thread (the proxy's main
// thread); the callbacks only hand messages over through `Hooks::post`. The stream uses gRPC's
// callback API, so no thread of ours blocks on it.

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "stats/store.h"
#include "xds/bootstrap.h"
#include "xds/config_snapshot.h"
#include "xds/dynamic_config.h"

namespace envoy::service::discovery::v3 {
class DiscoveryResponse;
}  // namespace envoy::service::discovery::v3

namespace xds {

class AdsClient {
 public:
  struct Hooks {
    // Runs `task` on the owner's thread. Called from gRPC's threads too.
    std::function<void(std::function<void()>)> post;
    // Runs `task` on the owner's thread after `delay`. Tasks still pending when the owner stops
    // its loop are dropped, not run.
    std::function<void(absl::Duration, std::function<void()>)> post_after;
    // Serves `snapshot`: binds new listeners' sockets and publishes it to the workers. An error
    // (a listener address that cannot be bound) rejects the update, which is then NACKed.
    std::function<absl::Status(std::shared_ptr<const ConfigSnapshot>)> apply;
    // The initial fetch is over (answered or timed out): the proxy may start accepting.
    std::function<void()> initialized;
  };

  // `bootstrap` and `config` must outlive the client. `bootstrap.dynamic_resources.ads` must be
  // set.
  AdsClient(const BootstrapConfig& bootstrap, DynamicConfig* config, stats::Store* store,
            Hooks hooks);
  ~AdsClient();  // calls Shutdown()
  AdsClient(const AdsClient&) = delete;
  AdsClient& operator=(const AdsClient&) = delete;

  // Opens the stream and starts the initial fetch.
  void Start();
  // Cancels the stream and waits (bounded) until gRPC is done with it. No hook runs afterwards
  // except tasks already posted.
  void Shutdown();

  // The gRPC target the client connects to ("ipv4:127.0.0.1:18000", "dns:///xds:18000", ...).
  const std::string& target() const { return target_; }

 private:
  class Stream;
  struct Channel;
  struct TypeState;
  struct SubscriptionStats;

  void ArmInitialFetchTimeout(ResourceType type, absl::Duration timeout);
  void Connect();
  // The stream `stream_id` reached the server (its first request went out or a response came).
  void OnStreamReady(uint64_t stream_id);
  void OnResponse(uint64_t stream_id,
                  std::shared_ptr<envoy::service::discovery::v3::DiscoveryResponse> response);
  void OnStreamClosed(uint64_t stream_id, absl::Status status);
  // Sends the subscription of `type`: the version held, the latest nonce, the names wanted
  // (EDS, RDS) and, for a NACK, `error_detail`.
  void SendRequest(ResourceType type, const std::string& error_detail = "");
  void SendUnknownTypeNack(const std::string& type_url, const std::string& nonce);
  // Re-sends the EDS and RDS subscriptions whose set of names changed.
  void UpdateNamedSubscriptions();
  // Rebuilds the config when the next warming resource's initial_fetch_timeout passes.
  void ScheduleWarmingCheck();
  void CheckInitialization();
  SubscriptionStats& StatsFor(ResourceType type);
  // The per-resource stats a response's resource `name` counts in: cluster.<cluster>. for EDS,
  // http.<prefix>.rds.<name>. for RDS.
  std::vector<SubscriptionStats*> NamedStatsFor(ResourceType type, const std::string& name);
  SubscriptionStats& NamedStats(const std::string& prefix, bool rds = false);

  const BootstrapConfig& bootstrap_;
  DynamicConfig* config_;
  stats::Store* store_;
  Hooks hooks_;
  std::string target_;
  absl::Status target_error_;
  std::string node_bytes_;  // the serialized Node, sent on the first request of a stream
  std::unique_ptr<Channel> channel_;

  std::unique_ptr<Stream> stream_;
  uint64_t stream_count_ = 0;
  bool first_request_ = true;
  std::map<ResourceType, std::unique_ptr<TypeState>> types_;
  int backoff_attempt_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
  uint64_t warming_check_generation_ = 0;
  bool initialized_ = false;
  bool lds_started_ = false;
  bool shutting_down_ = false;

  stats::Gauge* connected_state_ = nullptr;
  stats::TextReadout* identifier_ = nullptr;
  std::map<std::string, std::unique_ptr<SubscriptionStats>> stats_;
};

}  // namespace xds
