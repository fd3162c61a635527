#include "xds/ads_client.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "spdlog/spdlog.h"

namespace xds {
namespace {

namespace discovery = envoy::service::discovery::v3;
using Ads = discovery::AggregatedDiscoveryService;

constexpr absl::Duration kBackoffBase = absl::Milliseconds(500);
constexpr absl::Duration kBackoffMax = absl::Seconds(30);
// Large pushes (tens of MiB: thousands of routes or endpoints) must fit.
constexpr int kMaxMessageBytes = 512 << 20;
constexpr int kInvalidArgument = 3;  // google.rpc.Code
constexpr char kUserAgent[] = "weir";
constexpr char kUserAgentVersion[] = "0.1.0";

// A hash of version_info for the `version` gauges: 53 bits, so Prometheus' float keeps it exact.
// (Envoy uses xxHash64; compare versions between weir proxies, or read version_text.)
int64_t VersionHash(absl::string_view version) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : version) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return static_cast<int64_t>(hash & ((uint64_t{1} << 53) - 1));
}

// The gRPC target for the ADS service: google_grpc's target_uri as given, or envoy_grpc's
// static cluster as an address list (STATIC) or a DNS name (STRICT_DNS, LOGICAL_DNS).
absl::StatusOr<std::string> AdsTarget(const BootstrapConfig& bootstrap) {
  const AdsConfig& ads = *bootstrap.dynamic_resources.ads;
  if (!ads.target_uri.empty()) return ads.target_uri;
  for (const auto& cluster : bootstrap.clusters) {
    const routing::ClusterConfig& config = cluster->config();
    if (config.name != ads.cluster_name) continue;
    if (config.endpoints.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the ADS cluster \"", config.name, "\" has no endpoints"));
    }
    if (config.type == routing::DiscoveryType::kStrictDns ||
        config.type == routing::DiscoveryType::kLogicalDns) {
      return absl::StrCat("dns:///", config.endpoints[0].address, ":",
                          config.endpoints[0].port);
    }
    if (config.type != routing::DiscoveryType::kStatic) break;
    std::vector<std::string> v4, v6;
    for (const routing::EndpointConfig& endpoint : config.endpoints) {
      if (endpoint.address.find(':') != std::string::npos) {
        v6.push_back(absl::StrCat("[", endpoint.address, "]:", endpoint.port));
      } else {
        v4.push_back(absl::StrCat(endpoint.address, ":", endpoint.port));
      }
    }
    // One scheme per target: IPv4 unless the cluster only has IPv6 endpoints.
    return v4.empty() ? absl::StrCat("ipv6:", absl::StrJoin(v6, ","))
                      : absl::StrCat("ipv4:", absl::StrJoin(v4, ","));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the ADS cluster \"", ads.cluster_name, "\" must be a STATIC or DNS static cluster"));
}

}  // namespace

// One StreamAggregatedResources call. gRPC calls the On* methods on its own threads; they only
// pass messages to the owner's thread (by stream id, so a late message from an old stream is
// recognised and dropped). Writes are queued: gRPC allows one outstanding write at a time.
class AdsClient::Stream : public grpc::ClientBidiReactor<discovery::DiscoveryRequest,
                                                         discovery::DiscoveryResponse> {
 public:
  Stream(uint64_t id, AdsClient* client, std::function<void(std::function<void()>)> post)
      : id_(id), client_(client), post_(std::move(post)) {}

  uint64_t id() const { return id_; }

  void Begin(Ads::Stub* stub, const AdsConfig& ads) {
    for (const auto& [key, value] : ads.initial_metadata) context_.AddMetadata(key, value);
    stub->async()->StreamAggregatedResources(&context_, this);
    StartRead(&response_);
    StartCall();
  }

  void Send(discovery::DiscoveryRequest request) {
    std::lock_guard lock(mu_);
    if (done_) return;
    queue_.push_back(std::move(request));
    if (!writing_) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
  }

  void Cancel() { context_.TryCancel(); }

  // Waits until gRPC is done with this object; false if it did not finish in time.
  bool WaitDone(absl::Duration timeout) {
    std::unique_lock lock(mu_);
    return finished_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                 [this] { return finished_; });
  }

  void OnWriteDone(bool ok) override {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      queue_.pop_front();
      // A failed write means the call is over. No new operation may start: once the last one
      // completes gRPC runs OnDone and frees the call, and a later StartWrite would touch it.
      if (!ok) done_ = true;
      if (ok && !written_) first = written_ = true;
      if (ok && !queue_.empty()) {
        StartWrite(&queue_.front());
      } else {
        writing_ = false;
      }
    }
    // The first request went out: the channel is connected.
    if (first) post_([client = client_, id = id_] { client->OnStreamReady(id); });
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the call is over; OnDone follows. No more writes (see OnWriteDone).
      std::lock_guard lock(mu_);
      done_ = true;
      return;
    }
    auto response = std::make_shared<discovery::DiscoveryResponse>(std::move(response_));
    response_.Clear();
    post_([client = client_, id = id_, response] { client->OnResponse(id, response); });
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    // Copies first: once finished_ is set, the owner may delete this object.
    auto post = post_;
    AdsClient* client = client_;
    const uint64_t id = id_;
    absl::Status result =
        status.ok() ? absl::OkStatus()
                    : absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                                   status.error_message());
    {
      std::lock_guard lock(mu_);
      done_ = true;
      finished_ = true;
      finished_cv_.notify_all();
    }
    post([client, id, result] { client->OnStreamClosed(id, result); });
  }

 private:
  const uint64_t id_;
  AdsClient* const client_;
  const std::function<void(std::function<void()>)> post_;
  grpc::ClientContext context_;
  discovery::DiscoveryResponse response_;  // the read in progress

  std::mutex mu_;
  std::condition_variable finished_cv_;
  std::deque<discovery::DiscoveryRequest> queue_;  // front: the write in progress
  bool writing_ = false;
  bool written_ = false;
  bool done_ = false;
  bool finished_ = false;
};

