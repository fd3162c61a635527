// Rendering cost of /stats/prometheus and /stats for a large config: 1000 clusters, each with 20
// counters (including response code and class ones), 2 gauges and a latency histogram.

#include <string>

#include "benchmark/benchmark.h"
#include "stats/prometheus.h"
#include "stats/store.h"
#include "stats/text_format.h"

namespace {

constexpr int kClusters = 1000;
constexpr const char* kCounters[] = {"upstream_rq_total",
                                     "upstream_rq_2xx",
                                     "upstream_rq_4xx",
                                     "upstream_rq_5xx",
                                     "upstream_rq_200",
                                     "upstream_rq_201",
                                     "upstream_rq_204",
                                     "upstream_rq_404",
                                     "upstream_rq_503",
                                     "upstream_rq_504",
                                     "upstream_cx_total",
                                     "upstream_cx_connect_fail",
                                     "upstream_cx_destroy",
                                     "upstream_rq_timeout",
                                     "upstream_rq_retry",
                                     "upstream_rq_retry_success",
                                     "upstream_rq_pending_overflow",
                                     "upstream_cx_rx_bytes_total",
                                     "upstream_cx_tx_bytes_total",
                                     "membership_change"};

const stats::Store& BigStore() {
  static const stats::Store* store = [] {
    auto* s = new stats::Store();
    for (int c = 0; c < kClusters; ++c) {
      const std::string prefix = "cluster.cluster_" + std::to_string(c) + ".";
      for (const char* counter : kCounters) s->GetCounter(prefix + counter).Add(c + 1);
      s->GetGauge(prefix + "upstream_cx_active").Set(c % 7);
      s->GetGauge(prefix + "upstream_rq_active").Set(c % 3);
      stats::Histogram& time = s->GetHistogram(prefix + "upstream_rq_time");
      for (uint64_t ms = 0; ms < 50; ++ms) time.Record(ms * (c % 13 + 1));
    }
    return s;
  }();
  return *store;
}

void BM_RenderPrometheus(benchmark::State& state) {
  const stats::Store& store = BigStore();
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string out = stats::RenderPrometheus(store, {});
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["output_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}
BENCHMARK(BM_RenderPrometheus)->Unit(benchmark::kMillisecond);

void BM_RenderText(benchmark::State& state) {
  const stats::Store& store = BigStore();
  for (auto _ : state) {
    const std::string out = stats::RenderText(store, {});
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_RenderText)->Unit(benchmark::kMillisecond);

}  // namespace
