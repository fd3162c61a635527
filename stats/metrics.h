#pragma once

// The metric types: Counter, Gauge, Histogram and TextReadout, named by Envoy dotted stat names.
// Counters, gauges and histograms keep their values in a ShardSet (see stats/shard_set.h), so any
// thread may update them without locks or atomic read-modify-writes; reads sum over threads and
// may run concurrently with updates. Metrics are created by a Store and live as long as it.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "stats/shard_set.h"
#include "stats/tag_extractor.h"

namespace stats {

// Envoy's HistogramSettingsImpl::defaultBuckets(), in milliseconds for `_time`/`_ms` histograms.
inline constexpr std::array<double, 19> kDefaultBuckets = {
    0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
    2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

// Identity shared by all metric types: the dotted name and its tags, extracted at creation.
class Metric {
 public:
  Metric(const Metric&) = delete;
  Metric& operator=(const Metric&) = delete;

  const std::string& name() const { return name_; }
  const std::string& tag_extracted_name() const { return extraction_.tag_extracted_name; }
  const std::vector<Tag>& tags() const { return extraction_.tags; }

 protected:
  explicit Metric(std::string_view name) : name_(name), extraction_(ExtractTags(name)) {}

 private:
  std::string name_;
  TagExtraction extraction_;
};

// Monotonic uint64.
class Counter : public Metric {
 public:
  Counter(std::string_view name, ShardSet* shards, uint32_t slot)
      : Metric(name), shards_(shards), slot_(slot) {}

  void Inc() { Add(1); }
  void Add(uint64_t n) { shards_->Local().Add(slot_, n); }
  uint64_t Value() const { return shards_->Sum(slot_); }
  bool Used() const { return Value() != 0; }

 private:
  ShardSet* shards_;
  uint32_t slot_;
};

// int64, kept as two's-complement deltas in the slot (the sum wraps back to the right value).
class Gauge : public Metric {
 public:
  Gauge(std::string_view name, ShardSet* shards, uint32_t slot)
      : Metric(name), shards_(shards), slot_(slot) {}

  void Inc() { AddDelta(1); }
  void Dec() { AddDelta(~uint64_t{0}); }
  void Add(int64_t v) { AddDelta(static_cast<uint64_t>(v)); }
  void Sub(int64_t v) { AddDelta(uint64_t{0} - static_cast<uint64_t>(v)); }
  // Read-then-add: only correct for a gauge that a single thread updates (e.g. server.uptime).
  void Set(int64_t v) { AddDelta(static_cast<uint64_t>(v) - static_cast<uint64_t>(Value())); }
  int64_t Value() const { return static_cast<int64_t>(shards_->Sum(slot_)); }
  // Ever changed, even if back to 0.
  bool Used() const { return used_.load(std::memory_order_relaxed); }

 private:
  void AddDelta(uint64_t delta) {
    // Load before store: after the first update the cache line stays shared, not bounced.
    if (!used_.load(std::memory_order_relaxed)) used_.store(true, std::memory_order_relaxed);
    shards_->Local().Add(slot_, delta);
  }

  ShardSet* shards_;
  uint32_t slot_;
  std::atomic<bool> used_{false};
};

// One read of a histogram. Every bucket is read once and the count derived from them, so the
// numbers agree with each other even while other threads record.
struct HistogramValues {
  std::vector<uint64_t> cumulative;  // cumulative[i]: samples <= bounds[i].
  uint64_t count = 0;                // All samples, including those above the last bound.
  uint64_t sum = 0;
};

// Fixed upper bounds; a sample counts in the first bucket whose bound is >= the sample, or in an
// overflow bucket past the last bound. Slots: one per bucket, the overflow bucket, and the sum.
// The sum is an exact uint64 (samples are integers); it wraps past 2^64, i.e. never for ms.
class Histogram : public Metric {
 public:
  // `bounds` must be sorted, distinct and finite (the Store ensures it).
  Histogram(std::string_view name, ShardSet* shards, uint32_t first_slot,
            std::vector<double> bounds)
      : Metric(name), shards_(shards), slot_(first_slot), bounds_(std::move(bounds)) {}

  static uint32_t SlotsFor(size_t num_bounds) { return static_cast<uint32_t>(num_bounds) + 2; }

  void Record(uint64_t value) {
    const auto bucket =
        std::lower_bound(bounds_.begin(), bounds_.end(), static_cast<double>(value)) -
        bounds_.begin();
    ShardSet::Shard& shard = shards_->Local();
    shard.Add(slot_ + static_cast<uint32_t>(bucket), 1);
    shard.Add(slot_ + static_cast<uint32_t>(bounds_.size()) + 1, value);
  }

  HistogramValues Values() const;
  std::span<const double> bounds() const { return bounds_; }
  bool Used() const;

 private:
  ShardSet* shards_;
  uint32_t slot_;
  std::vector<double> bounds_;
};

// Estimates a quantile, given in per mille (Envoy's P99.9 is 999), from bucket counts by linear
// interpolation inside the bucket holding the rank (per_mille / 1000 * count), taking samples as
// spread evenly between the bucket's bounds (the first bucket starts at 0: samples are unsigned).
// Ranks in the overflow bucket report the last bound (as Prometheus' histogram_quantile does).
// The 0th quantile is the lower bound of the first non-empty bucket. NaN without samples, or when
// all of them overflow a histogram with no bounds.
double EstimateQuantile(std::span<const double> bounds, const HistogramValues& values,
                        uint32_t per_mille);

// A string, e.g. an xDS version_text. Set and read under a small mutex: meant for rare updates.
class TextReadout : public Metric {
 public:
  explicit TextReadout(std::string_view name) : Metric(name) {}

  void Set(std::string_view value);
  std::string Value() const;
  // Ever Set.
  bool Used() const;

 private:
  mutable absl::Mutex mu_;
  std::string value_ ABSL_GUARDED_BY(mu_);
  bool used_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace stats
