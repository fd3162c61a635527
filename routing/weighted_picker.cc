#include "routing/weighted_picker.h"

namespace routing {

absl::StatusOr<WeightedPicker> WeightedPicker::Create(absl::Span<const uint32_t> weights) {
  if (weights.empty()) return absl::InvalidArgumentError("no weights");
  std::vector<uint64_t> ends;
  ends.reserve(weights.size());
  uint64_t total = 0;
  for (uint32_t weight : weights) {
    total += weight;
    ends.push_back(total);
  }
  if (total == 0) return absl::InvalidArgumentError("sum of weights must be greater than 0");
  return WeightedPicker(std::move(ends));
}

size_t WeightedPicker::PickBinary(uint64_t selected) const {
  // Branchless upper bound: the first end strictly above `selected` (zero-weight entries share
  // their predecessor's end, so they are never first). With random values a branchy search
  // mispredicts about every other step.
  const uint64_t* ends = ends_.data();
  size_t base = 0;
  size_t length = ends_.size();
  while (length > 1) {
    const size_t half = length / 2;
    base = ends[base + half] <= selected ? base + half : base;
    length -= half;
  }
  return base + (ends[base] <= selected ? 1 : 0);
}

}  // namespace routing
