#include "proxy/server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/post.hpp"
#include "spdlog/spdlog.h"

namespace proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr char kVersion[] = "weir/0.1.0";
constexpr auto kInitTimeout = std::chrono::seconds(5);

bool Healthy(routing::HealthStatus status) {
  return status == routing::HealthStatus::kUnknown || status == routing::HealthStatus::kHealthy;
}

// Fails if another process already listens on `endpoint`. The worker sockets use SO_REUSEPORT,
// which would otherwise let a second proxy on the same port silently take half the connections:
// a plain bind (no SO_REUSEPORT) conflicts with any existing listener.
absl::Status CheckPortFree(const tcp::endpoint& endpoint) {
  if (endpoint.port() == 0) return absl::OkStatus();
  int fd = ::socket(endpoint.address().is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // TIME_WAIT is no conflict
  if (endpoint.address().is_v6()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  const int result = ::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size()));
  const int error = errno;
  ::close(fd);
  if (result != 0) return absl::UnavailableError(std::strerror(error));
  return absl::OkStatus();
}

// A listening socket bound with SO_REUSEPORT, so each worker can own one on the same port.
absl::StatusOr<int> BindListenerSocket(const tcp::endpoint& endpoint, int backlog) {
  const bool v6 = endpoint.address().is_v6();
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (v6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 ||
      ::listen(fd, backlog) != 0) {
    int error = errno;
    ::close(fd);
    return absl::UnavailableError(std::strerror(error));
  }
  return fd;
}

}  // namespace

// A STRICT_DNS or LOGICAL_DNS cluster's resolution state (main thread). Replaced when the
// cluster's endpoints change; `id` lets late resolver callbacks of a replaced one be ignored.
struct Server::DnsCluster {
  DnsCluster(asio::io_context& io, std::shared_ptr<const routing::Cluster> c, uint64_t i)
      : cluster(std::move(c)), id(i), resolver(io), refresh(io) {}
  std::shared_ptr<const routing::Cluster> cluster;
  const uint64_t id;
  tcp::resolver resolver;
  asio::steady_timer refresh;
  std::vector<std::vector<UpstreamHost>> results;  // per endpoint, from the round in flight
  std::vector<UpstreamHost> hosts;                 // from the last good round
  size_t outstanding = 0;
  bool first_round_done = false;
  bool counts_for_init = false;  // a static cluster: LIVE waits for its first round
};

Server::Server(Options options, xds::BootstrapConfig bootstrap)
    : options_(std::move(options)),
      bootstrap_(std::move(bootstrap)),
      server_stats_(store_),
      manager_stats_(store_),
      admin_(io_),
      signals_(io_, SIGTERM, SIGINT),
      init_timer_(io_),
      drain_timer_(io_) {}

Server::~Server() {
  for (auto& worker : workers_) worker->Join();
}

Server::State Server::state() const {
  if (!initialized_) return State::kPreInitializing;
  if (draining_ || flags_.health_check_failed.load()) return State::kDraining;
  return State::kLive;
}

void Server::UpdateServerStats() {
  server_stats_.uptime.Set(absl::ToInt64Seconds(absl::Now() - started_));
  server_stats_.state.Set(static_cast<int64_t>(state()));
  server_stats_.live.Set(state() == State::kLive ? 1 : 0);
  int total = 0;
  for (const auto& worker : workers_) total += worker->active_connections();
  server_stats_.total_connections.Set(total);
}

