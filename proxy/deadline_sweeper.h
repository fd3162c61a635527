#pragma once

// DeadlineSweeper: coarse per-worker timeouts without a timer per operation. Each connection
// embeds a Deadline and re-arms it as it moves between phases (idle, reading headers, waiting
// for the upstream); one periodic tick per worker fires the expired ones. Arming is a store of a
// time point: no timerfd update and no allocation per request, which an asio::steady_timer per
// operation would cost. The resolution is the tick (kTick), well under Envoy's millisecond
// timeouts' practical use (seconds).

#include <chrono>

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
  static constexpr std::chrono::milliseconds kTick{20};

  // Fires every deadline at or before `now`.
  void Sweep(Deadline::Clock::time_point now);

 private:
  friend class Deadline;
  Deadline* head_ = nullptr;
};

}  // namespace proxy
