#include "proxy/worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "absl/time/clock.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "proxy/downstream_connection.h"
#include "proxy/http1/forwarding.h"
#include "proxy/worker_heap.h"
#include "spdlog/spdlog.h"

namespace proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Closes the cluster's idle upstream connections parked before `cutoff`.
void CloseIdleUpstreams(WorkerCluster& cluster, std::chrono::steady_clock::time_point cutoff) {
  const int closed = cluster.pool.CloseIdleBefore(cutoff);
  ClusterStats& stats = *cluster.entry->stats;
  for (int i = 0; i < closed; ++i) {
    stats.upstream_cx_active.Dec();
    stats.upstream_cx_destroy.Inc();
    stats.upstream_cx_destroy_local.Inc();
  }
  // The HTTP/2 connections count their own active/destroy stats when they close.
  const int closed_h2 = cluster.h2_pool.CloseIdleBefore(cutoff);
  stats.upstream_cx_idle_timeout.Add(closed + closed_h2);
}

// The picker's view of a host list.
std::vector<routing::lb::Host> LbHosts(const ClusterEntry& entry) {
  std::vector<routing::lb::Host> hosts;
  hosts.reserve(entry.hosts.size());
  for (const UpstreamHost& host : entry.hosts) {
    hosts.push_back({.weight = host.weight, .healthy = host.healthy});
  }
  return hosts;
}

Task<void> AcceptLoop(Worker* worker, std::shared_ptr<Acceptor> acceptor,
                      std::string listener_name) {
  Timer backoff(acceptor->get_executor());
  while (acceptor->is_open()) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
    if (ec) {
      // Out of file descriptors (or similar): back off instead of spinning on accept.
      spdlog::warn("worker {}: accept failed: {}", worker->index(), ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    worker->peer_close_watch().Watch(socket);
    auto connection =
        std::make_shared<DownstreamConnection>(*worker, listener_name, std::move(socket));
    asio::co_spawn(worker->io(), connection->Run(), asio::detached);
  }
}

}  // namespace

Worker::Worker(int index, uint64_t seed, ServerFlags* flags)
    : index_(index), flags_(flags), random_(seed), seed_(seed), tick_timer_(io_) {
  RefreshDate();
  mailbox_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  mailbox_wakeup_ = std::make_unique<asio::posix::stream_descriptor>(io_, mailbox_fd_);
}

Worker::~Worker() { Join(); }

void Worker::Start() {
  thread_ = std::thread([this] {
    WorkerHeap::UseOnThisThread();
    Tick();
    WaitForMail();
    io_.run();
  });
}

void Worker::Post(std::function<void()> task) {
  {
    absl::MutexLock lock(&mailbox_mu_);
    mailbox_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  (void)!::write(mailbox_fd_, &one, sizeof(one));
}

void Worker::WaitForMail() {
  mailbox_wakeup_->async_read_some(
      asio::buffer(&mailbox_read_, sizeof(mailbox_read_)),
      [this](boost::system::error_code ec, size_t) {
        if (ec == asio::error::operation_aborted) return;
        std::vector<std::function<void()>> tasks;
        {
          absl::MutexLock lock(&mailbox_mu_);
          tasks.swap(mailbox_);
        }
        for (auto& task : tasks) task();
        if (!shutting_down_) WaitForMail();
      });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::RefreshDate() {
  const auto now = std::chrono::system_clock::now();
  const auto second = std::chrono::floor<std::chrono::seconds>(now);
  if (second != date_second_) {
    date_second_ = second;
    date_ = http1::HttpDate(absl::FromChrono(now));
  }
}

void Worker::Tick() {
  if (shutting_down_) return;
  const auto now = std::chrono::steady_clock::now();
  coarse_now_ = now;
  sweeper_.Awake();
  sweeper_.Sweep(now);
  RefreshDate();
  if (now >= next_upstream_idle_check_) {  // about once a second
    for (auto& [name, cluster] : clusters_) {
      // The cluster's idle_timeout (Envoy's default: 1 h); zero keeps connections.
      const absl::Duration idle = cluster->entry->cluster->config().idle_timeout;
      if (idle > absl::ZeroDuration()) {
        CloseIdleUpstreams(*cluster, now - absl::ToChronoNanoseconds(idle));
      }
    }
    next_upstream_idle_check_ = now + std::chrono::seconds(1);
  }
  ScheduleTick(now);
}

void Worker::ScheduleTick(std::chrono::steady_clock::time_point now) {
  auto next = now + DeadlineSweeper::kTick;
  if (!busy_) {
    // Nothing read the clock for a whole tick: no request is running. Ticking on would wake an
    // idle sidecar 50 times a second for nothing; sleep until something is due instead.
    const auto due = std::min(sweeper_.Earliest(), NextUpstreamIdleExpiry());
    if (due > next) {
      next = due;
      sweeper_.SleepUntil(due);
    }
  }
  busy_ = false;
  if (next == std::chrono::steady_clock::time_point::max()) {
    tick_timer_.cancel();
    return;
  }
  tick_timer_.expires_at(next);
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Tick();
  });
}