int Server::Run() {
  dynamic_ = std::make_unique<xds::DynamicConfig>(bootstrap_, absl::Now());
  const unsigned concurrency =
      options_.concurrency.value_or(std::max(1u, std::thread::hardware_concurrency()));
  server_stats_.concurrency.Set(concurrency);
  std::random_device seeder;
  for (unsigned i = 0; i < concurrency; ++i) {
    const uint64_t seed = (static_cast<uint64_t>(seeder()) << 32) ^ seeder() ^ i;
    workers_.push_back(std::make_unique<Worker>(static_cast<int>(i), seed, &flags_));
  }
  if (absl::Status status = ApplySnapshot(dynamic_->snapshot()); !status.ok()) {
    spdlog::critical("{}", std::string(status.message()));
    return 1;
  }
  RegisterAdminHandlers();
  if (absl::Status status = StartAdmin(); !status.ok()) {
    spdlog::critical("{}", std::string(status.message()));
    return 1;
  }
  for (auto& worker : workers_) worker->Start();

  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGTERM && !draining_) {
      spdlog::info("SIGTERM: draining (up to {} s)", options_.drain_time_s);
      StartDrain(/*exit_when_done=*/true,
                 std::min(absl::Seconds(5), absl::Seconds(options_.drain_time_s) / 2));
      signals_.async_wait([this](boost::system::error_code ec2, int) {
        if (!ec2) Shutdown();  // a second signal: stop now
      });
    } else {
      spdlog::info("signal {}: shutting down", signal);
      Shutdown();
    }
  });
  // Do not wait forever for DNS: Envoy's cluster warming is bounded too.
  init_timer_.expires_after(kInitTimeout);
  init_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || initialized_) return;
    dns_init_timed_out_ = true;
    MaybeFinishInitialization();
  });
  StartAds();
  MaybeFinishInitialization();
  // No periodic housekeeping: the server gauges are brought up to date when /stats or
  // /stats/prometheus reads them (and at initialization and drain), so an idle process sleeps.
  io_.run();
  if (ads_ != nullptr) ads_->Shutdown();
  for (auto& worker : workers_) worker->Join();
  spdlog::info("exited");
  return exit_code_;
}

void Server::StartAds() {
  if (!bootstrap_.dynamic_resources.ads.has_value()) {
    ads_initialized_ = true;
    return;
  }
  xds::AdsClient::Hooks hooks;
  hooks.post = [this](std::function<void()> task) { asio::post(io_, std::move(task)); };
  hooks.post_after = [this](absl::Duration delay, std::function<void()> task) {
    auto timer = std::make_shared<asio::steady_timer>(io_, absl::ToChronoNanoseconds(delay));
    timer->async_wait([timer, task = std::move(task)](boost::system::error_code ec) {
      if (!ec) task();
    });
  };
  hooks.apply = [this](std::shared_ptr<const xds::ConfigSnapshot> snapshot) {
    return ApplySnapshot(std::move(snapshot));
  };
  hooks.initialized = [this] {
    ads_initialized_ = true;
    MaybeFinishInitialization();
  };
  ads_ = std::make_unique<xds::AdsClient>(bootstrap_, dynamic_.get(), &store_, std::move(hooks));
  ads_->Start();
}

absl::Status Server::ApplySnapshot(std::shared_ptr<const xds::ConfigSnapshot> snapshot) {
  // 1. Sockets for new listeners, and for listeners whose address changed. Nothing changes if
  //    one cannot be bound.
  std::vector<BoundListener> next;
  std::vector<PendingListener> new_fds;
  std::vector<std::string> retired;  // names whose current sockets go
  for (const xds::ListenerConfig& listener : snapshot->listeners()) {
    auto existing = std::find_if(bound_listeners_.begin(), bound_listeners_.end(),
                                 [&](const BoundListener& b) { return b.name == listener.name; });
    if (existing != bound_listeners_.end() && existing->address == listener.address) {
      next.push_back(*existing);
      continue;
    }
    BoundListener bound;
    if (absl::Status status = BindListener(listener, &bound, &new_fds); !status.ok()) {
      for (const PendingListener& pending : new_fds) ::close(pending.fd);
      manager_stats_.listener_create_failure.Inc();
      return status;
    }
    if (existing != bound_listeners_.end()) retired.push_back(listener.name);
    next.push_back(std::move(bound));
  }
  for (const BoundListener& old : bound_listeners_) {
    if (std::none_of(next.begin(), next.end(),
                     [&](const BoundListener& b) { return b.name == old.name; })) {
      retired.push_back(old.name);
    }
  }

  // 2. Publish, then retire old sockets and hand over new ones (each worker's mailbox keeps
  //    this order, so a connection never arrives for a listener its worker does not know).
  if (snapshot_ != nullptr) CountConfigChanges(*snapshot_, *snapshot);
  bound_listeners_ = std::move(next);
  snapshot_ = std::move(snapshot);
  ReconcileDns();
  Publish(BuildServingConfig());
  for (const std::string& name : retired) {
    std::erase_if(pending_listener_fds_, [&](const PendingListener& pending) {
      if (pending.name != name) return false;
      ::close(pending.fd);
      return true;
    });
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      w->Post([w, name] { w->RemoveListener(name); });
    }
  }
  pending_listener_fds_.insert(pending_listener_fds_.end(), new_fds.begin(), new_fds.end());
  if (initialized_) HandOverListeners();
  manager_stats_.active_clusters.Set(static_cast<int64_t>(snapshot_->clusters().size()));
  manager_stats_.total_listeners_active.Set(static_cast<int64_t>(snapshot_->listeners().size()));
  return absl::OkStatus();
}

