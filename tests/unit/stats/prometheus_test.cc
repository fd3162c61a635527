#include "stats/prometheus.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/stats/realistic_store.h"

namespace stats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PrometheusTest, GoldenFile) {
  Store store;
  testing::PopulateRealisticStore(store);
  const std::string expected = testing::ReadTestData("prometheus.txt");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(RenderPrometheus(store, {.text_readouts = true}), expected);
}

TEST(PrometheusTest, EnvoyFragment) {
  Store store;
  store.GetCounter("cluster.v2.upstream_rq_503").Add(3);
  store.GetCounter("cluster.v2.upstream_rq_200").Add(7);
  store.GetCounter("cluster.v2.upstream_rq_5xx").Add(3);
  store.GetCounter("cluster.v2.upstream_rq_2xx").Add(7);
  EXPECT_EQ(
      RenderPrometheus(store, {}),
      "# TYPE envoy_cluster_upstream_rq counter\n"
      "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"v2\"} 7\n"
      "envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"v2\"} 3\n"
      "\n"
      "# TYPE envoy_cluster_upstream_rq_xx counter\n"
      "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"2\",envoy_cluster_name=\"v2\"} "
      "7\n"
      "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\",envoy_cluster_name=\"v2\"} "
      "3\n"
      "\n");
}

