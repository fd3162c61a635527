#include "stats/store.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stats {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StoreTest, GetIsIdempotent) {
  Store store;
  Counter& counter = store.GetCounter("cluster.v2.upstream_rq_total");
  counter.Add(3);
  EXPECT_EQ(&store.GetCounter("cluster.v2.upstream_rq_total"), &counter);
  EXPECT_EQ(store.GetCounter("cluster.v2.upstream_rq_total").Value(), 3u);
  Gauge& gauge = store.GetGauge("server.live");
  EXPECT_EQ(&store.GetGauge("server.live"), &gauge);
  Histogram& histogram = store.GetHistogram("cluster.v2.upstream_rq_time");
  EXPECT_EQ(&store.GetHistogram("cluster.v2.upstream_rq_time"), &histogram);
  TextReadout& text = store.GetTextReadout("cluster_manager.cds.version_text");
  EXPECT_EQ(&store.GetTextReadout("cluster_manager.cds.version_text"), &text);

  const Store::Listing listing = store.List();
  EXPECT_THAT(listing.counters, ElementsAre(&counter));
  EXPECT_THAT(listing.gauges, ElementsAre(&gauge));
  EXPECT_THAT(listing.histograms, ElementsAre(&histogram));
  EXPECT_THAT(listing.text_readouts, ElementsAre(&text));
  EXPECT_THAT(store.RejectedNames(), IsEmpty());
}

TEST(StoreTest, MetricsCarryTheirTagExtraction) {
  Store store;
  const Counter& counter = store.GetCounter("cluster.v2.upstream_rq_503");
  EXPECT_EQ(counter.name(), "cluster.v2.upstream_rq_503");
  EXPECT_EQ(counter.tag_extracted_name(), "cluster.upstream_rq");
  EXPECT_EQ(counter.tags(), (std::vector<Tag>{{kResponseCodeTag, "503"}, {kClusterNameTag, "v2"}}));
}

TEST(StoreTest, ReferencesSurviveManyRegistrations) {
  Store store;
  Counter& first = store.GetCounter("first");
  first.Inc();
  // Enough slots for several chunks.
  for (int i = 0; i < 3 * static_cast<int>(ShardSet::kChunkSlots); ++i) {
    store.GetCounter("c." + std::to_string(i)).Add(i);
  }
  first.Inc();
  EXPECT_EQ(first.Value(), 2u);
  EXPECT_EQ(store.GetCounter("c.12000").Value(), 12000u);
  EXPECT_EQ(&store.GetCounter("first"), &first);
}

TEST(StoreTest, TypeConflictGetsADetachedMetric) {
  Store store;
  Counter& counter = store.GetCounter("x.y");
  counter.Add(5);
  Gauge& gauge = store.GetGauge("x.y");
  gauge.Set(42);
  EXPECT_EQ(gauge.Value(), 42);  // Works, but is not the counter...
  EXPECT_EQ(counter.Value(), 5u);
  EXPECT_EQ(&store.GetCounter("x.y"), &counter);  // ...which keeps the name.
  Histogram& histogram = store.GetHistogram("x.y");
  histogram.Record(1);
  TextReadout& text = store.GetTextReadout("x.y");
  text.Set("t");

  const Store::Listing listing = store.List();
  EXPECT_THAT(listing.counters, ElementsAre(&counter));
  EXPECT_THAT(listing.gauges, IsEmpty());
  EXPECT_THAT(listing.histograms, IsEmpty());
  EXPECT_THAT(listing.text_readouts, IsEmpty());
  EXPECT_THAT(store.RejectedNames(), ElementsAre("x.y"));

  // The detached metrics are shared per type, and never take a name.
  EXPECT_EQ(&store.GetGauge("x.y"), &gauge);
  store.GetCounter("z").Inc();
  EXPECT_EQ(&store.GetGauge("z"), &gauge);
  EXPECT_THAT(store.RejectedNames(), ElementsAre("x.y", "z"));
  EXPECT_EQ(store.GetGauge("fresh").Value(), 0);
  EXPECT_EQ(store.List().gauges.size(), 1u);
}

TEST(StoreTest, RunningOutOfSlotsGetsADetachedMetric) {
  Store store;
  std::vector<double> many(1000000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i);
  // 4 x 1000002 slots fit in ShardSet::kMaxSlots (4194304) with the detached metrics; a 5th not.
  for (int i = 0; i < 4; ++i) store.GetHistogram("big." + std::to_string(i), many);
  Histogram& overflow = store.GetHistogram("big.4", many);
  EXPECT_THAT(store.RejectedNames(), ElementsAre("big.4"));
  EXPECT_EQ(store.List().histograms.size(), 4u);
  overflow.Record(1);  // Still safe to use.

  Counter& small = store.GetCounter("small");  // Smaller requests still fit.
  small.Inc();
  EXPECT_EQ(small.Value(), 1u);
  Histogram& last = store.GetHistogram("big.3");
  last.Record(999999);
  EXPECT_EQ(last.Values().cumulative[999999], 1u);
  EXPECT_EQ(last.Values().cumulative[999998], 0u);
}

