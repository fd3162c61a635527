#pragma once

// IoBuffer: a contiguous read buffer with a readable window [begin, end). Reads append at the end,
// parsers consume from the front, and the space is reused (compacted) instead of reallocated, so
// a connection keeps one buffer for its lifetime. Capacity grows only up to a caller-set maximum
// (the header limit), which is what bounds per-connection memory. With nothing buffered the
// storage can go back to the worker's ReadBufferPool (Release) and a pooled read's buffer becomes
// the storage (CommitRead): a connection waiting for its next message holds no buffer.

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/string_view.h"
#include "boost/asio/buffer.hpp"
#include "proxy/read_buffer_pool.h"

namespace proxy {

class IoBuffer {
 public:
  // The storage is not zero-filled: memory a connection never reads into stays untouched (and
  // not resident), which is most of it for small requests and responses.
  explicit IoBuffer(size_t initial = 16 * 1024)
      : storage_(initial > 0 ? std::make_unique_for_overwrite<char[]>(initial) : nullptr),
        capacity_(initial) {}

  absl::string_view Data() const {
    return absl::string_view(storage_.get() + begin_, end_ - begin_);
  }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t capacity() const { return capacity_; }

  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Writable space of at least `min` bytes (growing up to `max_capacity` total), for a read.
  boost::asio::mutable_buffer Prepare(size_t min, size_t max_capacity) {
    if (capacity_ - end_ < min && begin_ > 0) {
      std::memmove(storage_.get(), storage_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ - end_ < min && capacity_ < max_capacity) {
      const size_t grown = std::min(max_capacity, std::max(capacity_ * 2, end_ + min));
      auto bigger = std::make_unique_for_overwrite<char[]>(grown);
      if (end_ > 0) std::memcpy(bigger.get(), storage_.get(), end_);
      storage_ = std::move(bigger);
      capacity_ = grown;
    }
    return boost::asio::mutable_buffer(storage_.get() + end_, capacity_ - end_);
  }
  void Commit(size_t n) { end_ += n; }

  // With nothing buffered: gives the storage back (a buffer of the pool's size to `pool`, any
  // other is freed). The next Prepare() allocates again, or CommitRead() adopts a pooled buffer.
  void Release(ReadBufferPool& pool) {
    if (begin_ != end_ || storage_ == nullptr) return;
    if (capacity_ == ReadBufferPool::kBufferSize) {
      pool.Return(std::move(storage_));
    } else {
      storage_.reset();
    }
    capacity_ = 0;
    begin_ = end_ = 0;
  }
  // After a read of `n` bytes: into the buffer's own space (`pooled` empty), or into `pooled`, a
  // ReadBufferPool buffer taken by a read after Release(), which becomes the storage.
  void CommitRead(size_t n, ReadBufferPool::Buffer pooled) {
    if (pooled != nullptr) {
      storage_ = std::move(pooled);
      capacity_ = ReadBufferPool::kBufferSize;
      begin_ = end_ = 0;
    }
    end_ += n;
  }
  // Whether the buffer is full at its maximum size (a header that does not fit).
  bool Full(size_t max_capacity) const {
    return begin_ == 0 && end_ == capacity_ && capacity_ >= max_capacity;
  }

 private:
  std::unique_ptr<char[]> storage_;
  size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace proxy
