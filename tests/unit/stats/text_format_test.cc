#include "stats/text_format.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/stats/realistic_store.h"

namespace stats {
namespace {

TEST(TextFormatTest, GoldenFile) {
  Store store;
  testing::PopulateRealisticStore(store);
  const std::string expected = testing::ReadTestData("stats.txt");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(RenderText(store, {}), expected);
}

TEST(TextFormatTest, UsedOnly) {
  Store store;
  testing::PopulateRealisticStore(store);
  store.GetTextReadout("never.set");
  EXPECT_EQ(
      RenderText(store,
                 {.used_only = true,
                  .filter = [](std::string_view name) { return name.starts_with("cluster."); }}),
      "cluster.v1.upstream_cx_active: 2\n"
      "cluster.v1.upstream_rq_200: 5\n"
      "cluster.v1.upstream_rq_2xx: 5\n"
      "cluster.v1.upstream_rq_total: 5\n"
      "cluster.v2.upstream_cx_active: 4\n"
      "cluster.v2.upstream_rq_200: 7\n"
      "cluster.v2.upstream_rq_2xx: 7\n"
      "cluster.v2.upstream_rq_503: 3\n"
      "cluster.v2.upstream_rq_5xx: 3\n"
      "cluster.v2.upstream_rq_pending_active: 0\n"
      "cluster.v2.upstream_rq_total: 10\n"
      "cluster.we\"ird\\name.upstream_rq_total: 1\n"
      "cluster.v1.upstream_rq_time: P0(nan,1) P25(nan,4) P50(nan,7.5) P75(nan,137.5) "
      "P90(nan,205) P95(nan,227.5) P99(nan,245.5) P99.5(nan,247.75) P99.9(nan,249.55) "
      "P100(nan,250)\n"
      "cluster.v2.upstream_rq_time: P0(nan,0) P25(nan,0.75) P50(nan,5) P75(nan,2700000) "
      "P90(nan,3600000) P95(nan,3600000) P99(nan,3600000) P99.5(nan,3600000) "
      "P99.9(nan,3600000) P100(nan,3600000)\n");
  const std::string used = RenderText(store, {.used_only = true});
  EXPECT_EQ(used.find("never.set"), std::string::npos);
  EXPECT_EQ(used.find("downstream_rq_time"), std::string::npos);
  EXPECT_NE(RenderText(store, {}).find("never.set: \"\"\n"), std::string::npos);
}

TEST(TextFormatTest, CountersAndGaugesMergeInSegmentOrder) {
  Store store;
  store.GetGauge("a.b-c").Set(-1);
  store.GetCounter("a.b.c").Add(2);
  store.GetCounter("a.b").Add(3);
  store.GetGauge("a.b.d").Set(4);
  EXPECT_EQ(RenderText(store, {}), "a.b: 3\na.b.c: 2\na.b.d: 4\na.b-c: -1\n");
}

// Like fmt's `{}`: exponent notation below 1e-4 and from 1e16 on.
TEST(TextFormatTest, QuantileNumberFormat) {
  Store store;
  Histogram& tiny = store.GetHistogram("tiny", {0.00002});
  for (int i = 0; i < 4; ++i) tiny.Record(0);
  store.GetHistogram("huge", {1e17}).Record(50000000000000000);
  EXPECT_EQ(RenderText(store, {}),
            "huge: P0(nan,0) P25(nan,2.5e+16) P50(nan,5e+16) P75(nan,7.5e+16) P90(nan,9e+16) "
            "P95(nan,9.5e+16) P99(nan,9.9e+16) P99.5(nan,9.95e+16) P99.9(nan,9.99e+16) "
            "P100(nan,1e+17)\n"
            "tiny: P0(nan,0) P25(nan,5e-06) P50(nan,1e-05) P75(nan,1.5e-05) P90(nan,1.8e-05) "
            "P95(nan,1.9000000000000004e-05) P99(nan,1.98e-05) P99.5(nan,1.9900000000000003e-05) "
            "P99.9(nan,1.9980000000000002e-05) P100(nan,2e-05)\n");
}

}  // namespace
}  // namespace stats