void Worker::Wake() {
  sweeper_.Awake();
  if (shutting_down_) return;
  coarse_now_ = std::chrono::steady_clock::now();
  RefreshDate();
  busy_ = true;
  tick_timer_.expires_at(coarse_now_ + DeadlineSweeper::kTick);  // cancels the sleep's wait
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Tick();
  });
}

std::chrono::steady_clock::time_point Worker::NextUpstreamIdleExpiry() const {
  auto expiry = std::chrono::steady_clock::time_point::max();
  for (const auto& [name, cluster] : clusters_) {
    const absl::Duration idle = cluster->entry->cluster->config().idle_timeout;
    if (idle <= absl::ZeroDuration()) continue;
    const auto oldest =
        std::min(cluster->pool.oldest_idle_since(), cluster->h2_pool.oldest_idle_since());
    if (oldest != std::chrono::steady_clock::time_point::max()) {
      // Capped so a huge timeout cannot overflow the time point.
      expiry = std::min(expiry,
                        oldest + absl::ToChronoNanoseconds(std::min(idle, absl::Hours(24 * 365))));
    }
  }
  return expiry;
}

void Worker::ApplyConfig(std::shared_ptr<const ServingConfig> config) {
  absl::flat_hash_map<std::string, std::unique_ptr<WorkerCluster>> next;
  for (const auto& [name, entry] : config->clusters) {
    auto it = clusters_.find(name);
    std::unique_ptr<WorkerCluster> cluster;
    if (it != clusters_.end()) {
      cluster = std::move(it->second);
      clusters_.erase(it);
    }
    if (cluster != nullptr && cluster->entry == entry) {
      next.emplace(name, std::move(cluster));
      continue;
    }
    auto fresh = std::make_unique<WorkerCluster>();
    fresh->entry = entry;
    fresh->picker = routing::lb::EndpointPicker::Create(entry->cluster->config(), LbHosts(*entry),
                                                        seed_ + std::hash<std::string>{}(name));
    fresh->generation = cluster != nullptr ? cluster->generation + 1 : 0;
    if (cluster != nullptr) {
      // Keep idle connections to hosts that are still there.
      std::vector<int> remap(cluster->entry->hosts.size(), -1);
      for (size_t i = 0; i < cluster->entry->hosts.size(); ++i) {
        for (size_t j = 0; j < entry->hosts.size(); ++j) {
          if (cluster->entry->hosts[i].endpoint == entry->hosts[j].endpoint) {
            remap[i] = static_cast<int>(j);
            break;
          }
        }
      }
      int closed = 0;
      fresh->pool = cluster->pool.Remap(remap, entry->hosts.size(), &closed);
      fresh->h2_pool = cluster->h2_pool.Remap(remap, entry->hosts.size());
      for (int i = 0; i < closed; ++i) {
        cluster->entry->stats->upstream_cx_active.Dec();
        cluster->entry->stats->upstream_cx_destroy.Inc();
        cluster->entry->stats->upstream_cx_destroy_local.Inc();
      }
      // Requests in flight on the old object finish with it.
      cluster->removed = true;
      if (cluster->in_flight > 0) removed_clusters_.push_back(std::move(cluster));
    } else {
      fresh->pool = upstream::ConnPool(entry->hosts.size());
      fresh->h2_pool = upstream::H2Pool(entry->hosts.size());
    }
    next.emplace(name, std::move(fresh));
  }
  // Clusters gone from the config.
  for (auto& [name, cluster] : clusters_) {
    cluster->removed = true;
    CloseIdleUpstreams(*cluster, std::chrono::steady_clock::time_point::max());
    cluster->h2_pool.Remap({}, 0);  // retires every connection: they close when idle
    if (cluster->in_flight > 0) removed_clusters_.push_back(std::move(cluster));
  }
  clusters_ = std::move(next);
  config_ = std::move(config);
  if (sweeper_.sleeping()) Wake();  // idle timeouts may have changed: re-plan the sleep
  std::vector<DownstreamConnection*> connections = connections_;
  for (DownstreamConnection* connection : connections) connection->OnConfigUpdate();
}

