#pragma once

// EndpointPicker: per-worker endpoint selection within one cluster, with Envoy's load-balancer
// semantics (load_balancer_impl.cc, edf_scheduler.h; docs "Supported load balancers" and "Panic
// threshold"), for priority 0 only:
//   - hosts with healthy=true are balanced over, unless the cluster is in panic: then all hosts
//     are (see EligibleHosts);
//   - ROUND_ROBIN: equal weights → hosts in turn, starting at seed % n; unequal → EDF scheduler
//     started seed % n picks in, as Envoy staggers workers;
//   - LEAST_REQUEST: equal weights → best of choice_count random choices (fewest active
//     requests; the first sampled wins ties); unequal → EDF with weight / (active + 1);
//   - RANDOM: hosts[random % n], weights ignored (as Envoy).
// Difference from Envoy: LEAST_REQUEST counts the active requests of THIS worker
// (OnRequestStart/End), not the host's global count, so workers need no shared atomics.
//
// Each worker owns its pickers: Pick and the callbacks mutate plain members, no locks, no
// atomics. The random values are the worker's (routing::Random); the picker draws none itself.
// Health or membership changes are applied by building a new picker.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "routing/cluster_config.h"

namespace routing::lb {

struct Host {
  uint32_t weight = 1;
  bool healthy = true;
};

// The indices of the hosts a picker balances over, following Envoy's single-priority panic
// rules: health = min(100, 140 * healthy / total) (overprovisioning factor 1.4). At health 100
// the healthy hosts are used. Otherwise, if 100 * healthy / total < healthy_panic_threshold
// (rounded, capped at 100), the cluster is in panic and ALL hosts are used, else the healthy
// ones. A threshold of 0 disables panic: with no healthy host nothing is eligible.
std::vector<size_t> EligibleHosts(absl::Span<const Host> hosts, double healthy_panic_threshold);

class EndpointPicker {
 public:
  // Builds the picker for `policy` over `hosts` (indices into the proxy's host list). `seed`
  // staggers workers (Envoy seeds each worker's LB randomly).
  static std::unique_ptr<EndpointPicker> Create(const ClusterConfig& config,
                                                std::vector<Host> hosts, uint64_t seed);
  virtual ~EndpointPicker() = default;

  // The index of the chosen host; nullopt: no host available (the proxy answers 503).
  virtual std::optional<size_t> Pick(uint64_t random) = 0;
  // Active request bookkeeping (LEAST_REQUEST); `host` is an index into the hosts given to
  // Create. Every OnRequestStart must be paired with one OnRequestEnd on the same picker.
  virtual void OnRequestStart(size_t /*host*/) {}
  virtual void OnRequestEnd(size_t /*host*/) {}
};

}  // namespace routing::lb
