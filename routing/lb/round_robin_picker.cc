#include "routing/lb/round_robin_picker.h"

#include "routing/lb/host_weights.h"

namespace routing::lb {

RoundRobinPicker::RoundRobinPicker(const std::vector<Host>& hosts, std::vector<size_t> eligible,
                                   uint64_t seed)
    : eligible_(std::move(eligible)) {
  if (eligible_.empty()) return;
  if (WeightsAreEqual(hosts, eligible_)) {
    next_ = seed % eligible_.size();
    return;
  }
  weights_.resize(hosts.size());
  edf_.emplace();
  for (size_t host : eligible_) {
    weights_[host] = hosts[host].weight;
    edf_->Add(host, hosts[host].weight);
  }
  for (uint64_t i = 0; i < seed % eligible_.size(); ++i) Pick(0);
}

std::optional<size_t> RoundRobinPicker::Pick(uint64_t /*random*/) {
  if (eligible_.empty()) return std::nullopt;
  if (edf_.has_value()) {
    return edf_->PickAndAdd([this](size_t host) { return static_cast<double>(weights_[host]); });
  }
  return eligible_[next_++ % eligible_.size()];
}

}  // namespace routing::lb
