#pragma once

// ROUND_ROBIN (Envoy's RoundRobinLoadBalancer): with equal weights the eligible hosts in turn,
// starting at seed % n; with unequal weights an EDF schedule over the fixed weights, advanced
// seed % n picks at construction so that workers do not move in lockstep.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "routing/lb/edf_scheduler.h"
#include "routing/lb/endpoint_picker.h"

namespace routing::lb {

class RoundRobinPicker : public EndpointPicker {
 public:
  RoundRobinPicker(const std::vector<Host>& hosts, std::vector<size_t> eligible, uint64_t seed);

  std::optional<size_t> Pick(uint64_t random) override;

 private:
  std::vector<size_t> eligible_;
  uint64_t next_ = 0;                // equal weights
  std::optional<EdfScheduler> edf_;  // unequal weights; ids are host indices
  std::vector<uint32_t> weights_;    // by host index, for the EDF
};

}  // namespace routing::lb