void Server::CountConfigChanges(const xds::ConfigSnapshot& before,
                                const xds::ConfigSnapshot& after) {
  for (const auto& cluster : after.clusters()) {
    const routing::Cluster* old = before.FindCluster(cluster->config().name);
    if (old == nullptr) {
      manager_stats_.cluster_added.Inc();
    } else if (old != cluster.get()) {
      manager_stats_.cluster_modified.Inc();
    }
  }
  for (const auto& cluster : before.clusters()) {
    if (after.FindCluster(cluster->config().name) == nullptr) {
      manager_stats_.cluster_removed.Inc();
    }
  }
  auto find = [](const xds::ConfigSnapshot& snapshot, const std::string& name) {
    for (const xds::ListenerConfig& listener : snapshot.listeners()) {
      if (listener.name == name) return &listener;
    }
    return static_cast<const xds::ListenerConfig*>(nullptr);
  };
  for (const xds::ListenerConfig& listener : after.listeners()) {
    const xds::ListenerConfig* old = find(before, listener.name);
    if (old == nullptr) {
      manager_stats_.listener_added.Inc();
    } else if (old->config_hash != listener.config_hash) {
      manager_stats_.listener_modified.Inc();
    }
  }
  for (const xds::ListenerConfig& listener : before.listeners()) {
    if (find(after, listener.name) == nullptr) manager_stats_.listener_removed.Inc();
  }
}

absl::Status Server::BindListener(const xds::ListenerConfig& listener, BoundListener* bound,
                                  std::vector<PendingListener>* fds) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(listener.address.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("listener \"", listener.name, "\": ", ec.message()));
  }
  tcp::endpoint endpoint(address, static_cast<uint16_t>(listener.address.port));
  const int backlog = static_cast<int>(listener.tcp_backlog_size.value_or(1024));
  auto failure = [&](const absl::Status& status) {
    return absl::UnavailableError(absl::StrCat("listener \"", listener.name,
                                               "\": cannot listen on ",
                                               listener.address.ToString(), ": ",
                                               status.message()));
  };
  if (absl::Status free = CheckPortFree(endpoint); !free.ok()) return failure(free);
  for (auto& worker : workers_) {
    absl::StatusOr<int> fd = BindListenerSocket(endpoint, backlog);
    if (!fd.ok()) return failure(fd.status());
    if (endpoint.port() == 0) {
      // Port 0: the first socket picks the port; the other workers' sockets share it.
      sockaddr_storage storage;
      socklen_t length = sizeof(storage);
      ::getsockname(*fd, reinterpret_cast<sockaddr*>(&storage), &length);
      tcp::endpoint picked;
      std::memcpy(picked.data(), &storage, length);
      endpoint.port(picked.port());
    }
    fds->push_back({worker.get(), listener.name, *fd, address.is_v6()});
  }
  *bound = {.name = listener.name, .address = listener.address, .endpoint = endpoint};
  return absl::OkStatus();
}

