#include "proxy/draining_read.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spdlog/spdlog.h"

namespace proxy {

PeerCloseWatch::PeerCloseWatch(Executor executor) : descriptor_(executor) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    // Every socket then counts as closed: reads behave exactly as asio's own.
    spdlog::warn("epoll_create1 for the peer-close watch failed: errno {}", errno);
    return;
  }
  boost::system::error_code ec;
  descriptor_.assign(epoll_fd_, ec);
  if (ec) {
    ::close(epoll_fd_);
    epoll_fd_ = -1;
    return;
  }
  AwaitEvents();
}

PeerCloseWatch::~PeerCloseWatch() { Stop(); }

void PeerCloseWatch::Stop() {
  boost::system::error_code ignored;
  descriptor_.close(ignored);  // closes epoll_fd_
  epoll_fd_ = -1;
}

void PeerCloseWatch::Watch(Socket& socket) {
  const int fd = socket.native_handle();
  if (fd < 0) return;
  if (static_cast<size_t>(fd) >= peer_closed_.size()) {
    peer_closed_.resize(static_cast<size_t>(fd) + 1 + peer_closed_.size() / 2, 1);
  }
  epoll_event event{};
  // One-shot: after the peer's FIN nothing more is to be learned from this socket. (EPOLLERR and
  // EPOLLHUP are always reported too; they also end the draining rule for the socket.)
  event.events = EPOLLRDHUP | EPOLLONESHOT;
  event.data.fd = fd;
  peer_closed_[fd] =
      epoll_fd_ >= 0 && ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : 1;
}

void PeerCloseWatch::AwaitEvents() {
  descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                         [this](boost::system::error_code ec) {
                           if (ec) return;  // stopped
                           OnEvents();
                           AwaitEvents();
                         });
}

void PeerCloseWatch::OnEvents() {
  epoll_event events[64];
  int n;
  do {
    n = ::epoll_wait(epoll_fd_, events, 64, 0);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (static_cast<size_t>(fd) < peer_closed_.size()) peer_closed_[fd] = 1;
      // The read side is finished anyway; shutting it wakes the socket's waiters, which gives
      // asio's edge-triggered registration the new edge its queued read needs. Data still queued
      // before the FIN is read as usual.
      ::shutdown(fd, SHUT_RD);
    }
  } while (n == 64);
}

}  // namespace proxy
