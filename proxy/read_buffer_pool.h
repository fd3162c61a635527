#pragma once

// ReadBufferPool: one worker's spare read buffers. A connection takes one only when its socket has
// data (DrainingReadBuffer's pooled form) and gives it back once the bytes are used: an HTTP/2
// connection as soon as nghttp2 has them (it keeps partial frames itself), an HTTP/1.1 one when
// its IoBuffer is empty at the next read. So an idle connection holds no read buffer (an HTTP/2
// connection used to keep 32 KiB for its lifetime, an HTTP/1.1 one 16 KiB), and the pool hands
// out the most recently returned buffer first: the few a worker cycles through stay in cache. It
// keeps at most kMaxSpare spare buffers (2 MiB); more are freed on return. Not thread-safe: one
// pool per worker thread.

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