void Server::HandOverListeners() {
  for (const PendingListener& pending : pending_listener_fds_) {
    if (accepting_stopped_) {
      ::close(pending.fd);  // draining: no new listener starts accepting
      continue;
    }
    Worker* w = pending.worker;
    w->Post([w, name = pending.name, fd = pending.fd, v6 = pending.v6] {
      w->AddListener(name, fd, v6);
    });
  }
  pending_listener_fds_.clear();
}

std::shared_ptr<const ServingConfig> Server::BuildServingConfig() {
  auto serving = std::make_shared<ServingConfig>();
  serving->snapshot = snapshot_;
  absl::flat_hash_map<std::string, std::shared_ptr<const ClusterEntry>> entries;
  for (const auto& cluster : snapshot_->clusters()) {
    const routing::ClusterConfig& config = cluster->config();
    auto& stats = cluster_stats_[config.name];
    if (stats == nullptr) stats = std::make_unique<ClusterStats>(store_, config.name);
    auto existing = cluster_entries_.find(config.name);
    if (existing != cluster_entries_.end() && existing->second->cluster == cluster) {
      entries.emplace(config.name, existing->second);
      serving->clusters.emplace(config.name, existing->second);
      continue;
    }
    if (config.protocol == routing::UpstreamProtocol::kHttp2 && stats->http2 == nullptr) {
      stats->http2 =
          std::make_unique<Http2CodecStats>(store_, absl::StrCat("cluster.", config.name, ".http2."));
    }
    auto entry = std::make_shared<ClusterEntry>();
    entry->cluster = cluster;
    entry->stats = stats.get();
    if (config.type == routing::DiscoveryType::kStatic ||
        config.type == routing::DiscoveryType::kEds) {
      for (const routing::EndpointConfig& endpoint : config.endpoints) {
        boost::system::error_code ec;
        auto address = asio::ip::make_address(endpoint.address, ec);
        if (ec) continue;  // validated already
        UpstreamHost host;
        host.endpoint = tcp::endpoint(address, static_cast<uint16_t>(endpoint.port));
        host.address = absl::StrCat(address.is_v6() ? "[" : "", endpoint.address,
                                    address.is_v6() ? "]" : "", ":", endpoint.port);
        host.hostname = endpoint.hostname;
        host.weight = endpoint.weight;
        host.healthy = Healthy(endpoint.health_status);
        entry->hosts.push_back(std::move(host));
      }
    } else if (auto dns = dns_clusters_.find(config.name); dns != dns_clusters_.end()) {
      entry->hosts = dns->second->hosts;  // the last resolution (empty until the first)
    }
    if (existing != cluster_entries_.end()) {
      entry->hosts_version = existing->second->hosts_version + 1;
    }
    int healthy = 0;
    for (const UpstreamHost& host : entry->hosts) healthy += host.healthy ? 1 : 0;
    stats->membership_total.Set(static_cast<int64_t>(entry->hosts.size()));
    stats->membership_healthy.Set(healthy);
    entries.emplace(config.name, entry);
    serving->clusters.emplace(config.name, std::move(entry));
  }
  cluster_entries_ = std::move(entries);
  for (const xds::ListenerConfig& listener : snapshot_->listeners()) {
    ListenerEntry entry;
    entry.config = &listener;
    auto& http = http_stats_[listener.http.stat_prefix];
    if (http == nullptr) http = std::make_unique<HttpStats>(store_, listener.http.stat_prefix);
    if (listener.http.codec_type != xds::CodecType::kHttp1 && http->http2 == nullptr) {
      http->http2 = std::make_unique<Http2CodecStats>(store_, "http2.");
      http->http2->downstream_rq_too_many_premature_resets =
          &http->downstream_rq_too_many_premature_resets;
    }
    entry.http = http.get();
    const std::string prefix = listener.StatPrefix();
    auto& listener_stats = listener_stats_[prefix];
    if (listener_stats == nullptr) {
      listener_stats = std::make_unique<ListenerStats>(store_, prefix, listener.http.stat_prefix);
    }
    entry.listener = listener_stats.get();
    if (listener.http.health_check.has_value()) {
      routing::ValidationErrors ignored;  // validated when the config was loaded
      for (const routing::HeaderMatcherConfig& header : listener.http.health_check->headers) {
        if (auto matcher = routing::HeaderMatcher::Create(header, &ignored)) {
          entry.health_check_headers.push_back(*std::move(matcher));
        }
      }
    }
    serving->listeners.emplace(listener.name, std::move(entry));
  }
  return serving;
}