TEST(CounterTest, IncAddValueAndUsed) {
  Store store;
  Counter& counter = store.GetCounter("c");
  EXPECT_EQ(counter.Value(), 0u);
  EXPECT_FALSE(counter.Used());
  counter.Add(0);
  EXPECT_FALSE(counter.Used());
  counter.Inc();
  counter.Add(41);
  EXPECT_EQ(counter.Value(), 42u);
  EXPECT_TRUE(counter.Used());
  counter.Add(std::numeric_limits<uint64_t>::max() - 42);
  EXPECT_EQ(counter.Value(), std::numeric_limits<uint64_t>::max());
}

TEST(GaugeTest, Arithmetic) {
  Store store;
  Gauge& gauge = store.GetGauge("g");
  gauge.Inc();
  gauge.Inc();
  gauge.Dec();
  EXPECT_EQ(gauge.Value(), 1);
  gauge.Add(10);
  gauge.Sub(20);
  EXPECT_EQ(gauge.Value(), -9);
  gauge.Set(7);
  EXPECT_EQ(gauge.Value(), 7);
  gauge.Set(-3);
  EXPECT_EQ(gauge.Value(), -3);
}

TEST(GaugeTest, Extremes) {
  Store store;
  Gauge& gauge = store.GetGauge("g");
  gauge.Set(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(gauge.Value(), std::numeric_limits<int64_t>::max());
  gauge.Set(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(gauge.Value(), std::numeric_limits<int64_t>::min());
  gauge.Sub(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(gauge.Value(), 0);
}

TEST(GaugeTest, SumsAcrossThreads) {
  Store store;
  Gauge& gauge = store.GetGauge("g");
  gauge.Add(5);
  std::thread([&] { gauge.Sub(8); }).join();  // This thread's shard holds -8.
  EXPECT_EQ(gauge.Value(), -3);
  gauge.Set(10);
  EXPECT_EQ(gauge.Value(), 10);
}

TEST(GaugeTest, UsedOnceChangedEvenIfBackToZero) {
  Store store;
  Gauge& untouched = store.GetGauge("a");
  EXPECT_FALSE(untouched.Used());
  Gauge& back_to_zero = store.GetGauge("b");
  back_to_zero.Inc();
  back_to_zero.Dec();
  EXPECT_TRUE(back_to_zero.Used());
  Gauge& set_zero = store.GetGauge("c");
  set_zero.Set(0);
  EXPECT_TRUE(set_zero.Used());
}

TEST(HistogramTest, DefaultBucketsAreEnvoys) {
  Store store;
  Histogram& histogram = store.GetHistogram("h");
  EXPECT_THAT(histogram.bounds(),
              ElementsAre(0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
                          60000, 300000, 600000, 1800000, 3600000));
}

TEST(HistogramTest, ValueOnABoundCountsInThatBucket) {
  Store store;
  Histogram& histogram = store.GetHistogram("h", {1, 5, 10});
  EXPECT_FALSE(histogram.Used());
  for (uint64_t v : {0, 1, 2, 5, 6, 10, 11, 1000}) histogram.Record(v);
  EXPECT_TRUE(histogram.Used());
  const HistogramValues values = histogram.Values();
  EXPECT_THAT(values.cumulative, ElementsAre(2, 4, 6));  // <=1: 0,1  <=5: +2,5  <=10: +6,10
  EXPECT_EQ(values.count, 8u);                           // 11 and 1000 only in +Inf.
  EXPECT_EQ(values.sum, 0u + 1 + 2 + 5 + 6 + 10 + 11 + 1000);
}

TEST(HistogramTest, HugeValuesOverflowOnly) {
  Store store;
  Histogram& histogram = store.GetHistogram("h");
  histogram.Record(3600000);
  histogram.Record(3600001);
  histogram.Record(std::numeric_limits<uint64_t>::max());
  const HistogramValues values = histogram.Values();
  EXPECT_EQ(values.cumulative.back(), 1u);
  EXPECT_EQ(values.cumulative[values.cumulative.size() - 2], 0u);
  EXPECT_EQ(values.count, 3u);
  EXPECT_EQ(values.sum, 3600000u + 3600001u + std::numeric_limits<uint64_t>::max());  // Wraps.
}

TEST(HistogramTest, CustomBoundsAreNormalized) {
  Store store;
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  Histogram& histogram = store.GetHistogram("h", {3, 1, 2, 2, nan, inf, -inf, 2.5});
  EXPECT_THAT(histogram.bounds(), ElementsAre(1, 2, 2.5, 3));
  histogram.Record(2);
  histogram.Record(3);
  EXPECT_THAT(histogram.Values().cumulative, ElementsAre(0, 1, 1, 2));
  // Bounds apply at creation only.
  EXPECT_EQ(&store.GetHistogram("h", {100}), &histogram);
  EXPECT_EQ(&store.GetHistogram("h"), &histogram);
  EXPECT_THAT(histogram.bounds(), ElementsAre(1, 2, 2.5, 3));
}

TEST(HistogramTest, NoBoundsCountsEverythingAsOverflow) {
  Store store;
  Histogram& histogram = store.GetHistogram("h", std::vector<double>{});
  histogram.Record(7);
  const HistogramValues values = histogram.Values();
  EXPECT_THAT(values.cumulative, IsEmpty());
  EXPECT_EQ(values.count, 1u);
  EXPECT_EQ(values.sum, 7u);
  EXPECT_TRUE(std::isnan(EstimateQuantile(histogram.bounds(), values, 500)));
}

TEST(EstimateQuantileTest, InterpolatesInsideTheBucket) {
  const std::vector<double> bounds = {10, 20, 40};
  // 4 samples in (10, 20], 4 in (20, 40].
  const HistogramValues values{{0, 4, 8}, 8, 0};
  EXPECT_EQ(EstimateQuantile(bounds, values, 0), 10);  // Lower bound of first non-empty bucket.
  EXPECT_EQ(EstimateQuantile(bounds, values, 250), 15);
  EXPECT_EQ(EstimateQuantile(bounds, values, 500), 20);
  EXPECT_EQ(EstimateQuantile(bounds, values, 750), 30);
  EXPECT_EQ(EstimateQuantile(bounds, values, 1000), 40);
  EXPECT_DOUBLE_EQ(EstimateQuantile(bounds, values, 999), 39.96);
}

TEST(EstimateQuantileTest, FirstBucketStartsAtZeroAndOverflowReportsLastBound) {
  const std::vector<double> bounds = {0.5, 1};
  const HistogramValues values{{2, 2}, 4, 0};  // 2 samples <= 0.5, 2 above 1.
  EXPECT_EQ(EstimateQuantile(bounds, values, 0), 0);
  EXPECT_EQ(EstimateQuantile(bounds, values, 250), 0.25);
  EXPECT_EQ(EstimateQuantile(bounds, values, 500), 0.5);
  EXPECT_EQ(EstimateQuantile(bounds, values, 750), 1);
  EXPECT_EQ(EstimateQuantile(bounds, values, 1000), 1);
  EXPECT_TRUE(std::isnan(EstimateQuantile(bounds, HistogramValues{{0, 0}, 0, 0}, 500)));
}

TEST(TextReadoutTest, SetValueUsed) {
  Store store;
  TextReadout& text = store.GetTextReadout("t");
  EXPECT_EQ(text.Value(), "");
  EXPECT_FALSE(text.Used());
  text.Set("");
  EXPECT_TRUE(text.Used());
  text.Set("v1");
  text.Set("v2");
  EXPECT_EQ(text.Value(), "v2");
}

// Each store has its own id for the per-thread shard cache; a new store, even at the address of
// a destroyed one, must not see its values or write into its (freed) shards.
TEST(StoreIdTest, StoresCreatedAndDestroyedInALoopNeverShareValues) {
  for (int i = 0; i < 200; ++i) {
    auto store = std::make_unique<Store>();
    Counter& counter = store->GetCounter("c");
    Gauge& gauge = store->GetGauge("g");
    Histogram& histogram = store->GetHistogram("h");
    ASSERT_EQ(counter.Value(), 0u) << i;
    ASSERT_EQ(gauge.Value(), 0) << i;
    ASSERT_EQ(histogram.Values().count, 0u) << i;
    counter.Add(i + 1);
    gauge.Add(i + 1);
    histogram.Record(i);
    ASSERT_EQ(counter.Value(), static_cast<uint64_t>(i + 1));
    ASSERT_EQ(gauge.Value(), i + 1);
  }
}

TEST(StoreIdTest, OneThreadAlternatingBetweenStores) {
  Store a;
  Store b;
  Counter& in_a = a.GetCounter("c");
  Counter& in_b = b.GetCounter("c");
  for (int i = 0; i < 1000; ++i) {
    in_a.Inc();
    in_b.Add(2);
  }
  std::thread([&] {
    in_b.Inc();
    in_a.Inc();
    in_b.Inc();
  }).join();
  EXPECT_EQ(in_a.Value(), 1001u);
  EXPECT_EQ(in_b.Value(), 2002u);
}

}  // namespace
}  // namespace stats
