// Update paths of stats/: what a worker pays per request to count it. Counter, gauge and histogram
// updates go to the calling thread's shard (stats/shard_set.h); the shared-atomic baseline shows
// what two threads bumping one std::atomic counter would cost instead.

#include <atomic>
#include <cstdint>

#include "benchmark/benchmark.h"
#include "stats/store.h"

namespace {

stats::Store& SharedStore() {
  static stats::Store* store = new stats::Store();  // Shared by the threads of a benchmark.
  return *store;
}

void BM_CounterInc(benchmark::State& state) {
  stats::Counter& counter = SharedStore().GetCounter("cluster.v2.upstream_rq_total");
  for (auto _ : state) counter.Inc();
}
BENCHMARK(BM_CounterInc);
BENCHMARK(BM_CounterInc)->Threads(2)->Name("BM_CounterInc/same_counter");

void BM_CounterIncDifferentCounters(benchmark::State& state) {
  stats::Counter& counter = SharedStore().GetCounter(
      state.thread_index() == 0 ? "cluster.v1.upstream_rq_total" : "cluster.v2.upstream_rq_total");
  for (auto _ : state) counter.Inc();
}
BENCHMARK(BM_CounterIncDifferentCounters)->Threads(2);

void BM_SharedAtomicFetchAddBaseline(benchmark::State& state) {
  static std::atomic<uint64_t> counter{0};
  for (auto _ : state) counter.fetch_add(1, std::memory_order_relaxed);
}
BENCHMARK(BM_SharedAtomicFetchAddBaseline)->Threads(1)->Threads(2);

void BM_GaugeAdd(benchmark::State& state) {
  stats::Gauge& gauge = SharedStore().GetGauge("cluster.v2.upstream_cx_active");
  for (auto _ : state) {
    gauge.Add(1);
    gauge.Sub(1);
  }
  state.SetItemsProcessed(2 * state.iterations());  // Two updates per iteration.
}
BENCHMARK(BM_GaugeAdd);

void BM_HistogramRecord(benchmark::State& state) {
  stats::Histogram& histogram = SharedStore().GetHistogram("cluster.v2.upstream_rq_time");
  uint64_t ms = 0;
  for (auto _ : state) {
    histogram.Record(ms);
    ms = (ms + 7) % 1000;  // Spread over the lower buckets, as latencies would be.
  }
}
BENCHMARK(BM_HistogramRecord);

}  // namespace
