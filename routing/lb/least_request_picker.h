#pragma once

// LEAST_REQUEST (Envoy's LeastRequestLoadBalancer), with per-worker active request counts:
//   equal weights: sample choice_count eligible hosts (the first index is random % n, the next
//     ones come from splitmix64 steps seeded with `random`) and keep the one with the fewest
//     active requests, the earliest sample winning ties ("power of two choices" by default);
//   unequal weights: EDF with effective weight = weight / (active + 1) (active_request_bias 1.0),
//     recomputed whenever a host is re-added after a pick, advanced seed % n picks at start.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "routing/lb/edf_scheduler.h"
#include "routing/lb/endpoint_picker.h"

namespace routing::lb {

class LeastRequestPicker : public EndpointPicker {
 public:
  LeastRequestPicker(const std::vector<Host>& hosts, std::vector<size_t> eligible,
                     uint32_t choice_count, uint64_t seed);

  std::optional<size_t> Pick(uint64_t random) override;
  void OnRequestStart(size_t host) override;
  void OnRequestEnd(size_t host) override;

 private:
  double EffectiveWeight(size_t host) const;

  std::vector<size_t> eligible_;
  uint32_t choice_count_;
  std::vector<uint32_t> weights_;    // by host index
  std::vector<uint32_t> active_;     // by host index, this worker's requests only
  std::optional<EdfScheduler> edf_;  // unequal weights; ids are host indices
};

}  // namespace routing::lb
