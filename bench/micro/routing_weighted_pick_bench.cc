// Weighted cluster picks (WeightedPicker) for 2, 10 and 100 clusters: the pick alone (random
// values precomputed), the pick with the worker's PRNG draw included, and the full
// Route::PickCluster path (header_name lookup included).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "routing/random.h"
#include "routing/route.h"
#include "routing/weighted_picker.h"

namespace routing {
namespace {

std::vector<uint32_t> Weights(int64_t n) {
  // Weights 1..n: the picked index is unpredictable, the worst case for branchy searches (a
  // 99/1 canary split would be kinder to the branch predictor).
  std::vector<uint32_t> weights(static_cast<size_t>(n));
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<uint32_t>(i + 1);
  return weights;
}

void BM_WeightedPick(benchmark::State& state) {
  const WeightedPicker picker = *WeightedPicker::Create(Weights(state.range(0)));
  Random random(1);
  // 64 Ki values: a short cycle would let the branch predictor learn the sequence.
  constexpr size_t kValues = 1 << 16;
  std::vector<uint64_t> values(kValues);
  for (uint64_t& v : values) v = random.Next();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(picker.Pick(values[i++ & (kValues - 1)]));
  }
}
BENCHMARK(BM_WeightedPick)->Arg(2)->Arg(10)->Arg(100);

void BM_WeightedPickWithRandom(benchmark::State& state) {
  const WeightedPicker picker = *WeightedPicker::Create(Weights(state.range(0)));
  Random random(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(picker.Pick(random.Next()));
  }
}
BENCHMARK(BM_WeightedPickWithRandom)->Arg(2)->Arg(10)->Arg(100);

void BM_RandomNext(benchmark::State& state) {
  Random random(1);
  for (auto _ : state) benchmark::DoNotOptimize(random.Next());
}
BENCHMARK(BM_RandomNext);

void BM_RoutePickCluster(benchmark::State& state) {
  RouteActionConfig action;
  action.cluster_specifier = RouteActionConfig::ClusterSpecifier::kWeightedClusters;
  const std::vector<uint32_t> weights = Weights(state.range(0));
  for (size_t i = 0; i < weights.size(); ++i) {
    action.weighted_clusters.clusters.push_back({"cluster-" + std::to_string(i), weights[i], ""});
  }
  action.weighted_clusters.header_name = "x-canary-key";
  RouteConfig config;
  config.action = action;
  ValidationErrors errors;
  const std::optional<Route> route = Route::Create(config, 4096, &errors);
  HeaderList headers{{"user-agent", "bench"}, {"accept", "*/*"}, {"x-request-id", "abc"}};
  const RequestView request{.authority = "example.com",
                            .path = "/",
                            .method = "GET",
                            .scheme = "http",
                            .headers = &headers};
  Random random(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(route->PickCluster(request, random.Next()));
  }
}
BENCHMARK(BM_RoutePickCluster)->Arg(2)->Arg(10)->Arg(100);

}  // namespace
}  // namespace routing
