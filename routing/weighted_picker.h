#pragma once

// WeightedPicker: the cluster choice of Envoy's weighted_clusters
// (WeightedClusterSpecifierPlugin::pickWeightedCluster). For a value v (the worker's random value,
// or the pinned value from the request header), selected = v % total_weight, and entry i owns the
// half-open interval [w0 + ... + w(i-1), w0 + ... + wi); zero-weight entries own empty intervals
// and are never picked. Immutable and stateless: Pick() is const, lock- and atomic-free, and
// shared by all workers; the randomness is the caller's.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace routing {

class WeightedPicker {
 public:
  // Fails if `weights` is empty or sums to 0 (nothing could ever be picked).
  static absl::StatusOr<WeightedPicker> Create(absl::Span<const uint32_t> weights);

  // The index of the chosen entry, in configuration order.
  size_t Pick(uint64_t value) const {
    const uint64_t selected = value % total_weight_;
    // Both searches are branchless: with random values a data-dependent branch mispredicts on
    // most picks. A full linear count beats binary search while the bounds fit in two cache
    // lines.
    if (ends_.size() <= kLinearScanMax) {
      size_t index = 0;  // the number of intervals ending at or before `selected`
      for (const uint64_t end : ends_) index += selected >= end ? 1 : 0;
      return index;
    }
    return PickBinary(selected);
  }

  uint64_t total_weight() const { return total_weight_; }
  size_t size() const { return ends_.size(); }

 private:
  static constexpr size_t kLinearScanMax = 16;

  explicit WeightedPicker(std::vector<uint64_t> ends)
      : ends_(std::move(ends)), total_weight_(ends_.back()) {}
  size_t PickBinary(uint64_t selected) const;

  std::vector<uint64_t> ends_;  // exclusive cumulative upper bound of each entry's interval
  uint64_t total_weight_;
};

}  // namespace routing
