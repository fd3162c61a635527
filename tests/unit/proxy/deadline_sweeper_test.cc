// DeadlineSweeper: which deadlines a sweep fires, the earliest armed one, and the wake hook that
// keeps a sleeping worker from firing a deadline late.

#include "proxy/deadline_sweeper.h"

#include <chrono>
#include <vector>

#include "gtest/gtest.h"

namespace proxy {
namespace {

using Clock = Deadline::Clock;
using std::chrono::seconds;

class RecordingDeadline : public Deadline {
 public:
  RecordingDeadline(DeadlineSweeper* sweeper, int id, std::vector<int>* fired)
      : id_(id), fired_(fired) {
    Register(sweeper);
  }

 private:
  void OnDeadline() override { fired_->push_back(id_); }
  int id_;
  std::vector<int>* fired_;
};

const Clock::time_point kStart = Clock::time_point() + seconds(1000);

TEST(DeadlineSweeperTest, SweepFiresExactlyThePassedDeadlinesOnce) {
  int wakes = 0;
  DeadlineSweeper sweeper([&] { ++wakes; });
  std::vector<int> fired;
  RecordingDeadline a(&sweeper, 1, &fired), b(&sweeper, 2, &fired), c(&sweeper, 3, &fired);
  a.ArmAt(kStart + seconds(1));
  b.ArmAt(kStart + seconds(2));
  c.ArmAt(kStart + seconds(3));
  c.Disarm();

  sweeper.Sweep(kStart + seconds(2));
  EXPECT_EQ(fired, (std::vector<int>{2, 1}));  // newest registered first
  EXPECT_FALSE(a.armed());
  EXPECT_FALSE(b.armed());
  sweeper.Sweep(kStart + seconds(10));
  EXPECT_EQ(fired.size(), 2u);
  EXPECT_EQ(wakes, 0);  // a ticking sweeper never calls the hook
}

TEST(DeadlineSweeperTest, EarliestIsTheFirstArmedDeadline) {
  DeadlineSweeper sweeper([] {});
  std::vector<int> fired;
  EXPECT_EQ(sweeper.Earliest(), Clock::time_point::max());
  {
    RecordingDeadline a(&sweeper, 1, &fired), b(&sweeper, 2, &fired);
    EXPECT_EQ(sweeper.Earliest(), Clock::time_point::max());
    a.ArmAt(kStart + seconds(5));
    b.ArmAt(kStart + seconds(3));
    EXPECT_EQ(sweeper.Earliest(), kStart + seconds(3));
    b.Disarm();
    EXPECT_EQ(sweeper.Earliest(), kStart + seconds(5));
  }
  // Destroyed deadlines leave the list.
  EXPECT_EQ(sweeper.Earliest(), Clock::time_point::max());
}

TEST(DeadlineSweeperTest, ArmingBeforeTheSleepEndsWakesTheOwner) {
  int wakes = 0;
  DeadlineSweeper sweeper([&] { ++wakes; });
  std::vector<int> fired;
  RecordingDeadline a(&sweeper, 1, &fired);

  sweeper.SleepUntil(kStart + seconds(60));
  EXPECT_TRUE(sweeper.sleeping());
  a.ArmAt(kStart + seconds(90));  // after the sleep: the owner sweeps in time anyway
  EXPECT_EQ(wakes, 0);
  a.ArmAt(kStart + seconds(60));
  EXPECT_EQ(wakes, 0);
  a.ArmAt(kStart + seconds(30));
  EXPECT_EQ(wakes, 1);

  sweeper.Awake();
  EXPECT_FALSE(sweeper.sleeping());
  a.ArmAt(kStart + seconds(1));
  EXPECT_EQ(wakes, 1);
}

}  // namespace
}  // namespace proxy
