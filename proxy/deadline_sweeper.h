#pragma once

// DeadlineSweeper: coarse per-worker timeouts without a timer per operation. Each connection
// embeds a Deadline and re-arms it as it moves between phases (idle, reading headers, waiting
// for the upstream); one periodic tick per worker fires the expired ones. Arming is a store of a
// time point: no timerfd update and no allocation per request, which an asio::steady_timer per
// operation would cost. The resolution is the tick (kTick), well under Envoy's millisecond
// timeouts' practical use (seconds).
//
// An idle worker does not tick: after a tick period without requests its owner sleeps until the
// earliest armed deadline (SleepUntil). Arming an earlier deadline while it sleeps calls the wake
// hook, so nothing fires late; while ticking, arming costs one comparison more.

#include <chrono>
#include <functional>

namespace proxy {

class DeadlineSweeper;

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  virtual ~Deadline();
  Deadline() = default;
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Fires OnDeadline() once `when` has passed (at the next tick), unless re-armed or disarmed.
  void ArmAt(Clock::time_point when);
  void Disarm() { when_ = Clock::time_point::max(); }
  bool armed() const { return when_ != Clock::time_point::max(); }
  Clock::time_point deadline() const { return when_; }

 protected:
  // Joins `sweeper` for this object's lifetime.
  void Register(DeadlineSweeper* sweeper);
  // Runs on the worker thread from the sweeper's tick; must not destroy `this`.
  virtual void OnDeadline() = 0;

 private:
  friend class DeadlineSweeper;
  DeadlineSweeper* sweeper_ = nullptr;
  Deadline* prev_ = nullptr;
  Deadline* next_ = nullptr;
  Clock::time_point when_ = Clock::time_point::max();
};

class DeadlineSweeper {
 public:
  using Clock = Deadline::Clock;
  static constexpr std::chrono::milliseconds kTick{20};

  // `wake` runs (on the worker thread, from ArmAt) when a deadline is armed before the time the
  // sleeping owner will next sweep.
  explicit DeadlineSweeper(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Fires every deadline at or before `now`.
  void Sweep(Clock::time_point now);
  // The earliest armed deadline, or Clock::time_point::max() if none is armed.
  Clock::time_point Earliest() const;
  // The owner will not sweep before `when`.
  void SleepUntil(Clock::time_point when) { sleeping_until_ = when; }
  // The owner sweeps every tick again.
  void Awake() { sleeping_until_ = Clock::time_point::min(); }
  bool sleeping() const { return sleeping_until_ != Clock::time_point::min(); }

 private:
  friend class Deadline;
  Deadline* head_ = nullptr;
  Clock::time_point sleeping_until_ = Clock::time_point::min();
  std::function<void()> wake_;
};

}  // namespace proxy