struct AdsClient::TypeState {
  std::string nonce;               // the latest nonce received on this stream
  bool subscribed = false;         // a request went out on this stream
  std::vector<std::string> names;  // the names of that request (EDS, RDS)
  bool received = false;           // a response was accepted or rejected (on any stream)
  bool fetch_timed_out = false;    // initial_fetch_timeout passed before any response
};

// Envoy's subscription stats under `prefix` (cluster_manager.cds., cluster.<name>., ...).
struct AdsClient::SubscriptionStats {
  SubscriptionStats(stats::Store& store, const std::string& prefix)
      : update_attempt(store.GetCounter(prefix + "update_attempt")),
        update_success(store.GetCounter(prefix + "update_success")),
        update_rejected(store.GetCounter(prefix + "update_rejected")),
        update_failure(store.GetCounter(prefix + "update_failure")),
        update_empty(store.GetCounter(prefix + "update_empty")),
        init_fetch_timeout(store.GetCounter(prefix + "init_fetch_timeout")),
        version(store.GetGauge(prefix + "version")),
        update_time(store.GetGauge(prefix + "update_time")),
        version_text(store.GetTextReadout(prefix + "version_text")) {}

  void Success(const std::string& new_version) {
    update_success.Inc();
    version.Set(VersionHash(new_version));
    version_text.Set(new_version);
    update_time.Set(absl::ToUnixMillis(absl::Now()));
  }

  stats::Counter& update_attempt;
  stats::Counter& update_success;
  stats::Counter& update_rejected;
  stats::Counter& update_failure;
  stats::Counter& update_empty;
  stats::Counter& init_fetch_timeout;
  stats::Gauge& version;
  stats::Gauge& update_time;
  stats::TextReadout& version_text;
  stats::Counter* config_reload = nullptr;  // RDS: http.<prefix>.rds.<name>.config_reload
};

struct AdsClient::Channel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<Ads::Stub> stub;
};

AdsClient::AdsClient(const BootstrapConfig& bootstrap, DynamicConfig* config,
                     stats::Store* store, Hooks hooks)
    : bootstrap_(bootstrap), config_(config), store_(store), hooks_(std::move(hooks)) {
  for (ResourceType type : kResourceTypes) types_[type] = std::make_unique<TypeState>();
  connected_state_ = &store_->GetGauge("control_plane.connected_state");
  identifier_ = &store_->GetTextReadout("control_plane.identifier");
  absl::StatusOr<std::string> target = AdsTarget(bootstrap_);
  if (target.ok()) {
    target_ = *std::move(target);
  } else {
    target_error_ = target.status();
  }

  envoy::config::bootstrap::v3::Bootstrap proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(bootstrap_.bootstrap_json, &proto, options);
  envoy::config::core::v3::Node node = proto.node();
  node.set_id(bootstrap_.node.id);
  node.set_cluster(bootstrap_.node.cluster);
  node.set_user_agent_name(kUserAgent);
  node.set_user_agent_version(kUserAgentVersion);
  node_bytes_ = node.SerializeAsString();
}

