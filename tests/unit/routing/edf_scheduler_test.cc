// The EDF scheduler alone: proportions, interleaving, FIFO ties, weights recomputed on re-add.

#include "routing/lb/edf_scheduler.h"

#include <vector>

#include "gtest/gtest.h"

namespace routing::lb {
namespace {

TEST(RoutingEdfSchedulerTest, PicksInProportionToWeights) {
  const std::vector<double> weights = {1, 3, 5};
  EdfScheduler edf;
  for (size_t i = 0; i < weights.size(); ++i) edf.Add(i, weights[i]);
  std::vector<int> counts(3);
  for (int i = 0; i < 9000; ++i) ++counts[edf.PickAndAdd([&](size_t id) { return weights[id]; })];
  EXPECT_NEAR(counts[0], 1000, 1);
  EXPECT_NEAR(counts[1], 3000, 1);
  EXPECT_NEAR(counts[2], 5000, 1);
}

TEST(RoutingEdfSchedulerTest, EqualDeadlinesAreServedFirstInFirstOut) {
  EdfScheduler edf;
  for (size_t i = 0; i < 3; ++i) edf.Add(i, 1);
  std::vector<size_t> picks;
  for (int i = 0; i < 7; ++i) picks.push_back(edf.PickAndAdd([](size_t) { return 1.0; }));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RoutingEdfSchedulerTest, InterleavesByDeadline) {
  // Weights 1 and 2: deadlines a=1, b=0.5 → b (b→1.0); a=1.0 was added first → a (a→2.0);
  // b=1.0 → b (b→1.5); b=1.5 → b (b→2.0); a=2.0 was re-added first → a; then b.
  const std::vector<double> weights = {1, 2};
  EdfScheduler edf;
  edf.Add(0, weights[0]);
  edf.Add(1, weights[1]);
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) {
    picks.push_back(edf.PickAndAdd([&](size_t id) { return weights[id]; }));
  }
  EXPECT_EQ(picks, (std::vector<size_t>{1, 0, 1, 1, 0, 1}));
}

TEST(RoutingEdfSchedulerTest, WeightIsRecomputedOnReAdd) {
  std::vector<double> weights = {1, 1};
  EdfScheduler edf;
  edf.Add(0, weights[0]);
  edf.Add(1, weights[1]);
  weights[1] = 4;  // takes effect when entry 1 is next re-added
  std::vector<int> counts(2);
  for (int i = 0; i < 5000; ++i) ++counts[edf.PickAndAdd([&](size_t id) { return weights[id]; })];
  EXPECT_NEAR(counts[1], 4000, 2);
  EXPECT_EQ(edf.size(), 2u);
}

}  // namespace
}  // namespace routing::lb
