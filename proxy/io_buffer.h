#pragma once

// IoBuffer: a contiguous read buffer with a readable window [begin, end). Reads append at the end,
// parsers consume from the front, and the space is reused (compacted) instead of reallocated, so
// a connection keeps one buffer for its lifetime. Capacity grows only up to a caller-set maximum
// (the header limit), which is what bounds per-connection memory.

#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "boost/asio/buffer.hpp"

namespace proxy {

class IoBuffer {
 public:
  explicit IoBuffer(size_t initial = 16 * 1024) : storage_(initial) {}

  absl::string_view Data() const {
    return absl::string_view(storage_.data() + begin_, end_ - begin_);
  }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t capacity() const { return storage_.size(); }

  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Writable space of at least `min` bytes (growing up to `max_capacity` total), for a read.
  boost::asio::mutable_buffer Prepare(size_t min, size_t max_capacity) {
    if (storage_.size() - end_ < min && begin_ > 0) {
      std::memmove(storage_.data(), storage_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (storage_.size() - end_ < min && storage_.size() < max_capacity) {
      storage_.resize(std::min(max_capacity, std::max(storage_.size() * 2, end_ + min)));
    }
    return boost::asio::mutable_buffer(storage_.data() + end_, storage_.size() - end_);
  }
  void Commit(size_t n) { end_ += n; }
  // Whether the buffer is full at its maximum size (a header that does not fit).
  bool Full(size_t max_capacity) const {
    return begin_ == 0 && end_ == storage_.size() && storage_.size() >= max_capacity;
  }

 private:
  std::vector<char> storage_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace proxy