AdsClient::~AdsClient() { Shutdown(); }

void AdsClient::Start() {
  if (!target_error_.ok()) {
    spdlog::error("xDS: {}; running on the static config", std::string(target_error_.message()));
    initialized_ = true;
    hooks_.initialized();
    return;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  const AdsConfig& ads = *bootstrap_.dynamic_resources.ads;
  // Envoy's :authority for envoy_grpc is the cluster name unless set.
  const std::string& authority = !ads.authority.empty() ? ads.authority : ads.cluster_name;
  if (!authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, authority);
  // The channel's own reconnection follows the same schedule as the stream's.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, absl::ToInt64Milliseconds(kBackoffBase));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, absl::ToInt64Milliseconds(kBackoffBase));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, absl::ToInt64Milliseconds(kBackoffMax));
  channel_ = std::make_unique<Channel>();
  channel_->channel = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
  channel_->stub = Ads::NewStub(channel_->channel);
  spdlog::info("xDS: ADS stream to {} as node \"{}\"", target_, bootstrap_.node.id);

  const DynamicResourcesConfig& dynamic = bootstrap_.dynamic_resources;
  if (dynamic.cds) {
    ArmInitialFetchTimeout(ResourceType::kCluster, dynamic.cds_initial_fetch_timeout);
  }
  Connect();
  ScheduleWarmingCheck();
  CheckInitialization();
}

void AdsClient::Shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  if (stream_ == nullptr) return;
  stream_->Cancel();
  if (stream_->WaitDone(absl::Seconds(5))) {
    stream_.reset();
  } else {
    // gRPC still owns it; freeing it would be worse than leaking it at exit.
    spdlog::warn("xDS: the stream did not finish within 5 s of cancellation");
    (void)stream_.release();
  }
}

void AdsClient::ArmInitialFetchTimeout(ResourceType type, absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return;  // 0: wait as long as it takes
  hooks_.post_after(timeout, [this, type] {
    TypeState& state = *types_[type];
    if (shutting_down_ || state.received) return;
    state.fetch_timed_out = true;
    StatsFor(type).init_fetch_timeout.Inc();
    spdlog::warn("xDS: no {} response within initial_fetch_timeout; going on without it",
                 std::string(ShortName(type)));
    CheckInitialization();
  });
}

void AdsClient::Connect() {
  if (shutting_down_ || stream_ != nullptr) return;
  for (auto& [type, state] : types_) {
    state->nonce.clear();
    state->subscribed = false;
    state->names.clear();
  }
  first_request_ = true;
  stream_ = std::make_unique<Stream>(++stream_count_, this, hooks_.post);
  stream_->Begin(channel_->stub.get(), *bootstrap_.dynamic_resources.ads);
  // Resubscribe to everything wanted so far, with the versions held (Envoy's order).
  if (bootstrap_.dynamic_resources.cds) SendRequest(ResourceType::kCluster);
  if (lds_started_ && bootstrap_.dynamic_resources.lds) SendRequest(ResourceType::kListener);
  UpdateNamedSubscriptions();
}

void AdsClient::SendRequest(ResourceType type, const std::string& error_detail) {
  if (stream_ == nullptr) return;  // sent when the stream is back
  TypeState& state = *types_[type];
  discovery::DiscoveryRequest request;
  request.set_type_url(std::string(TypeUrl(type)));
  request.set_version_info(config_->version(type));
  request.set_response_nonce(state.nonce);
  if (!IsWildcard(type)) {
    state.names = config_->SubscriptionNames(type);
    for (const std::string& name : state.names) request.add_resource_names(name);
  }
  if (first_request_ || !bootstrap_.dynamic_resources.ads->set_node_on_first_message_only) {
    request.mutable_node()->ParseFromString(node_bytes_);
    first_request_ = false;
  }
  if (!error_detail.empty()) {
    request.mutable_error_detail()->set_code(kInvalidArgument);
    request.mutable_error_detail()->set_message(error_detail);
  }
  state.subscribed = true;
  stream_->Send(std::move(request));
}

void AdsClient::SendUnknownTypeNack(const std::string& type_url, const std::string& nonce) {
  if (stream_ == nullptr) return;
  discovery::DiscoveryRequest request;
  request.set_type_url(type_url);
  request.set_response_nonce(nonce);
  request.mutable_error_detail()->set_code(kInvalidArgument);
  request.mutable_error_detail()->set_message(
      absl::StrCat("weir does not implement resource type ", type_url));
  stream_->Send(std::move(request));
}

