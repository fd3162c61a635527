// Endpoint picks per policy over 10 and 100 healthy hosts: ROUND_ROBIN with equal weights and
// with unequal weights (EDF), LEAST_REQUEST (P2C, and EDF for unequal weights), RANDOM. The
// random value comes from the worker's PRNG, as in the proxy.

#include <cstdint>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "routing/lb/endpoint_picker.h"
#include "routing/random.h"

namespace routing::lb {
namespace {

void PickBench(benchmark::State& state, LbPolicy policy, bool weighted) {
  ClusterConfig config;
  // Move-assign a std::string: assigning the literal trips a GCC 12 false -Wrestrict.
  config.name = std::string("c");
  config.lb_policy = policy;
  std::vector<Host> hosts(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < hosts.size(); ++i) hosts[i].weight = weighted ? 1 + i % 5 : 1;
  std::unique_ptr<EndpointPicker> picker = EndpointPicker::Create(config, hosts, 7);
  Random random(1);
  for (auto _ : state) {
    const size_t host = *picker->Pick(random.Next());
    // A request starts and ends, as on a worker (bookkeeping for LEAST_REQUEST).
    picker->OnRequestStart(host);
    picker->OnRequestEnd(host);
    benchmark::DoNotOptimize(host);
  }
}

void BM_RoundRobinEqual(benchmark::State& state) { PickBench(state, LbPolicy::kRoundRobin, false); }
void BM_RoundRobinWeighted(benchmark::State& state) {
  PickBench(state, LbPolicy::kRoundRobin, true);
}
void BM_LeastRequestEqual(benchmark::State& state) {
  PickBench(state, LbPolicy::kLeastRequest, false);
}
void BM_LeastRequestWeighted(benchmark::State& state) {
  PickBench(state, LbPolicy::kLeastRequest, true);
}
void BM_Random(benchmark::State& state) { PickBench(state, LbPolicy::kRandom, false); }

BENCHMARK(BM_RoundRobinEqual)->Arg(10)->Arg(100);
BENCHMARK(BM_RoundRobinWeighted)->Arg(10)->Arg(100);
BENCHMARK(BM_LeastRequestEqual)->Arg(10)->Arg(100);
BENCHMARK(BM_LeastRequestWeighted)->Arg(10)->Arg(100);
BENCHMARK(BM_Random)->Arg(10)->Arg(100);

}  // namespace
}  // namespace routing::lb
