#pragma once

// ReadBufferPool: one worker's spare read buffers, for connections whose codec takes every byte it
// is given (HTTP/2: nghttp2 keeps partial frames itself). Such a connection holds a buffer only
// from the moment its socket has data until the codec has taken it (DrainingReadBuffer's pooled
// form), so an idle HTTP/2 connection holds none, where it used to keep 32 KiB for its lifetime.
// The pool hands out the most recently returned buffer first: the few a worker cycles through
// stay in cache. It keeps at most kMaxSpare spare buffers (2 MiB); more are freed on return.
// Not thread-safe: one pool per worker thread.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace proxy {

class ReadBufferPool {
 public:
  // A read of this size takes a 16 KiB HTTP/2 DATA frame and its neighbours in one system call.
  static constexpr size_t kBufferSize = 32 * 1024;
  static constexpr size_t kMaxSpare = 64;
  using Buffer = std::unique_ptr<char[]>;

  Buffer Take() {
    if (spare_.empty()) return std::make_unique_for_overwrite<char[]>(kBufferSize);
    Buffer buffer = std::move(spare_.back());
    spare_.pop_back();
    return buffer;
  }
  // Accepts an empty Buffer (nothing to return).
  void Return(Buffer buffer) {
    if (buffer != nullptr && spare_.size() < kMaxSpare) spare_.push_back(std::move(buffer));
  }
  size_t spare() const { return spare_.size(); }

 private:
  std::vector<Buffer> spare_;
};

}  // namespace proxy
