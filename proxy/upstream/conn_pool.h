#pragma once

// ConnPool: one worker's idle keep-alive connections to the hosts of one cluster. No locks (a
// worker's pool is only touched on its thread). A parked connection has no read pending, so a
// close by the upstream is noticed when the connection is taken: TakeIdle() peeks the socket
// (non-blocking MSG_PEEK) and drops connections that were closed or sent unexpected bytes.
// Upstreams close idle connections after seconds, so a connection parked for less than
// `peek_after` skips the peek (it would cost a syscall per request under load); a close that
// races with that is caught by the caller, which retries once on a fresh connection when the
// request can be replayed (no body), and always peeks when it cannot.

#include <chrono>
#include <memory>
#include <vector>

#include "proxy/upstream/upstream_connection.h"

namespace proxy::upstream {

// The `peek_after` for requests that can be replayed on a new connection if the one taken was
// stale: connections parked for less than this are taken without a peek.
inline constexpr auto kUncheckedReuse = std::chrono::seconds(1);

class ConnPool {
 public:
  explicit ConnPool(size_t num_hosts) : idle_(num_hosts) {}

  // A live idle connection to `host`, most recently used first, or nullptr. `closed` counts the
  // dead connections dropped on the way. `now` (here and in Park) is the worker's tick time: the
  // pool's ages are compared with a second or more, and a clock read per call costs more.
  std::unique_ptr<UpstreamConnection> TakeIdle(size_t host,
                                               std::chrono::steady_clock::time_point now,
                                               std::chrono::steady_clock::duration peek_after,
                                               int* closed);
  void Park(std::unique_ptr<UpstreamConnection> connection,
            std::chrono::steady_clock::time_point now);
  // Closes connections idle since before `cutoff`; returns how many.
  int CloseIdleBefore(std::chrono::steady_clock::time_point cutoff);
  // Moves connections for hosts that still exist into a pool over a new host list.
  // `new_index[old]` is the host's index in the new list, or -1 if it is gone.
  ConnPool Remap(const std::vector<int>& new_index, size_t num_hosts, int* closed);
  size_t idle_count() const;
  // When the longest-idle connection was parked; time_point::max() if none is.
  std::chrono::steady_clock::time_point oldest_idle_since() const;

 private:
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;  // per host, LIFO
};

}  // namespace proxy::upstream
