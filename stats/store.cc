#include "stats/store.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace stats {
namespace {

constexpr std::string_view kDetachedName = "stats.detached";

std::vector<double> DefaultBuckets() {
  return std::vector<double>(kDefaultBuckets.begin(), kDefaultBuckets.end());
}

}  // namespace

// The detached metrics' slots are the first ones allocated, from an empty set: cannot fail.
Store::Store()
    : detached_counter_(kDetachedName, &shards_, *shards_.Allocate(1)),
      detached_gauge_(kDetachedName, &shards_, *shards_.Allocate(1)),
      detached_histogram_(kDetachedName, &shards_,
                          *shards_.Allocate(Histogram::SlotsFor(kDefaultBuckets.size())),
                          DefaultBuckets()),
      detached_text_readout_(kDetachedName) {}

template <typename T, typename Make>
T& Store::Register(std::string_view name, uint32_t slots, T& detached, Make make) {
  absl::MutexLock lock(&mu_);
  auto reject = [&]() -> T& {
    mu_.AssertHeld();
    // Once per name, so repeated requests do not grow the list.
    if (std::find(rejected_.begin(), rejected_.end(), name) == rejected_.end()) {
      rejected_.emplace_back(name);
    }
    return detached;
  };
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    if (T** existing = std::get_if<T*>(&it->second)) return **existing;
    return reject();
  }
  const std::optional<uint32_t> first_slot = shards_.Allocate(slots);
  if (!first_slot) return reject();
  T& metric = make(*first_slot);
  by_name_.emplace(metric.name(), &metric);
  return metric;
}

Counter& Store::GetCounter(std::string_view name) {
  return Register(name, 1, detached_counter_, [&](uint32_t slot) -> Counter& {
    mu_.AssertHeld();
    return counters_.emplace_back(name, &shards_, slot);
  });
}

Gauge& Store::GetGauge(std::string_view name) {
  return Register(name, 1, detached_gauge_, [&](uint32_t slot) -> Gauge& {
    mu_.AssertHeld();
    return gauges_.emplace_back(name, &shards_, slot);
  });
}

Histogram& Store::GetHistogram(std::string_view name) {
  return GetHistogram(name, DefaultBuckets());
}

Histogram& Store::GetHistogram(std::string_view name, std::vector<double> bounds) {
  std::erase_if(bounds, [](double b) { return !std::isfinite(b); });
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return Register(name, Histogram::SlotsFor(bounds.size()), detached_histogram_,
                  [&](uint32_t slot) -> Histogram& {
                    mu_.AssertHeld();
                    return histograms_.emplace_back(name, &shards_, slot, std::move(bounds));
                  });
}

TextReadout& Store::GetTextReadout(std::string_view name) {
  return Register(name, 0, detached_text_readout_, [&](uint32_t) -> TextReadout& {
    mu_.AssertHeld();
    return text_readouts_.emplace_back(name);
  });
}

std::vector<std::string> Store::RejectedNames() const {
  absl::MutexLock lock(&mu_);
  return rejected_;
}

Store::Listing Store::List() const {
  absl::MutexLock lock(&mu_);
  Listing listing;
  auto pointers = [](const auto& metrics, auto& out) {
    out.reserve(metrics.size());
    for (const auto& m : metrics) out.push_back(&m);
  };
  pointers(counters_, listing.counters);
  pointers(gauges_, listing.gauges);
  pointers(histograms_, listing.histograms);
  pointers(text_readouts_, listing.text_readouts);
  return listing;
}

}  // namespace stats