void Server::Publish(std::shared_ptr<const ServingConfig> config) {
  serving_ = config;
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->Post([w, config] { w->ApplyConfig(config); });
  }
}

absl::Status Server::StartAdmin() {
  if (!bootstrap_.admin_address.has_value()) return absl::OkStatus();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(bootstrap_.admin_address->address, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("admin address: ", ec.message()));
  absl::StatusOr<tcp::endpoint> bound = admin_.Start(
      tcp::endpoint(address, static_cast<uint16_t>(bootstrap_.admin_address->port)));
  if (!bound.ok()) return bound.status();
  spdlog::info("admin listening on {}:{}", bound->address().to_string(), bound->port());
  if (!options_.admin_address_path.empty()) {
    // Written to a temporary name and renamed, so a reader never sees half an address.
    const std::string temp = options_.admin_address_path + ".tmp";
    {
      std::ofstream out(temp, std::ios::trunc);
      out << bound->address().to_string() << ":" << bound->port() << "\n";
      if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
    }
    std::error_code rename_error;
    std::filesystem::rename(temp, options_.admin_address_path, rename_error);
    if (rename_error) {
      return absl::UnavailableError(absl::StrCat("cannot write ", options_.admin_address_path,
                                                 ": ", rename_error.message()));
    }
  }
  return absl::OkStatus();
}

void Server::ReconcileDns() {
  absl::flat_hash_set<std::string> wanted;
  for (const auto& cluster : snapshot_->clusters()) {
    const routing::ClusterConfig& config = cluster->config();
    if (config.type != routing::DiscoveryType::kStrictDns &&
        config.type != routing::DiscoveryType::kLogicalDns) {
      continue;
    }
    wanted.insert(config.name);
    std::unique_ptr<DnsCluster>& dns = dns_clusters_[config.name];
    if (dns != nullptr && dns->cluster == cluster) continue;
    if (dns != nullptr && dns->cluster->config().endpoints == config.endpoints &&
        dns->cluster->config().type == config.type &&
        dns->cluster->config().dns_lookup_family == config.dns_lookup_family) {
      dns->cluster = cluster;  // same names to resolve: keep the hosts, new settings next round
      continue;
    }
    auto fresh = std::make_unique<DnsCluster>(io_, cluster, ++dns_ids_);
    // Until the new names resolve, the old hosts (if any) keep serving.
    if (dns != nullptr) fresh->hosts = dns->hosts;
    fresh->counts_for_init = !initialized_ && dns == nullptr;
    dns = std::move(fresh);
    ResolveCluster(config.name);
  }
  for (auto it = dns_clusters_.begin(); it != dns_clusters_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
    } else {
      dns_clusters_.erase(it++);  // the resolver's destructor cancels what is in flight
    }
  }
}

