#include "routing/lb/least_request_picker.h"

#include "routing/lb/host_weights.h"
#include "routing/random.h"

namespace routing::lb {

LeastRequestPicker::LeastRequestPicker(const std::vector<Host>& hosts, std::vector<size_t> eligible,
                                       uint32_t choice_count, uint64_t seed)
    : eligible_(std::move(eligible)),
      choice_count_(choice_count < 1 ? 1 : choice_count),
      weights_(hosts.size()),
      active_(hosts.size(), 0) {
  for (size_t host = 0; host < hosts.size(); ++host) weights_[host] = hosts[host].weight;
  if (eligible_.empty() || WeightsAreEqual(hosts, eligible_)) return;
  edf_.emplace();
  for (size_t host : eligible_) edf_->Add(host, EffectiveWeight(host));
  for (uint64_t i = 0; i < seed % eligible_.size(); ++i) Pick(0);
}

double LeastRequestPicker::EffectiveWeight(size_t host) const {
  return static_cast<double>(weights_[host]) / (static_cast<double>(active_[host]) + 1.0);
}

std::optional<size_t> LeastRequestPicker::Pick(uint64_t random) {
  const size_t n = eligible_.size();
  if (n == 0) return std::nullopt;
  if (edf_.has_value()) {
    return edf_->PickAndAdd([this](size_t host) { return EffectiveWeight(host); });
  }
  size_t best = eligible_[random % n];
  uint64_t state = random;
  for (uint32_t i = 1; i < choice_count_; ++i) {
    const size_t candidate = eligible_[SplitMix64(state) % n];
    if (active_[candidate] < active_[best]) best = candidate;
  }
  return best;
}

void LeastRequestPicker::OnRequestStart(size_t host) {
  if (host < active_.size()) ++active_[host];
}

void LeastRequestPicker::OnRequestEnd(size_t host) {
  if (host < active_.size() && active_[host] > 0) --active_[host];
}

}  // namespace routing::lb
