#include "routing/lb/endpoint_picker.h"

#include <algorithm>
#include <cmath>

#include "routing/lb/least_request_picker.h"
#include "routing/lb/random_picker.h"
#include "routing/lb/round_robin_picker.h"

namespace routing::lb {

std::vector<size_t> EligibleHosts(absl::Span<const Host> hosts, double healthy_panic_threshold) {
  std::vector<size_t> all;
  std::vector<size_t> healthy;
  for (size_t i = 0; i < hosts.size(); ++i) {
    all.push_back(i);
    if (hosts[i].healthy) healthy.push_back(i);
  }
  if (hosts.empty()) return all;
  // Envoy: per-priority health with the 1.4 overprovisioning factor (integer percent). A single
  // priority at 100% availability is never in panic; below it, panic is judged on the raw
  // healthy percentage against the threshold (LoadBalancerBase::recalculatePerPriorityPanic and
  // isHostSetInPanic).
  const uint64_t health = std::min<uint64_t>(100, 140 * healthy.size() / hosts.size());
  const double threshold = std::min(100.0, std::round(std::max(0.0, healthy_panic_threshold)));
  const double healthy_percent =
      100.0 * static_cast<double>(healthy.size()) / static_cast<double>(hosts.size());
  const bool panic = health < 100 && healthy_percent < threshold;
  return panic ? all : healthy;
}

std::unique_ptr<EndpointPicker> EndpointPicker::Create(const ClusterConfig& config,
                                                       std::vector<Host> hosts, uint64_t seed) {
  std::vector<size_t> eligible = EligibleHosts(hosts, config.healthy_panic_threshold);
  switch (config.lb_policy) {
    case LbPolicy::kRoundRobin:
      return std::make_unique<RoundRobinPicker>(hosts, std::move(eligible), seed);
    case LbPolicy::kLeastRequest:
      return std::make_unique<LeastRequestPicker>(hosts, std::move(eligible),
                                                  config.least_request_choice_count, seed);
    case LbPolicy::kRandom:
      return std::make_unique<RandomPicker>(std::move(eligible));
  }
  return nullptr;
}

}  // namespace routing::lb
