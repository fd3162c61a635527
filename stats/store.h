#pragma once

// Store: the registry of all metrics, keyed by Envoy dotted stat name
// (`cluster.v2.upstream_rq_503`, `server.live`). Get* is idempotent: the same name returns the same
// metric, and references stay valid for the store's lifetime (metrics are never deleted; config
// bounds the cardinality). Registration takes a mutex and may happen on any thread; updating a
// metric takes no lock (see stats/shard_set.h). Renderers (stats/prometheus.h, stats/text_format.h)
// read it via List().
//
// A name belongs to the type it was first registered as. Asking for it as another type, or
// registering past ShardSet::kMaxSlots, does not fail: the caller gets a working but detached
// metric (one per type, shared, never rendered) and the name is recorded in RejectedNames().

#include <deque>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "stats/metrics.h"
#include "stats/shard_set.h"

namespace stats {

class Store {
 public:
  Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Counter& GetCounter(std::string_view name);
  Gauge& GetGauge(std::string_view name);
  // Envoy's default buckets (kDefaultBuckets).
  Histogram& GetHistogram(std::string_view name);
  // Custom bucket upper bounds; they are sorted, and duplicates and non-finite values dropped.
  // Bounds only apply when the histogram is created: a later call returns it unchanged.
  Histogram& GetHistogram(std::string_view name, std::vector<double> bounds);
  TextReadout& GetTextReadout(std::string_view name);

  // Names that got a detached metric, each once, in order of first rejection.
  std::vector<std::string> RejectedNames() const;

  // The registered metrics (not the detached ones), in registration order.
  struct Listing {
    std::vector<const Counter*> counters;
    std::vector<const Gauge*> gauges;
    std::vector<const Histogram*> histograms;
    std::vector<const TextReadout*> text_readouts;
  };
  Listing List() const;

 private:
  template <typename T, typename Make>
  T& Register(std::string_view name, uint32_t slots, T& detached, Make make);

  ShardSet shards_;  // Before the metrics, which point into it.
  Counter detached_counter_;
  Gauge detached_gauge_;
  Histogram detached_histogram_;
  TextReadout detached_text_readout_;

  mutable absl::Mutex mu_;
  // Keys view the names owned by the metrics.
  absl::flat_hash_map<std::string_view, std::variant<Counter*, Gauge*, Histogram*, TextReadout*>>
      by_name_ ABSL_GUARDED_BY(mu_);
  std::deque<Counter> counters_ ABSL_GUARDED_BY(mu_);
  std::deque<Gauge> gauges_ ABSL_GUARDED_BY(mu_);
  std::deque<Histogram> histograms_ ABSL_GUARDED_BY(mu_);
  std::deque<TextReadout> text_readouts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> rejected_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stats