void Server::ResolveCluster(const std::string& name) {
  DnsCluster& dns = *dns_clusters_[name];
  const routing::ClusterConfig& config = dns.cluster->config();
  dns.results.assign(config.endpoints.size(), {});
  dns.outstanding = config.endpoints.size();
  if (dns.outstanding == 0) {
    OnDnsResolved(name, dns.id, {});
    return;
  }
  for (size_t e = 0; e < config.endpoints.size(); ++e) {
    const routing::EndpointConfig& endpoint = config.endpoints[e];
    dns.resolver.async_resolve(
        endpoint.address, std::to_string(endpoint.port),
        [this, name, id = dns.id, e](boost::system::error_code ec,
                                     tcp::resolver::results_type results) {
          auto it = dns_clusters_.find(name);
          if (shutting_down_ || it == dns_clusters_.end() || it->second->id != id) return;
          DnsCluster& dns = *it->second;
          const routing::ClusterConfig& config = dns.cluster->config();
          const routing::EndpointConfig& endpoint = config.endpoints[e];
          std::vector<tcp::endpoint> v4, v6;
          if (!ec) {
            for (const auto& result : results) {
              (result.endpoint().address().is_v6() ? v6 : v4).push_back(result.endpoint());
            }
          } else {
            spdlog::warn("cluster {}: cannot resolve {}: {}", config.name, endpoint.address,
                         ec.message());
          }
          // Envoy's dns_lookup_family: AUTO prefers IPv6, V4_PREFERRED IPv4, ALL keeps both.
          std::vector<tcp::endpoint> chosen;
          switch (config.dns_lookup_family) {
            case routing::DnsLookupFamily::kV4Only: chosen = v4; break;
            case routing::DnsLookupFamily::kV6Only: chosen = v6; break;
            case routing::DnsLookupFamily::kV4Preferred: chosen = v4.empty() ? v6 : v4; break;
            case routing::DnsLookupFamily::kAll:
              chosen = v4;
              chosen.insert(chosen.end(), v6.begin(), v6.end());
              break;
            case routing::DnsLookupFamily::kAuto: chosen = v6.empty() ? v4 : v6; break;
          }
          if (config.type == routing::DiscoveryType::kLogicalDns && chosen.size() > 1) {
            chosen.resize(1);  // LOGICAL_DNS uses the first address only
          }
          std::vector<UpstreamHost>& out = dns.results[e];
          for (const tcp::endpoint& resolved : chosen) {
            UpstreamHost host;
            host.endpoint = resolved;
            host.address = absl::StrCat(resolved.address().is_v6() ? "[" : "",
                                        resolved.address().to_string(),
                                        resolved.address().is_v6() ? "]" : "", ":",
                                        resolved.port());
            host.hostname = endpoint.hostname.empty() ? endpoint.address : endpoint.hostname;
            host.weight = endpoint.weight;
            host.healthy = Healthy(endpoint.health_status);
            out.push_back(std::move(host));
          }
          if (ec) out.clear();
          if (--dns.outstanding == 0) {
            std::vector<UpstreamHost> hosts;
            for (auto& list : dns.results) {
              for (auto& host : list) hosts.push_back(std::move(host));
            }
            OnDnsResolved(name, id, std::move(hosts));
          }
        });
  }
}

void Server::OnDnsResolved(const std::string& name, uint64_t id,
                           std::vector<UpstreamHost> hosts) {
  auto it = dns_clusters_.find(name);
  if (it == dns_clusters_.end() || it->second->id != id) return;
  DnsCluster& dns = *it->second;
  bool changed = dns.hosts.size() != hosts.size();
  for (size_t i = 0; !changed && i < hosts.size(); ++i) {
    changed = !(dns.hosts[i].endpoint == hosts[i].endpoint);
  }
  // A failed refresh (no addresses) keeps the last good hosts, as Envoy does.
  if (hosts.empty() && !dns.hosts.empty()) changed = false;
  if (changed) {
    dns.hosts = hosts;
    auto current = cluster_entries_.find(name);
    if (current != cluster_entries_.end()) {
      auto entry = std::make_shared<ClusterEntry>(*current->second);
      entry->hosts = std::move(hosts);
      ++entry->hosts_version;
      int healthy = 0;
      for (const UpstreamHost& host : entry->hosts) healthy += host.healthy ? 1 : 0;
      entry->stats->membership_total.Set(static_cast<int64_t>(entry->hosts.size()));
      entry->stats->membership_healthy.Set(healthy);
      cluster_entries_[name] = entry;
      Publish(BuildServingConfig());
    }
  }
  if (!dns.first_round_done) {
    dns.first_round_done = true;
    MaybeFinishInitialization();
  }
  if (shutting_down_) return;
  dns.refresh.expires_after(absl::ToChronoNanoseconds(dns.cluster->config().dns_refresh_rate));
  dns.refresh.async_wait([this, name, id](boost::system::error_code ec) {
    auto it = dns_clusters_.find(name);
    if (ec || shutting_down_ || it == dns_clusters_.end() || it->second->id != id) return;
    ResolveCluster(name);
  });
}

