#include "proxy/upstream/conn_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace proxy::upstream {
namespace {

// An idle HTTP/1.1 connection must have nothing to read: EOF means the upstream closed it, and
// data means it sent something unsolicited; neither can carry the next request.
bool LooksAlive(UpstreamConnection& connection) {
  char byte;
  ssize_t n = ::recv(connection.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::unique_ptr<UpstreamConnection> ConnPool::TakeIdle(
    size_t host, std::chrono::steady_clock::time_point now,
    std::chrono::steady_clock::duration peek_after, int* closed) {
  auto& list = idle_[host];
  while (!list.empty()) {
    std::unique_ptr<UpstreamConnection> connection = std::move(list.back());
    list.pop_back();
    if (now - connection->idle_since < peek_after || LooksAlive(*connection)) return connection;
    boost::system::error_code ignored;
    connection->socket.close(ignored);
    ++*closed;
  }
  return nullptr;
}

void ConnPool::Park(std::unique_ptr<UpstreamConnection> connection,
                    std::chrono::steady_clock::time_point now) {
  connection->idle_since = now;
  idle_[connection->host_index].push_back(std::move(connection));
}

int ConnPool::CloseIdleBefore(std::chrono::steady_clock::time_point cutoff) {
  int closed = 0;
  for (auto& list : idle_) {
    // Oldest first: the front of each LIFO list.
    size_t keep_from = 0;
    while (keep_from < list.size() && list[keep_from]->idle_since < cutoff) ++keep_from;
    for (size_t i = 0; i < keep_from; ++i) {
      boost::system::error_code ignored;
      list[i]->socket.close(ignored);
      ++closed;
    }
    list.erase(list.begin(), list.begin() + static_cast<ptrdiff_t>(keep_from));
  }
  return closed;
}

ConnPool ConnPool::Remap(const std::vector<int>& new_index, size_t num_hosts, int* closed) {
  ConnPool next(num_hosts);
  for (size_t old = 0; old < idle_.size(); ++old) {
    for (auto& connection : idle_[old]) {
      if (old < new_index.size() && new_index[old] >= 0) {
        connection->host_index = static_cast<size_t>(new_index[old]);
        next.idle_[connection->host_index].push_back(std::move(connection));
      } else {
        boost::system::error_code ignored;
        connection->socket.close(ignored);
        ++*closed;
      }
    }
  }
  idle_.clear();
  return next;
}

std::chrono::steady_clock::time_point ConnPool::oldest_idle_since() const {
  auto oldest = std::chrono::steady_clock::time_point::max();
  for (const auto& list : idle_) {
    if (!list.empty())
      oldest = std::min(oldest, list.front()->idle_since);  // LIFO: front is oldest
  }
  return oldest;
}

size_t ConnPool::idle_count() const {
  size_t count = 0;
  for (const auto& list : idle_) count += list.size();
  return count;
}

}  // namespace proxy::upstream