void AdsClient::UpdateNamedSubscriptions() {
  for (ResourceType type : {ResourceType::kEndpoints, ResourceType::kRoute}) {
    if (type == ResourceType::kRoute && !lds_started_) continue;
    std::vector<std::string> names = config_->SubscriptionNames(type);
    // Never an empty list: a server takes a first empty request as a wildcard subscription.
    if (names.empty()) continue;
    TypeState& state = *types_[type];
    if (!state.subscribed || names != state.names) SendRequest(type);
  }
}

void AdsClient::OnStreamReady(uint64_t stream_id) {
  if (stream_ == nullptr || stream_->id() != stream_id) return;
  if (connected_state_->Value() == 0) spdlog::info("xDS: connected to {}", target_);
  connected_state_->Set(1);
}

void AdsClient::OnResponse(uint64_t stream_id,
                           std::shared_ptr<discovery::DiscoveryResponse> response) {
  if (shutting_down_ || stream_ == nullptr || stream_->id() != stream_id) return;
  OnStreamReady(stream_id);
  backoff_attempt_ = 0;
  if (response->has_control_plane()) identifier_->Set(response->control_plane().identifier());
  std::optional<ResourceType> type = ResourceTypeFromUrl(response->type_url());
  if (!type.has_value()) {
    spdlog::warn("xDS: NACK for resource type {}: weir does not implement it",
                 response->type_url());
    SendUnknownTypeNack(response->type_url(), response->nonce());
    return;
  }
  TypeState& state = *types_[*type];
  state.nonce = response->nonce();
  state.received = true;
  SubscriptionStats& stats = StatsFor(*type);
  stats.update_attempt.Inc();

  std::vector<RawResource> resources;
  resources.reserve(response->resources_size());
  for (auto& any : *response->mutable_resources()) {
    resources.push_back({std::move(*any.mutable_type_url()), std::move(*any.mutable_value())});
  }
  response->clear_resources();
  const std::string& version = response->version_info();
  DynamicConfig::Prepared prepared = config_->Prepare(*type, version, resources, absl::Now());
  // Per-resource stats for EDS (cluster.<name>.) and RDS (http.<prefix>.rds.<name>.).
  std::vector<SubscriptionStats*> named;
  for (const std::string& name : prepared.names) {
    for (SubscriptionStats* named_stats : NamedStatsFor(*type, name)) {
      named_stats->update_attempt.Inc();
      named.push_back(named_stats);
    }
  }
  absl::Status status = prepared.status;
  if (status.ok() && prepared.changed) status = hooks_.apply(prepared.snapshot);
  if (!status.ok()) {
    stats.update_rejected.Inc();
    for (SubscriptionStats* named_stats : named) named_stats->update_rejected.Inc();
    const std::string detail(status.message());
    spdlog::warn("xDS: {} version \"{}\" rejected (NACK), keeping version \"{}\":\n{}",
                 std::string(ShortName(*type)), version, config_->version(*type), detail);
    SendRequest(*type, detail);
    CheckInitialization();
    return;
  }
  for (const std::string& warning : prepared.warnings) {
    spdlog::warn("xDS: {} version \"{}\": {}", std::string(ShortName(*type)), version, warning);
  }
  const bool changed = prepared.changed;
  config_->Commit(std::move(prepared));
  stats.Success(version);
  if (resources.empty()) stats.update_empty.Inc();
  for (SubscriptionStats* named_stats : named) named_stats->Success(version);
  if (changed) {
    for (SubscriptionStats* named_stats : named) {
      if (named_stats->config_reload != nullptr) named_stats->config_reload->Inc();
    }
  }
  spdlog::info("xDS: {} version \"{}\" applied ({} resource(s){})",
               std::string(ShortName(*type)), version, resources.size(),
               changed ? "" : ", no change");
  SendRequest(*type);  // ACK
  UpdateNamedSubscriptions();
  ScheduleWarmingCheck();
  CheckInitialization();
}

