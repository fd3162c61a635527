#pragma once

// DynamicConfig: the configuration as the xDS client knows it, i.e. the bootstrap's static
// resources plus the listeners, route configurations, clusters and endpoints received over ADS,
// with Envoy's state-of-the-world rules (envoy-compat.md §2):
//   - LDS and CDS responses carry the full set: a listener or cluster missing from one is removed;
//     RDS and EDS responses may carry a subset and only resources weir asked for are read.
//   - Warming: a new EDS cluster is used once its ClusterLoadAssignment arrived, a new listener
//     with `rds` once its RouteConfiguration arrived, or either after its initial_fetch_timeout
//     (then with no endpoints / no routes). While a changed resource warms, the version already
//     serving keeps serving.
//   - A resource whose bytes did not change keeps its compiled form, so unchanged clusters keep
//     their identity (and the proxy its upstream connections to them).
//
// Updates are transactional: Prepare() validates and translates one response's resources into a
// candidate state (unchanged resources are shared, not copied) and the ConfigSnapshot it yields,
// and nothing changes until Commit(). The caller applies the snapshot (binds listener sockets,
// publishes to workers) and ACKs, or NACKs and keeps the state it had. Single-threaded: the
// owner's (the proxy's main) thread. The header is protobuf-free; resources travel as the
// serialized bytes of their Any.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "xds/bootstrap.h"
#include "xds/config_snapshot.h"

namespace xds {

// The order is the one a management server pushes in (CDS, EDS, LDS, RDS).
enum class ResourceType { kCluster = 0, kEndpoints = 1, kListener = 2, kRoute = 3 };
inline constexpr std::array<ResourceType, 4> kResourceTypes = {
    ResourceType::kCluster, ResourceType::kEndpoints, ResourceType::kListener,
    ResourceType::kRoute};

// type.googleapis.com/envoy.config.cluster.v3.Cluster, ...
absl::string_view TypeUrl(ResourceType type);
std::optional<ResourceType> ResourceTypeFromUrl(absl::string_view type_url);
// "cds", "eds", "lds", "rds".
absl::string_view ShortName(ResourceType type);
// Whether requests for the type are wildcard (LDS, CDS) rather than named (RDS, EDS).
inline bool IsWildcard(ResourceType type) {
  return type == ResourceType::kCluster || type == ResourceType::kListener;
}

// One resource of a DiscoveryResponse: its Any's type URL and value.
struct RawResource {
  std::string type_url;
  std::string value;
};

class DynamicConfig {
 public:
  struct State;

  // The outcome of Prepare()/Refresh(). When `status` is OK, `snapshot` is what the proxy should
  // serve if it commits `state`.
  struct Prepared {
    // Out of line: State is only complete in the .cc.
    Prepared();
    ~Prepared();
    Prepared(Prepared&&) noexcept;
    Prepared& operator=(Prepared&&) noexcept;

    absl::Status status;  // InvalidArgument with one problem per line: NACK it
    std::unique_ptr<State> state;
    std::shared_ptr<const ConfigSnapshot> snapshot;
    std::vector<std::string> warnings;
    // Names of the resources the response carried that weir asked for (for per-resource stats:
    // EDS cluster service names, RDS route configuration names).
    std::vector<std::string> names;
    bool changed = false;  // whether the snapshot differs from the one serving now
  };

  // Information about one dynamic resource, for /config_dump.
  struct ResourceInfo {
    std::string name;
    std::string version;
    absl::Time last_updated;
    std::string type_url;
    std::string value;     // the resource's serialized bytes
    bool warming = false;  // received, but not serving yet
  };

  DynamicConfig(const BootstrapConfig& bootstrap, absl::Time now);
  ~DynamicConfig();
  DynamicConfig(const DynamicConfig&) = delete;
  DynamicConfig& operator=(const DynamicConfig&) = delete;

  // Validates and translates `resources` as a response of `type` with `version`.
  Prepared Prepare(ResourceType type, const std::string& version,
                   const std::vector<RawResource>& resources, absl::Time now) const;
  // The current state rebuilt at `now`: resources whose initial_fetch_timeout passed stop
  // warming.
  Prepared Refresh(absl::Time now) const;
  // Makes a prepared state (and its snapshot) current.
  void Commit(Prepared prepared);

  // The snapshot of the current state (the static resources until something arrives).
  const std::shared_ptr<const ConfigSnapshot>& snapshot() const { return snapshot_; }
  // The last version accepted for `type` ("" if none).
  const std::string& version(ResourceType type) const;
  // When the last version of `type` was accepted (InfinitePast if never).
  absl::Time last_updated(ResourceType type) const;
  // The resource names to request for RDS and EDS (sorted): every route configuration named by
  // a listener's `rds` and every EDS cluster's service name, static or dynamic, serving or
  // warming. Empty for the wildcard types.
  std::vector<std::string> SubscriptionNames(ResourceType type) const;
  // Whether some EDS cluster (kEndpoints) or RDS listener (kRoute) still waits for its first
  // resource, and when the earliest initial_fetch_timeout among them passes (nullopt: none
  // waits, or all wait forever).
  bool Warming(ResourceType type) const;
  std::optional<absl::Time> NextWarmingDeadline() const;
  // The clusters whose endpoints come from EDS service `service_name` (usually one).
  std::vector<std::string> ClustersForService(absl::string_view service_name) const;
  // The HTTP connection managers' stat prefixes that use route configuration `name`.
  std::vector<std::string> StatPrefixesForRoute(absl::string_view name) const;

  std::vector<ResourceInfo> Resources(ResourceType type) const;

 private:
  Prepared Finish(std::unique_ptr<State> state, absl::Time now,
                  std::vector<std::string> errors) const;

  const BootstrapConfig& bootstrap_;
  // Static EDS clusters' initial_fetch_timeout, which BootstrapConfig does not carry.
  absl::flat_hash_map<std::string, absl::Duration> static_eds_timeouts_;
  std::unique_ptr<State> state_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;
};

}  // namespace xds
