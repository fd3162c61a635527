// WeightedPicker intervals, header pinning and distribution; cluster_header picks.

#include "routing/weighted_picker.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "routing/random.h"
#include "routing/route.h"
#include "tests/unit/routing/test_builders.h"

namespace routing {
namespace {

using testing::MakeRouteConfig;
using testing::Prefix;
using testing::WeightedAction;

TEST(RoutingWeightedPickerTest, HalfOpenIntervalsInConfigOrder) {
  const std::vector<uint32_t> weights = {1, 3, 0, 6};  // [0,1) [1,4) [4,4) [4,10)
  absl::StatusOr<WeightedPicker> picker = WeightedPicker::Create(weights);
  ASSERT_TRUE(picker.ok());
  EXPECT_EQ(picker->total_weight(), 10u);
  const std::vector<std::pair<uint64_t, size_t>> cases = {
      {0, 0},
      {1, 1},
      {3, 1},
      {4, 3},
      {9, 3},
      {10, 0},
      {13, 1},
      {14, 3},
      {std::numeric_limits<uint64_t>::max(), 3},  // 18446744073709551615 % 10 == 5
  };
  for (const auto& [value, want] : cases) {
    EXPECT_EQ(picker->Pick(value), want) << "value " << value;
  }
}

TEST(RoutingWeightedPickerTest, ZeroWeightsAreNeverPicked) {
  const std::vector<uint32_t> weights = {0, 5, 0, 0, 2, 0};
  absl::StatusOr<WeightedPicker> picker = WeightedPicker::Create(weights);
  ASSERT_TRUE(picker.ok());
  for (uint64_t v = 0; v < 100; ++v) {
    const size_t picked = picker->Pick(v);
    EXPECT_TRUE(picked == 1 || picked == 4) << v;
    EXPECT_EQ(picked, v % 7 < 5 ? 1u : 4u) << v;
  }
}

TEST(RoutingWeightedPickerTest, LargeTablesMatchALinearReference) {
  // Above the linear-scan limit the picker binary-searches; it must agree with the definition.
  for (size_t n : {17, 100, 1000}) {
    std::vector<uint32_t> weights;
    for (size_t i = 0; i < n; ++i) weights.push_back(static_cast<uint32_t>((i * 7919) % 13));
    absl::StatusOr<WeightedPicker> picker = WeightedPicker::Create(weights);
    ASSERT_TRUE(picker.ok());
    for (uint64_t v = 0; v < picker->total_weight() + 5; ++v) {
      const uint64_t selected = v % picker->total_weight();
      size_t want = 0;
      uint64_t end = 0;
      for (; want < n; ++want) {
        end += weights[want];
        if (selected < end) break;
      }
      ASSERT_EQ(picker->Pick(v), want) << "n=" << n << " value=" << v;
    }
  }
}

TEST(RoutingWeightedPickerTest, RejectsNothingToPick) {
  EXPECT_FALSE(WeightedPicker::Create(std::vector<uint32_t>{}).ok());
  EXPECT_FALSE(WeightedPicker::Create(std::vector<uint32_t>{0, 0}).ok());
}

TEST(RoutingWeightedPickerTest, NinetyTenDistribution) {
  const std::vector<uint32_t> weights = {90, 10};
  absl::StatusOr<WeightedPicker> picker = WeightedPicker::Create(weights);
  ASSERT_TRUE(picker.ok());
  Random random(42);
  constexpr int kPicks = 1'000'000;
  int canary = 0;
  for (int i = 0; i < kPicks; ++i) canary += picker->Pick(random.Next()) == 1 ? 1 : 0;
  // The standard deviation is 0.03 pp; 0.3 pp is far outside chance for a correct picker.
  EXPECT_NEAR(100.0 * canary / kPicks, 10.0, 0.3);
}

Route MakeRoute(RouteActionConfig action) {
  ValidationErrors errors;
  std::optional<Route> route = Route::Create(MakeRouteConfig(Prefix("/"), action), 4096, &errors);
  EXPECT_TRUE(route.has_value()) << errors.ToStatus();
  return std::move(*route);
}

std::string PickWithHeaders(const Route& route,
                            std::vector<std::pair<std::string, std::string>> header_values,
                            uint64_t random) {
  HeaderList headers;
  for (auto& [name, value] : header_values) headers.Add(name, value);
  RequestView request{
      .authority = "a", .path = "/", .method = "GET", .scheme = "http", .headers = &headers};
  return std::string(route.PickCluster(request, random).cluster);
}

TEST(RoutingWeightedPickerTest, HeaderPinsTheValue) {
  // Weights 50/50: value % 100 < 50 → stable, otherwise canary.
  const Route route = MakeRoute(WeightedAction({{"stable", 50}, {"canary", 50}}, "X-Canary-Key"));
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, std::string>> headers;
    uint64_t random;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"no header: random", {}, 70, "canary"},
      {"no header: random (2)", {}, 20, "stable"},
      {"one valid header pins", {{"x-canary-key", "20"}}, 70, "stable"},
      {"pinned value is taken modulo the total", {{"x-canary-key", "170"}}, 20, "canary"},
      {"uint64 max", {{"x-canary-key", "18446744073709551615"}}, 0, "stable"},  // % 100 == 15
      {"two headers: random", {{"x-canary-key", "20"}, {"x-canary-key", "20"}}, 70, "canary"},
      {"garbage: random", {{"x-canary-key", "abc"}}, 70, "canary"},
      {"negative: random", {{"x-canary-key", "-1"}}, 70, "canary"},
      {"overflow: random", {{"x-canary-key", "18446744073709551616"}}, 70, "canary"},
      {"empty: random", {{"x-canary-key", ""}}, 70, "canary"},
      {"other header: random", {{"x-other", "20"}}, 70, "canary"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PickWithHeaders(route, c.headers, c.random), c.want) << c.name;
  }
}

