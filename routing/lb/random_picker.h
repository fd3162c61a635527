#pragma once

// RANDOM (Envoy's RandomLoadBalancer): a uniformly random eligible host; weights are ignored.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "routing/lb/endpoint_picker.h"

namespace routing::lb {

class RandomPicker : public EndpointPicker {
 public:
  explicit RandomPicker(std::vector<size_t> eligible) : eligible_(std::move(eligible)) {}

  std::optional<size_t> Pick(uint64_t random) override {
    if (eligible_.empty()) return std::nullopt;
    return eligible_[random % eligible_.size()];
  }

 private:
  std::vector<size_t> eligible_;
};

}  // namespace routing::lb
