// Endpoint pickers: panic threshold, ROUND_ROBIN (plain and EDF), LEAST_REQUEST (P2C and EDF),
// RANDOM.

#include "routing/lb/endpoint_picker.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/random.h"

namespace routing::lb {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<Host> Hosts(std::vector<bool> healthy, std::vector<uint32_t> weights = {}) {
  std::vector<Host> hosts;
  for (size_t i = 0; i < healthy.size(); ++i) {
    hosts.push_back({weights.empty() ? 1u : weights[i], static_cast<bool>(healthy[i])});
  }
  return hosts;
}

std::vector<Host> Healthy(size_t n, size_t healthy) {
  std::vector<bool> flags(n, false);
  for (size_t i = 0; i < healthy; ++i) flags[i] = true;
  return Hosts(flags);
}

ClusterConfig Config(LbPolicy policy, double panic_threshold = 50) {
  ClusterConfig config;
  config.name = "c";
  config.lb_policy = policy;
  config.healthy_panic_threshold = panic_threshold;
  return config;
}

std::vector<size_t> Picks(EndpointPicker& picker, int n, uint64_t random = 0) {
  std::vector<size_t> picks;
  for (int i = 0; i < n; ++i) picks.push_back(picker.Pick(random).value());
  return picks;
}

TEST(RoutingEligibleHostsTest, PanicThreshold) {
  struct Case {
    size_t total, healthy;
    double threshold;
    size_t want;  // number of eligible hosts
  };
  const std::vector<Case> cases = {
      {10, 10, 50, 10},  {10, 8, 50, 8},    // health min(100, 140*8/10) = 100: never panic
      {10, 8, 100, 8},                      // even with threshold 100
      {10, 6, 50, 6},                       // health 84; 60% >= 50%: healthy hosts only
      {10, 5, 50, 5},                       // 50% is not below 50%
      {10, 4, 50, 10},                      // health 56; 40% < 50%: panic, all hosts
      {10, 4, 40, 4},    {10, 4, 40.4, 4},  // the threshold is rounded to an integer percent (40)
      {10, 4, 40.5, 10},                    // ... 41
      {10, 0, 50, 10},                      // nothing healthy: panic
      {10, 0, 0, 0},                        // panic disabled: nothing to pick
      {10, 1, 0, 1},     {3, 2, 100, 3},    // health 93 < 100 and 66.7% < 100%: panic
      {4, 3, 100, 3},                       // health 105 → 100: no panic
      {0, 0, 50, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EligibleHosts(Healthy(c.total, c.healthy), c.threshold).size(), c.want)
        << c.healthy << "/" << c.total << " threshold " << c.threshold;
  }
  EXPECT_THAT(EligibleHosts(Hosts({true, false, true, true}), 50), ElementsAre(0, 2, 3));
  EXPECT_THAT(EligibleHosts(Hosts({false, true, false, false}), 50), ElementsAre(0, 1, 2, 3));
}

TEST(RoutingEndpointPickerTest, NoHostAvailable) {
  for (LbPolicy policy : {LbPolicy::kRoundRobin, LbPolicy::kLeastRequest, LbPolicy::kRandom}) {
    EXPECT_EQ(EndpointPicker::Create(Config(policy), {}, 1)->Pick(7), std::nullopt);
    EXPECT_EQ(EndpointPicker::Create(Config(policy, 0), Hosts({false, false}), 1)->Pick(7),
              std::nullopt);
    EXPECT_EQ(EndpointPicker::Create(Config(policy, 0), Hosts({false, false}, {1, 5}), 1)->Pick(7),
              std::nullopt);
  }
}

TEST(RoutingEndpointPickerTest, RoundRobinStartsAtSeed) {
  auto picker = EndpointPicker::Create(Config(LbPolicy::kRoundRobin), Healthy(4, 4), 6);
  EXPECT_THAT(Picks(*picker, 6), ElementsAre(2, 3, 0, 1, 2, 3));  // 6 % 4 == 2
  auto other = EndpointPicker::Create(Config(LbPolicy::kRoundRobin), Healthy(4, 4), 1);
  EXPECT_THAT(Picks(*other, 4), ElementsAre(1, 2, 3, 0));
}

TEST(RoutingEndpointPickerTest, RoundRobinSkipsUnhealthy) {
  auto picker =
      EndpointPicker::Create(Config(LbPolicy::kRoundRobin), Hosts({true, false, true, true}), 0);
  EXPECT_THAT(Picks(*picker, 6), ElementsAre(0, 2, 3, 0, 2, 3));
}

TEST(RoutingEndpointPickerTest, RoundRobinInPanicUsesAllHosts) {
  auto picker =
      EndpointPicker::Create(Config(LbPolicy::kRoundRobin), Hosts({false, false, true}), 0);
  EXPECT_THAT(Picks(*picker, 3), ElementsAre(0, 1, 2));
}

TEST(RoutingEndpointPickerTest, RoundRobinWeightedUsesEdf) {
  auto picker = EndpointPicker::Create(Config(LbPolicy::kRoundRobin),
                                       Hosts({true, true, true}, {1, 3, 5}), 0);
  std::vector<int> counts(3);
  for (size_t host : Picks(*picker, 9000)) ++counts[host];
  EXPECT_NEAR(counts[0], 1000, 1);
  EXPECT_NEAR(counts[1], 3000, 1);
  EXPECT_NEAR(counts[2], 5000, 1);
  // Weights 1:2 interleave as b a b b a b; a seed of 1 starts one pick later.
  auto seed0 =
      EndpointPicker::Create(Config(LbPolicy::kRoundRobin), Hosts({true, true}, {1, 2}), 0);
  auto seed1 =
      EndpointPicker::Create(Config(LbPolicy::kRoundRobin), Hosts({true, true}, {1, 2}), 1);
  EXPECT_THAT(Picks(*seed0, 6), ElementsAre(1, 0, 1, 1, 0, 1));
  EXPECT_THAT(Picks(*seed1, 5), ElementsAre(0, 1, 1, 0, 1));
}

TEST(RoutingEndpointPickerTest, RoundRobinWeightsOfEligibleHostsDecide) {
  // The only host with another weight is unhealthy: the healthy ones rotate plainly.
  auto picker = EndpointPicker::Create(Config(LbPolicy::kRoundRobin),
                                       Hosts({true, true, false, true}, {2, 2, 7, 2}), 0);
  EXPECT_THAT(Picks(*picker, 4), ElementsAre(0, 1, 3, 0));
}

double ShareOfHost(EndpointPicker& picker, size_t host, int picks, uint64_t seed) {
  Random random(seed);
  int hits = 0;
  for (int i = 0; i < picks; ++i) hits += picker.Pick(random.Next()) == host ? 1 : 0;
  return static_cast<double>(hits) / picks;
}

TEST(RoutingEndpointPickerTest, LeastRequestPrefersTheLessLoadedHost) {
  auto picker = EndpointPicker::Create(Config(LbPolicy::kLeastRequest), Healthy(2, 2), 0);
  // Idle: two uniform samples, the first wins ties: 50/50.
  EXPECT_NEAR(ShareOfHost(*picker, 1, 20000, 1), 0.5, 0.02);
  // Host 0 busy: host 1 wins unless both samples hit host 0 (1/4).
  for (int i = 0; i < 3; ++i) picker->OnRequestStart(0);
  EXPECT_NEAR(ShareOfHost(*picker, 1, 20000, 2), 0.75, 0.02);
  // Requests finish: balanced again.
  for (int i = 0; i < 3; ++i) picker->OnRequestEnd(0);
  EXPECT_NEAR(ShareOfHost(*picker, 1, 20000, 3), 0.5, 0.02);
  // Unbalanced ends and unknown hosts are ignored.
  picker->OnRequestEnd(0);
  picker->OnRequestStart(99);
  picker->OnRequestEnd(99);
  EXPECT_NEAR(ShareOfHost(*picker, 1, 20000, 4), 0.5, 0.02);
}

TEST(RoutingEndpointPickerTest, LeastRequestChoiceCount) {
  ClusterConfig config = Config(LbPolicy::kLeastRequest);
  config.least_request_choice_count = 5;
  auto picker = EndpointPicker::Create(config, Healthy(4, 4), 0);
  picker->OnRequestStart(0);
  picker->OnRequestStart(1);
  picker->OnRequestStart(2);
  // Only host 3 is idle: it loses only when none of the 5 samples hits it ((3/4)^5 = 24%).
  EXPECT_NEAR(ShareOfHost(*picker, 3, 20000, 5), 1 - 0.2373, 0.02);
}

TEST(RoutingEndpointPickerTest, LeastRequestIsDeterministic) {
  auto a = EndpointPicker::Create(Config(LbPolicy::kLeastRequest), Healthy(5, 5), 0);
  auto b = EndpointPicker::Create(Config(LbPolicy::kLeastRequest), Healthy(5, 5), 0);
  for (uint64_t r = 0; r < 1000; ++r) {
    const size_t picked = a->Pick(r * 0x9e3779b97f4a7c15ULL).value();
    EXPECT_EQ(b->Pick(r * 0x9e3779b97f4a7c15ULL).value(), picked);
    a->OnRequestStart(picked);
    b->OnRequestStart(picked);
  }
}

TEST(RoutingEndpointPickerTest, LeastRequestWeightedUsesActiveRequests) {
  auto picker = EndpointPicker::Create(Config(LbPolicy::kLeastRequest),
                                       Hosts({true, true, true}, {1, 1, 2}), 0);
  std::vector<int> counts(3);
  for (size_t host : Picks(*picker, 4000)) ++counts[host];
  EXPECT_NEAR(counts[2], 2000, 2);  // idle: plain 1:1:2
  // Three active requests on host 2: effective weight 2 / (3 + 1) = 0.5 → 0.5 / 2.5 = 20%.
  for (int i = 0; i < 3; ++i) picker->OnRequestStart(2);
  counts.assign(3, 0);
  for (size_t host : Picks(*picker, 5000)) ++counts[host];
  EXPECT_NEAR(counts[2], 1000, 5);
}

TEST(RoutingEndpointPickerTest, RandomIgnoresWeightsAndSkipsUnhealthy) {
  auto picker = EndpointPicker::Create(Config(LbPolicy::kRandom),
                                       Hosts({true, false, true, true}, {1, 1, 9, 1}), 0);
  std::vector<size_t> picks;
  for (uint64_t r = 0; r < 6; ++r) picks.push_back(picker->Pick(r).value());
  EXPECT_THAT(picks, ElementsAre(0, 2, 3, 0, 2, 3));
}

TEST(RoutingEndpointPickerTest, RandomPanicAndEmpty) {
  auto panic = EndpointPicker::Create(Config(LbPolicy::kRandom), Hosts({false, false}), 0);
  EXPECT_EQ(panic->Pick(1), 1u);
  EXPECT_THAT(EligibleHosts({}, 50), IsEmpty());
}

}  // namespace
}  // namespace routing::lb