TEST(RoutingWeightedPickerTest, PickReturnsTheEntry) {
  RouteActionConfig action = WeightedAction({{"stable", 1}, {"canary", 1}});
  action.weighted_clusters.clusters[1].host_rewrite_literal = "canary.internal";
  const Route route = MakeRoute(action);
  RequestView request{.authority = "a", .path = "/", .method = "GET", .scheme = "http"};
  const ClusterPick pick = route.PickCluster(request, 1);
  EXPECT_EQ(pick.cluster, "canary");
  ASSERT_NE(pick.weighted_cluster, nullptr);
  EXPECT_EQ(pick.weighted_cluster->host_rewrite_literal, "canary.internal");
  EXPECT_EQ(route.PickCluster(request, 0).weighted_cluster->name, "stable");
}

TEST(RoutingWeightedPickerTest, PlainAndHeaderClusters) {
  const Route plain = MakeRoute(testing::ClusterAction("backend"));
  EXPECT_EQ(PickWithHeaders(plain, {}, 7), "backend");

  RouteActionConfig header_action;
  header_action.cluster_specifier = RouteActionConfig::ClusterSpecifier::kClusterHeader;
  header_action.cluster_header = "X-Cluster";
  const Route by_header = MakeRoute(header_action);
  EXPECT_EQ(PickWithHeaders(by_header, {{"x-cluster", "blue"}}, 0), "blue");
  EXPECT_EQ(PickWithHeaders(by_header, {{"x-cluster", "blue"}, {"x-cluster", "green"}}, 0),
            "blue");                                 // the first value
  EXPECT_EQ(PickWithHeaders(by_header, {}, 0), "");  // proxy: cluster_not_found_response_code

  ValidationErrors errors;
  DirectResponseConfig direct;
  std::optional<Route> direct_route =
      Route::Create(MakeRouteConfig(Prefix("/"), direct), 4096, &errors);
  ASSERT_TRUE(direct_route.has_value());
  RequestView request{.authority = "a", .path = "/", .method = "GET", .scheme = "http"};
  EXPECT_EQ(direct_route->PickCluster(request, 0).cluster, "");
  EXPECT_EQ(direct_route->PickCluster(request, 0).weighted_cluster, nullptr);
}

TEST(RoutingRandomTest, DeterministicPerSeed) {
  Random a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RoutingRandomTest, RoughlyUniformBits) {
  Random random(1);
  constexpr int kDraws = 100'000;
  int ones[64] = {};
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t x = random.Next();
    for (int bit = 0; bit < 64; ++bit) ones[bit] += (x >> bit) & 1;
  }
  for (int bit = 0; bit < 64; ++bit) EXPECT_NEAR(ones[bit], kDraws / 2, 1000) << "bit " << bit;
}

TEST(RoutingRandomTest, SplitMix64Advances) {
  uint64_t state = 0;
  const uint64_t first = SplitMix64(state);
  const uint64_t second = SplitMix64(state);
  EXPECT_NE(first, second);
  EXPECT_EQ(first, 0xe220a8397b1dcdafULL);  // the published first output for seed 0
}

}  // namespace
}  // namespace routing