// The per-cluster gRPC counters (proxy_stats.h GrpcStats): the families README documents.
TEST(PrometheusTest, GrpcFamilies) {
  Store store;
  store.GetCounter("cluster.v2.grpc.total").Add(5);
  store.GetCounter("cluster.v2.grpc.success").Add(2);
  store.GetCounter("cluster.v2.grpc.failure").Add(3);
  store.GetCounter("cluster.v2.grpc.0").Add(2);
  store.GetCounter("cluster.v2.grpc.14").Add(3);
  const std::string text = RenderPrometheus(store, {});
  EXPECT_THAT(text, HasSubstr("envoy_cluster_grpc_total{envoy_cluster_name=\"v2\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("envoy_cluster_grpc_success{envoy_cluster_name=\"v2\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("envoy_cluster_grpc_failure{envoy_cluster_name=\"v2\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("envoy_cluster_grpc_14{envoy_cluster_name=\"v2\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("envoy_cluster_grpc_0{envoy_cluster_name=\"v2\"} 2\n"));
}

TEST(PrometheusTest, EmptyStoreRendersNothing) {
  Store store;
  EXPECT_EQ(RenderPrometheus(store, {.text_readouts = true}), "");
}

TEST(PrometheusTest, HistogramWithoutTagsAndCustomBounds) {
  Store store;
  Histogram& histogram = store.GetHistogram("server.initialization_time_ms", {0.1, 2.5, 1e6});
  histogram.Record(2);
  histogram.Record(3);
  EXPECT_EQ(
      RenderPrometheus(store, {}),
      "# TYPE envoy_server_initialization_time_ms histogram\n"
      "envoy_server_initialization_time_ms_bucket{le=\"0.10000000000000000555111512312578\"} 0\n"
      "envoy_server_initialization_time_ms_bucket{le=\"2.5\"} 1\n"
      "envoy_server_initialization_time_ms_bucket{le=\"1000000\"} 2\n"
      "envoy_server_initialization_time_ms_bucket{le=\"+Inf\"} 2\n"
      "envoy_server_initialization_time_ms_sum{} 5\n"
      "envoy_server_initialization_time_ms_count{} 2\n"
      "\n");
}

TEST(PrometheusTest, NegativeGauge) {
  Store store;
  store.GetGauge("server.x").Sub(3);
  EXPECT_EQ(RenderPrometheus(store, {}), "# TYPE envoy_server_x gauge\nenvoy_server_x{} -3\n\n");
}

TEST(PrometheusTest, TextReadoutsOnlyOnRequest) {
  Store store;
  store.GetTextReadout("control_plane.identifier").Set("cp-1");
  EXPECT_EQ(RenderPrometheus(store, {}), "");
  EXPECT_EQ(RenderPrometheus(store, {.text_readouts = true}),
            "# TYPE envoy_control_plane_identifier gauge\n"
            "envoy_control_plane_identifier{text_value=\"cp-1\"} 0\n"
            "\n");
}

TEST(PrometheusTest, LabelValuesAreEscaped) {
  Store store;
  // [^\.] in the cluster_name regex takes any byte but a dot.
  store.GetCounter("cluster.a\\b\"c\nd.upstream_rq_total").Inc();
  EXPECT_EQ(RenderPrometheus(store, {}),
            "# TYPE envoy_cluster_upstream_rq_total counter\n"
            "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a\\\\b\\\"c\\nd\"} 1\n"
            "\n");
}

TEST(PrometheusTest, UsedOnly) {
  Store store;
  testing::PopulateRealisticStore(store);
  const std::string all = RenderPrometheus(store, {.text_readouts = true});
  const std::string used = RenderPrometheus(store, {.used_only = true, .text_readouts = true});
  // Zero counters and the never-touched gauge go; a gauge back at 0 stays.
  EXPECT_THAT(all, HasSubstr("envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\","
                             "envoy_cluster_name=\"v1\"} 0\n"));
  EXPECT_THAT(used, Not(HasSubstr("envoy_cluster_name=\"v1\"} 0\n")));
  EXPECT_THAT(used, HasSubstr("envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\","
                              "envoy_cluster_name=\"v2\"} 3\n"));
  EXPECT_THAT(used, HasSubstr("# TYPE envoy_cluster_upstream_rq_pending_active gauge\n"
                              "envoy_cluster_upstream_rq_pending_active{envoy_cluster_name=\"v2\"} "
                              "0\n\n"));
  // The histogram without samples goes, with its family.
  EXPECT_THAT(all, HasSubstr("# TYPE envoy_http_downstream_rq_time histogram"));
  EXPECT_THAT(used, Not(HasSubstr("envoy_http_downstream_rq_time")));
  EXPECT_THAT(used, HasSubstr("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"v1\"} 3"));
  EXPECT_THAT(used, HasSubstr("text_value=\"v3\""));

  Store unused;
  unused.GetCounter("a");
  unused.GetGauge("b");
  unused.GetHistogram("c");
  unused.GetTextReadout("d");
  EXPECT_EQ(RenderPrometheus(unused, {.used_only = true, .text_readouts = true}), "");
}

TEST(PrometheusTest, FilterSeesDottedNames) {
  Store store;
  testing::PopulateRealisticStore(store);
  std::vector<std::string> seen;
  const std::string out = RenderPrometheus(store, {.filter =
                                                       [&](std::string_view name) {
                                                         seen.emplace_back(name);
                                                         return name.starts_with("cluster.v2.") &&
                                                                name.ends_with("_total");
                                                       },
                                                   .text_readouts = true});
  EXPECT_EQ(out,
            "# TYPE envoy_cluster_upstream_rq_total counter\n"
            "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"v2\"} 10\n"
            "\n");
  EXPECT_THAT(seen, ::testing::Contains("http.ingress.rds.local_route.version_text"));
  EXPECT_THAT(seen, ::testing::Contains("cluster.v1.upstream_rq_time"));
}

TEST(PrometheusTest, FamiliesAndSeriesInSegmentOrder) {
  Store store;
  // Plain string order would put "a-b" before "a" (the '-' before '.').
  store.GetCounter("cluster.a-b.upstream_rq_total").Inc();
  store.GetCounter("cluster.a.upstream_rq_total").Inc();
  store.GetGauge("zz.a-b").Inc();
  store.GetGauge("zz.a.x").Inc();
  EXPECT_EQ(RenderPrometheus(store, {}),
            "# TYPE envoy_cluster_upstream_rq_total counter\n"
            "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a\"} 1\n"
            "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a-b\"} 1\n"
            "\n"
            "# TYPE envoy_zz_a_x gauge\n"
            "envoy_zz_a_x{} 1\n"
            "\n"
            "# TYPE envoy_zz_a_b gauge\n"
            "envoy_zz_a_b{} 1\n"
            "\n");
}

TEST(PrometheusTest, SanitizeName) {
  EXPECT_EQ(SanitizePrometheusName("envoy_cluster.upstream_rq"), "envoy_cluster_upstream_rq");
  EXPECT_EQ(SanitizePrometheusName("envoy.response_code"), "envoy_response_code");
  EXPECT_EQ(SanitizePrometheusName("a-b:c/d e\xc3\xa9"), "a_b_c_d_e__");
  EXPECT_EQ(SanitizePrometheusName("9lives"), "_9lives");
  EXPECT_EQ(SanitizePrometheusName("_9"), "_9");
  EXPECT_EQ(SanitizePrometheusName(""), "");
  EXPECT_EQ(SanitizePrometheusName("AZaz09_"), "AZaz09_");
}

TEST(PrometheusTest, OddCharactersInNames) {
  Store store;
  store.GetCounter("9.weird-name:x").Inc();
  EXPECT_EQ(RenderPrometheus(store, {}),
            "# TYPE envoy_9_weird_name_x counter\nenvoy_9_weird_name_x{} 1\n\n");
}

}  // namespace
}  // namespace stats
