// Several threads updating shared metrics and registering new ones (growing every shard by whole
// chunks) while readers render; every total must be exact. Also meant for the sanitizer build.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "stats/prometheus.h"
#include "stats/store.h"
#include "stats/text_format.h"

namespace stats {
namespace {

TEST(ConcurrencyTest, NThreadsTimesMIncrementsIsExact) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 200000;
  Store store;
  Counter& counter = store.GetCounter("cluster.v2.upstream_rq_total");
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) counter.Inc();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.Value(), uint64_t{kThreads} * kIncrements);
}

TEST(ConcurrencyTest, UpdatesRegistrationsAndRendersTogether) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  constexpr int kNewEvery = 5;  // 4 x 4000 new counters: several new chunks.
  Store store;
  Counter& shared_counter = store.GetCounter("cluster.v1.upstream_rq_200");
  Gauge& shared_gauge = store.GetGauge("cluster.v1.upstream_cx_active");
  Histogram& shared_histogram = store.GetHistogram("cluster.v1.upstream_rq_time");

  std::atomic<bool> done{false};
  std::atomic<int> renders{0};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      const std::string out = RenderPrometheus(store, {.used_only = true});
      RenderText(store, {});
      // Each shard's slot only grows, so a reader never sees a counter go back.
      const uint64_t now = shared_counter.Value();
      EXPECT_GE(now, last);
      last = now;
      const HistogramValues values = shared_histogram.Values();
      EXPECT_EQ(values.cumulative.back(), values.count);  // Nothing recorded above 3600000.
      renders.fetch_add(1);
    }
  });

  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        shared_counter.Inc();
        shared_gauge.Add(3);
        shared_gauge.Sub(1);
        shared_histogram.Record(static_cast<uint64_t>(i % 100));
        if (i % kNewEvery == 0) {  // Registration past capacity while other threads update.
          store.GetCounter("thread." + std::to_string(t) + ".c." + std::to_string(i)).Inc();
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  done.store(true);
  reader.join();

  EXPECT_GT(renders.load(), 0);
  EXPECT_EQ(shared_counter.Value(), uint64_t{kThreads} * kIterations);
  EXPECT_EQ(shared_gauge.Value(), int64_t{kThreads} * kIterations * 2);
  const HistogramValues values = shared_histogram.Values();
  EXPECT_EQ(values.count, uint64_t{kThreads} * kIterations);
  // Per thread: 200 rounds of 0..99.
  EXPECT_EQ(values.sum, uint64_t{kThreads} * (kIterations / 100) * (99 * 100 / 2));
  // 0 is the only sample <= 0.5; 0 and 1 are <= 1.
  EXPECT_EQ(values.cumulative[0], uint64_t{kThreads} * (kIterations / 100));
  EXPECT_EQ(values.cumulative[1], uint64_t{kThreads} * (kIterations / 100) * 2);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(store.GetCounter("thread." + std::to_string(t) + ".c.0").Value(), 1u);
    EXPECT_EQ(store.GetCounter("thread." + std::to_string(t) + ".c.19995").Value(), 1u);
  }
  EXPECT_EQ(store.List().counters.size(), 1u + kThreads * kIterations / kNewEvery);
}

TEST(ConcurrencyTest, ShardsOutliveTheirThreads) {
  Store store;
  Counter& counter = store.GetCounter("c");
  for (int round = 0; round < 20; ++round) {
    std::thread([&] { counter.Add(5); }).join();
  }
  EXPECT_EQ(counter.Value(), 100u);
}

}  // namespace
}  // namespace stats
