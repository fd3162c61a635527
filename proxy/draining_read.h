#pragma once

// Reads that skip the syscall asio would waste: "a short read means the socket is drained",
// unless the peer has closed.
//
// Asio starts every asynchronous read with a speculative recv(2) and stops doing so only after a
// read of 0 bytes (end of stream). On the request path almost every read is short (a request or
// a response arrives whole), so the next read's speculative attempt fails with EAGAIN: two wasted
// syscalls per proxied request (one per side). The reactor registers sockets edge-triggered, and
// on a TCP socket a short read means the receive queue was empty at that moment; later data
// raises a new edge, which re-enables the speculative attempt. That is the rule HAProxy follows.
//
// The exception is the peer's FIN arriving with (or just after) the last data: the short read
// returns the data, end of stream is pending, and no new edge will come. HAProxy learns about it
// from EPOLLRDHUP; asio does not register EPOLLRDHUP. So each worker has a PeerCloseWatch: a
// second epoll set holding the worker's request-path sockets for EPOLLRDHUP only (one-shot),
// itself waited on through asio. When a peer closes, the watch records it (reads of that socket
// are no longer treated as draining) and shuts the socket's read side, which raises the edge the
// queued read needs to see the end of stream.
//
// DrainingReadBuffer carries the watch into asio's receive operation, which this file
// specializes: identical to asio's own (boost 1.81, detail/reactive_socket_recv_op.hpp) except
// that a short read reports "done and exhausted" when the watch has not seen the peer close.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "boost/asio/buffer.hpp"
#include "boost/asio/posix/basic_stream_descriptor.hpp"
#include "boost/asio/socket_base.hpp"
#include "boost/version.hpp"
#include "proxy/asio_types.h"
#include "proxy/io_buffer.h"
#include "proxy/read_buffer_pool.h"

// After socket_base.hpp: this detail header uses socket_base without including it.
#include "boost/asio/detail/reactive_socket_recv_op.hpp"

namespace proxy {

class PeerCloseWatch {
 public:
  explicit PeerCloseWatch(Executor executor);
  ~PeerCloseWatch();
  PeerCloseWatch(const PeerCloseWatch&) = delete;
  PeerCloseWatch& operator=(const PeerCloseWatch&) = delete;

  // Starts watching a connected socket of this worker. Every socket read through a
  // DrainingReadBuffer must be watched from its accept or connect on.
  void Watch(Socket& socket);
  // Whether reads of `fd` must not be taken as draining it: its peer closed, or it is not watched.
  bool PeerClosed(int fd) const {
    return static_cast<size_t>(fd) >= peer_closed_.size() || peer_closed_[fd] != 0;
  }
  // Stops waiting (the worker is shutting down).
  void Stop();

 private:
  void AwaitEvents();
  void OnEvents();

  int epoll_fd_ = -1;
  boost::asio::posix::basic_stream_descriptor<Executor> descriptor_;
  std::vector<uint8_t> peer_closed_;  // by file descriptor
};

// A single read buffer whose short read tells asio's reactor the socket is drained. In its pooled
// form the buffer is taken from a ReadBufferPool only when the socket has data: the receive puts
// it in `*slot`, and the caller, which owns it from then on, returns it once its codec has taken
// the bytes. A receive that finds no data returns the buffer to the pool before it waits.
class DrainingReadBuffer {
 public:
  using value_type = boost::asio::mutable_buffer;
  using const_iterator = const boost::asio::mutable_buffer*;

  DrainingReadBuffer(boost::asio::mutable_buffer buffer, const PeerCloseWatch& watch)
      : buffer_(buffer), watch_(&watch) {}
  DrainingReadBuffer(ReadBufferPool& pool, ReadBufferPool::Buffer* slot,
                     const PeerCloseWatch& watch)
      // Asio completes a read of an empty sequence at once: the sequence shows the pool's size.
      : buffer_(nullptr, ReadBufferPool::kBufferSize), watch_(&watch), pool_(&pool), slot_(slot) {}

  const boost::asio::mutable_buffer* begin() const { return &buffer_; }
  const boost::asio::mutable_buffer* end() const { return &buffer_ + 1; }
  const boost::asio::mutable_buffer& buffer() const { return buffer_; }
  const PeerCloseWatch& watch() const { return *watch_; }
  ReadBufferPool* pool() const { return pool_; }
  ReadBufferPool::Buffer* slot() const { return slot_; }

 private:
  boost::asio::mutable_buffer buffer_;
  const PeerCloseWatch* watch_;
  ReadBufferPool* pool_ = nullptr;
  ReadBufferPool::Buffer* slot_ = nullptr;
};

// The next read into `in`: with nothing buffered, `in` gives its storage back and the read takes
// a pooled buffer into `*slot`; otherwise into `in`'s free space (at least `min` bytes, growing
// up to `max_capacity`). Either way, hand the result to in.CommitRead(n, std::move(*slot)).
inline DrainingReadBuffer NextRead(IoBuffer& in, size_t min, size_t max_capacity,
                                   ReadBufferPool& pool, ReadBufferPool::Buffer* slot,
                                   const PeerCloseWatch& watch) {
  if (in.empty()) {
    in.Release(pool);
    return DrainingReadBuffer(pool, slot, watch);
  }
  return DrainingReadBuffer(in.Prepare(min, max_capacity), watch);
}

}  // namespace proxy

namespace boost::asio::detail {

// The specialization mirrors this Boost's receive operation; re-check it when Boost changes.
static_assert(BOOST_VERSION / 100 == 1081, "DrainingReadBuffer mirrors Boost 1.81's receive op");

template <>
class reactive_socket_recv_op_base<proxy::DrainingReadBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const proxy::DrainingReadBuffer& buffers,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffer_(buffers.buffer()),
        watch_(&buffers.watch()),
        pool_(buffers.pool()),
        slot_(buffers.slot()),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* op = static_cast<reactive_socket_recv_op_base*>(base);
    const bool stream = (op->state_ & socket_ops::stream_oriented) != 0;
    if (op->pool_ != nullptr) {
      if (*op->slot_ == nullptr) *op->slot_ = op->pool_->Take();
      op->buffer_ =
          boost::asio::mutable_buffer(op->slot_->get(), proxy::ReadBufferPool::kBufferSize);
    }
    if (!socket_ops::non_blocking_recv1(op->socket_, op->buffer_.data(), op->buffer_.size(),
                                        op->flags_, stream, op->ec_, op->bytes_transferred_)) {
      if (op->pool_ != nullptr)
        op->pool_->Return(std::move(*op->slot_));  // none held while waiting
      return not_done;
    }
    if (!stream) return done;
    // Asio's own rule: 0 bytes (end of stream or an error).
    if (op->bytes_transferred_ == 0) return done_and_exhausted;
    if (op->bytes_transferred_ < op->buffer_.size() && !op->watch_->PeerClosed(op->socket_)) {
      return done_and_exhausted;
    }
    return done;
  }

 private:
  socket_type socket_;
  socket_ops::state_type state_;
  boost::asio::mutable_buffer buffer_;
  const proxy::PeerCloseWatch* watch_;
  proxy::ReadBufferPool* pool_;
  proxy::ReadBufferPool::Buffer* slot_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