WorkerCluster* Worker::AcquireCluster(absl::string_view name) {
  auto it = clusters_.find(name);
  if (it == clusters_.end()) return nullptr;
  ++it->second->in_flight;
  return it->second.get();
}

void Worker::ReleaseCluster(WorkerCluster* cluster) {
  if (--cluster->in_flight > 0 || !cluster->removed) return;
  auto it = std::find_if(removed_clusters_.begin(), removed_clusters_.end(),
                         [&](const auto& c) { return c.get() == cluster; });
  if (it != removed_clusters_.end()) removed_clusters_.erase(it);
}

void Worker::AddListener(const std::string& name, int fd, bool v6) {
  auto acceptor = std::make_shared<Acceptor>(io_);
  boost::system::error_code ec;
  acceptor->assign(v6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    spdlog::error("worker {}: cannot use listener socket: {}", index_, ec.message());
    ::close(fd);
    return;
  }
  acceptors_.push_back({name, acceptor});
  asio::co_spawn(io_, AcceptLoop(this, std::move(acceptor), name), asio::detached);
}

void Worker::RemoveListener(const std::string& name) {
  for (auto it = acceptors_.begin(); it != acceptors_.end();) {
    if (it->name != name) {
      ++it;
      continue;
    }
    boost::system::error_code ignored;
    it->acceptor->close(ignored);
    it = acceptors_.erase(it);
  }
}

void Worker::StopAccepting() {
  for (auto& listener : acceptors_) {
    boost::system::error_code ignored;
    listener.acceptor->close(ignored);
  }
}

void Worker::StartDrain() {
  std::vector<DownstreamConnection*> connections = connections_;
  for (DownstreamConnection* connection : connections) connection->OnDrain();
}

void Worker::Shutdown() {
  shutting_down_ = true;
  StopAccepting();
  std::vector<DownstreamConnection*> connections = connections_;
  for (DownstreamConnection* connection : connections) connection->Abort();
  for (auto& [name, cluster] : clusters_) {
    CloseIdleUpstreams(*cluster, std::chrono::steady_clock::time_point::max());
  }
  boost::system::error_code ignored;
  tick_timer_.cancel(ignored);
  mailbox_wakeup_->cancel(ignored);
  peer_close_watch_.Stop();
  // Let the aborted coroutines unwind, then stop.
  asio::post(io_, [this] { io_.stop(); });
}

Worker::RequestId Worker::NewRequestId() {
  // UUID version 4 from the worker's generator, formatted by hand (this runs per request).
  uint64_t hi = random_.Next();
  uint64_t lo = random_.Next();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  RequestId id;
  char* out = id.data();
  for (int byte = 0; byte < 16; ++byte) {
    if (byte == 4 || byte == 6 || byte == 8 || byte == 10) *out++ = '-';
    const uint64_t word = byte < 8 ? hi : lo;
    const unsigned value = (word >> (56 - 8 * (byte % 8))) & 0xff;
    *out++ = kHex[value >> 4];
    *out++ = kHex[value & 0xf];
  }
  return id;
}

void Worker::OnConnectionOpen(DownstreamConnection* connection) {
  connections_.push_back(connection);
  active_connections_.fetch_add(1, std::memory_order_relaxed);
}

void Worker::OnConnectionClose(DownstreamConnection* connection) {
  auto it = std::find(connections_.begin(), connections_.end(), connection);
  if (it != connections_.end()) {
    *it = connections_.back();
    connections_.pop_back();
  }
  active_connections_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace proxy