void Server::MaybeFinishInitialization() {
  if (initialized_ || shutting_down_ || !ads_initialized_) return;
  if (!dns_init_timed_out_) {
    for (const auto& [name, dns] : dns_clusters_) {
      if (dns->counts_for_init && !dns->first_round_done) return;
    }
  } else {
    spdlog::warn("DNS did not answer for every cluster within {} s; starting anyway",
                 kInitTimeout.count());
  }
  FinishInitialization();
}

void Server::FinishInitialization() {
  if (initialized_) return;
  initialized_ = true;
  boost::system::error_code ignored;
  init_timer_.cancel(ignored);
  HandOverListeners();
  UpdateServerStats();
  spdlog::info("{} listener(s) serving with {} worker(s)", bound_listeners_.size(),
               workers_.size());
}

void Server::StopAccepting() {
  if (accepting_stopped_) return;
  accepting_stopped_ = true;
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->Post([w] { w->StopAccepting(); });
  }
  for (const PendingListener& pending : pending_listener_fds_) ::close(pending.fd);
  pending_listener_fds_.clear();
}

void Server::StartDrain(bool exit_when_done, absl::Duration grace) {
  exit_after_drain_ = exit_after_drain_ || exit_when_done;
  if (draining_) return;
  draining_ = true;
  flags_.draining.store(true, std::memory_order_relaxed);
  drain_started_ = std::chrono::steady_clock::now();
  last_busy_ = drain_started_;
  drain_grace_ = absl::ToChronoNanoseconds(grace);
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->Post([w] { w->StartDrain(); });
  }
  if (grace <= absl::ZeroDuration()) StopAccepting();
  UpdateServerStats();
  CheckDrain();
}

void Server::CheckDrain() {
  if (shutting_down_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!accepting_stopped_ && now - drain_started_ >= drain_grace_) StopAccepting();
  int connections = 0;
  for (const auto& worker : workers_) connections += worker->active_connections();
  if (connections > 0) last_busy_ = now;
  if (exit_after_drain_) {
    const bool quiet = connections == 0 &&
                       (accepting_stopped_ || now - last_busy_ >= std::chrono::seconds(1));
    if (quiet) {
      spdlog::info("drained; exiting");
      Shutdown();
      return;
    }
    if (now - drain_started_ >= std::chrono::seconds(options_.drain_time_s)) {
      spdlog::warn("drain time ({} s) is up with {} connection(s) left; closing them",
                   options_.drain_time_s, connections);
      Shutdown();
      return;
    }
  }
  drain_timer_.expires_after(std::chrono::milliseconds(50));
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) CheckDrain();
  });
}

void Server::Shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  if (ads_ != nullptr) ads_->Shutdown();
  admin_.Stop();
  boost::system::error_code ignored;
  signals_.cancel(ignored);
  init_timer_.cancel(ignored);
  drain_timer_.cancel(ignored);
  for (auto& [name, dns] : dns_clusters_) {
    dns->refresh.cancel(ignored);
    dns->resolver.cancel();
  }
  for (const PendingListener& pending : pending_listener_fds_) ::close(pending.fd);
  pending_listener_fds_.clear();
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->Post([w] { w->Shutdown(); });
  }
  io_.stop();
}

}  // namespace proxy