void AdsClient::OnStreamClosed(uint64_t stream_id, absl::Status status) {
  if (stream_ == nullptr || stream_->id() != stream_id) return;
  stream_.reset();
  const bool was_connected = connected_state_->Value() != 0;
  connected_state_->Set(0);
  for (auto& [type, state] : types_) {
    if (state->subscribed) StatsFor(type).update_failure.Inc();
  }
  if (shutting_down_) return;
  const absl::Duration cap =
      std::min(kBackoffMax, kBackoffBase * (int64_t{1} << std::min(backoff_attempt_, 16)));
  ++backoff_attempt_;
  // Jitter: anywhere in the upper half, so a fleet does not reconnect in lockstep.
  std::uniform_int_distribution<int64_t> jitter(absl::ToInt64Milliseconds(cap) / 2,
                                                absl::ToInt64Milliseconds(cap));
  const absl::Duration delay = absl::Milliseconds(jitter(random_));
  if (was_connected) {
    spdlog::warn("xDS: stream to {} closed ({}); keeping the current config, reconnecting in {}",
                 target_, status.ToString(), absl::FormatDuration(delay));
  } else {
    spdlog::warn("xDS: cannot reach {} ({}); retrying in {}", target_, status.ToString(),
                 absl::FormatDuration(delay));
  }
  hooks_.post_after(delay, [this] { Connect(); });
}

void AdsClient::ScheduleWarmingCheck() {
  std::optional<absl::Time> deadline = config_->NextWarmingDeadline();
  if (!deadline.has_value()) return;
  const uint64_t generation = ++warming_check_generation_;
  hooks_.post_after(std::max(absl::ZeroDuration(), *deadline - absl::Now()) + absl::Milliseconds(1),
                    [this, generation] {
                      if (shutting_down_ || generation != warming_check_generation_) return;
                      DynamicConfig::Prepared prepared = config_->Refresh(absl::Now());
                      absl::Status status = prepared.status;
                      if (status.ok() && prepared.changed) {
                        status = hooks_.apply(prepared.snapshot);
                      }
                      if (status.ok()) {
                        config_->Commit(std::move(prepared));
                        spdlog::warn("xDS: initial_fetch_timeout passed for a warming cluster "
                                     "or listener; serving it without endpoints / routes");
                      } else {
                        spdlog::error("xDS: cannot apply the config after a fetch timeout: {}",
                                      std::string(status.message()));
                      }
                      ScheduleWarmingCheck();
                      CheckInitialization();
                    });
}

void AdsClient::CheckInitialization() {
  if (initialized_ || shutting_down_) return;
  const DynamicResourcesConfig& dynamic = bootstrap_.dynamic_resources;
  auto fetched = [&](ResourceType type) {
    const TypeState& state = *types_[type];
    return state.received || state.fetch_timed_out;
  };
  // Clusters first (CDS, then EDS for its clusters), then listeners (LDS, then RDS).
  if (dynamic.cds && !fetched(ResourceType::kCluster)) return;
  if (config_->Warming(ResourceType::kEndpoints)) return;
  if (!lds_started_) {
    lds_started_ = true;
    if (dynamic.lds) {
      ArmInitialFetchTimeout(ResourceType::kListener, dynamic.lds_initial_fetch_timeout);
      SendRequest(ResourceType::kListener);
    }
    UpdateNamedSubscriptions();
  }
  if (dynamic.lds && !fetched(ResourceType::kListener)) return;
  if (config_->Warming(ResourceType::kRoute)) return;
  initialized_ = true;
  hooks_.initialized();
}

AdsClient::SubscriptionStats& AdsClient::StatsFor(ResourceType type) {
  return NamedStats(type == ResourceType::kCluster    ? "cluster_manager.cds."
                    : type == ResourceType::kListener ? "listener_manager.lds."
                    : type == ResourceType::kEndpoints ? "cluster_manager.eds."
                                                       : "listener_manager.rds.");
}

std::vector<AdsClient::SubscriptionStats*> AdsClient::NamedStatsFor(ResourceType type,
                                                                   const std::string& name) {
  std::vector<SubscriptionStats*> out;
  if (type == ResourceType::kEndpoints) {
    for (const std::string& cluster : config_->ClustersForService(name)) {
      out.push_back(&NamedStats(absl::StrCat("cluster.", cluster, ".")));
    }
  } else if (type == ResourceType::kRoute) {
    for (const std::string& prefix : config_->StatPrefixesForRoute(name)) {
      out.push_back(&NamedStats(absl::StrCat("http.", prefix, ".rds.", name, "."), /*rds=*/true));
    }
  }
  return out;
}

AdsClient::SubscriptionStats& AdsClient::NamedStats(const std::string& prefix, bool rds) {
  auto& stats = stats_[prefix];
  if (stats == nullptr) {
    stats = std::make_unique<SubscriptionStats>(*store_, prefix);
    if (rds) stats->config_reload = &store_->GetCounter(prefix + "config_reload");
  }
  return *stats;
}

}  // namespace xds
