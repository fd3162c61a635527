#pragma once

// AsyncEvent: wakes one coroutine of a worker when something it waits for happened (an HTTP/2
// frame for its stream, room in a send buffer, a deadline). Single-threaded, like everything on a
// worker: Notify() and Wait() run on the worker's thread. A Notify() before the Wait() is not
// lost; several Notify() calls before a Wait() wake it once. Built on a timer that never expires,
// whose cancellation is the wake-up.

#include <chrono>
#include <optional>

#include "proxy/asio_types.h"

namespace proxy {

class AsyncEvent {
 public:
  explicit AsyncEvent(Executor executor) : executor_(executor) {}
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  void Notify() {
    notified_ = true;
    if (waiting_) timer_->cancel();
  }

  // Returns once Notify() was called (since the last Wait() returned).
  Task<void> Wait() {
    // The timer is made on the first wait that has to suspend: most events of a request (a body
    // that never comes, room that is never short) never wait, and constructing an asio timer
    // takes the io_context's service-registry lock.
    while (!notified_) {
      if (!timer_.has_value()) timer_.emplace(executor_);
      waiting_ = true;
      timer_->expires_at(Timer::time_point::max());
      co_await timer_->async_wait(kNoThrow);
      waiting_ = false;
    }
    notified_ = false;
  }

 private:
  Executor executor_;
  std::optional<Timer> timer_;
  bool notified_ = false;
  bool waiting_ = false;
};

}  // namespace proxy
