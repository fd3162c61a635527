#pragma once

// An HTTP/1.1 connection to one upstream host, owned by exactly one request at a time and parked
// in its worker's ConnPool between requests (keep-alive reuse).

#include <chrono>
#include <memory>

#include "proxy/asio_types.h"
#include "proxy/io_buffer.h"

namespace proxy::upstream {


struct UpstreamConnection {
  explicit UpstreamConnection(Executor executor, size_t host)
      : socket(executor), host_index(host) {}

  Socket socket;
  IoBuffer in{0};  // storage from the worker's ReadBufferPool while a response is in (NextRead)
  size_t host_index;
  uint32_t requests_served = 0;
  std::chrono::steady_clock::time_point idle_since;
};

}  // namespace proxy::upstream
