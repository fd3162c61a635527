#pragma once

// TryWrite: sends what the socket takes right now, as one non-blocking send(2), without going
// through the event loop. The request path writes this way first and queues an asynchronous write
// only for what is left: on loopback and LAN a response head almost always fits the socket buffer,
// and an asio async_write costs an operation object, a posted completion and a coroutine resume
// even when its first (speculative) send takes everything.

#include <cstddef>

#include "absl/strings/string_view.h"
#include "boost/asio/buffer.hpp"
#include "boost/asio/error.hpp"
#include "proxy/asio_types.h"

namespace proxy {

// The number of bytes sent (0 when the socket buffer is full). `error` is set on a failure.
inline size_t TryWrite(Socket& socket, absl::string_view data, boost::system::error_code& error) {
  error.clear();
  if (data.empty()) return 0;
  // Asio's synchronous send waits in poll(2) on a full buffer unless the socket is in
  // user-visible non-blocking mode; asynchronous operations are unaffected by the mode.
  if (!socket.non_blocking()) {
    socket.non_blocking(true, error);
    if (error) return 0;
  }
  const size_t n = socket.write_some(boost::asio::buffer(data.data(), data.size()), error);
  if (error == boost::asio::error::would_block || error == boost::asio::error::try_again) {
    error.clear();
    return 0;
  }
  return error ? 0 : n;
}

}  // namespace proxy
