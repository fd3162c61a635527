#include "xds/dynamic_config.h"

#include <algorithm>
#include <map>
#include <set>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "google/protobuf/util/json_util.h"
#include "routing/route_table.h"
#include "xds/resource_check.h"
#include "xds/translate_cluster.h"
#include "xds/translate_listener.h"
#include "xds/translate_route.h"
#include "xds/translate_util.h"

namespace xds {
namespace {

using routing::ValidationErrors;

constexpr absl::Duration kDefaultInitialFetchTimeout = absl::Seconds(15);

constexpr std::array<absl::string_view, 4> kTypeUrls = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "type.googleapis.com/envoy.config.listener.v3.Listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
};
constexpr std::array<absl::string_view, 4> kShortNames = {"cds", "eds", "lds", "rds"};
// How a resource of each type is named in error messages.
constexpr std::array<absl::string_view, 4> kKinds = {"cluster", "cluster load assignment",
                                                     "listener", "route configuration"};

size_t Index(ResourceType type) { return static_cast<size_t>(type); }

// FNV-1a: a listener's identity across updates only needs to be stable within the process.
uint64_t HashBytes(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash == 0 ? 1 : hash;  // 0 is reserved for static listeners
}

struct Received {
  std::string version;
  absl::Time last_updated;
  std::string value;
};

struct ListenerResource : Received {
  ListenerConfig config;  // route_table unset when the listener uses rds
};
struct RouteResource : Received {
  std::shared_ptr<const routing::RouteTable> table;
};
struct ClusterResource : Received {
  std::shared_ptr<const routing::Cluster> cluster;  // EDS: without endpoints
  absl::Duration eds_initial_fetch_timeout = kDefaultInitialFetchTimeout;
};
struct EndpointResource : Received {
  std::vector<routing::EndpointConfig> endpoints;
};

// A resource named by an RDS/EDS reference that has not arrived yet.
struct Awaited {
  absl::Time since;
  absl::Time deadline = absl::InfiniteFuture();
  bool timed_out = false;
};

// What the last snapshot served for one cluster, reused while its inputs stay the same.
struct ServedCluster {
  const routing::Cluster* source = nullptr;     // the CDS or static cluster it was built from
  const EndpointResource* endpoints = nullptr;  // its EDS endpoints (nullptr: none)
  std::shared_ptr<const routing::Cluster> cluster;
};

// A cluster as the config defines it: static or from CDS.
struct ClusterSource {
  const routing::Cluster* cluster;
  std::shared_ptr<const routing::Cluster> owner;
  absl::Duration eds_initial_fetch_timeout;
};

const std::string& ServiceName(const routing::Cluster& cluster) {
  return cluster.config().eds_service_name.empty() ? cluster.config().name
                                                   : cluster.config().eds_service_name;
}

std::shared_ptr<const routing::RouteTable> EmptyRouteTable() {
  static const auto* table = new std::shared_ptr<const routing::RouteTable>([] {
    ValidationErrors ignored;
    return routing::RouteTable::Create(routing::RouteTableConfig{}, &ignored);
  }());
  return *table;
}

}  // namespace

struct DynamicConfig::State {
  std::array<std::string, 4> versions;
  std::array<absl::Time, 4> updated = {absl::InfinitePast(), absl::InfinitePast(),
                                       absl::InfinitePast(), absl::InfinitePast()};
  std::map<std::string, std::shared_ptr<const ListenerResource>> listeners;
  std::map<std::string, std::shared_ptr<const RouteResource>> routes;
  std::map<std::string, std::shared_ptr<const ClusterResource>> clusters;
  std::map<std::string, std::shared_ptr<const EndpointResource>> endpoints;  // by service name
  std::map<std::string, Awaited> awaited_routes;
  std::map<std::string, Awaited> awaited_endpoints;
  std::map<std::string, ServedCluster> served_clusters;
  std::map<std::string, ListenerConfig> served_listeners;
};

DynamicConfig::Prepared::Prepared() = default;
DynamicConfig::Prepared::~Prepared() = default;
DynamicConfig::Prepared::Prepared(Prepared&&) noexcept = default;
DynamicConfig::Prepared& DynamicConfig::Prepared::operator=(Prepared&&) noexcept = default;

absl::string_view TypeUrl(ResourceType type) { return kTypeUrls[Index(type)]; }

std::optional<ResourceType> ResourceTypeFromUrl(absl::string_view type_url) {
  for (ResourceType type : kResourceTypes) {
    if (TypeUrl(type) == type_url) return type;
  }
  return std::nullopt;
}

absl::string_view ShortName(ResourceType type) { return kShortNames[Index(type)]; }

namespace {

// Static EDS clusters' initial_fetch_timeout, which BootstrapConfig does not carry.
absl::flat_hash_map<std::string, absl::Duration> StaticEdsTimeouts(
    const BootstrapConfig& bootstrap) {
  absl::flat_hash_map<std::string, absl::Duration> out;
  envoy::config::bootstrap::v3::Bootstrap proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(bootstrap.bootstrap_json, &proto, options)
           .ok()) {
    return out;
  }
  for (const auto& cluster : proto.static_resources().clusters()) {
    const auto& source = cluster.eds_cluster_config().eds_config();
    if (source.has_initial_fetch_timeout()) {
      out[cluster.name()] = ToDuration(source.initial_fetch_timeout());
    }
  }
  return out;
}

// Parses a resource and checks it against what weir implements; `name` is set as soon as the
// resource parses, so that errors can name it.
template <typename Proto>
bool ParseResource(const RawResource& raw, Proto* proto, std::string* name,
                   ValidationErrors* errors) {
  if (!proto->ParseFromString(raw.value)) {
    errors->AddError(absl::StrCat("malformed ", Proto::descriptor()->full_name(),
                                  " (the bytes do not parse)"));
    return false;
  }
  if constexpr (std::is_same_v<Proto, envoy::config::endpoint::v3::ClusterLoadAssignment>) {
    *name = proto->cluster_name();
  } else {
    *name = proto->name();
  }
  CheckDynamicResource(*proto, errors);
  return errors->ok();
}

}  // namespace

DynamicConfig::DynamicConfig(const BootstrapConfig& bootstrap, absl::Time now)
    : bootstrap_(bootstrap),
      static_eds_timeouts_(StaticEdsTimeouts(bootstrap)),
      state_(std::make_unique<State>()) {
  Prepared prepared = Finish(std::make_unique<State>(), now, {});
  // The bootstrap was validated already; a failure here would be a bug in the translators.
  if (prepared.status.ok()) {
    Commit(std::move(prepared));
  } else {
    snapshot_ = ConfigSnapshot::FromBootstrap(bootstrap);
  }
}

DynamicConfig::~DynamicConfig() = default;

const std::string& DynamicConfig::version(ResourceType type) const {
  return state_->versions[Index(type)];
}

absl::Time DynamicConfig::last_updated(ResourceType type) const {
  return state_->updated[Index(type)];
}

DynamicConfig::Prepared DynamicConfig::Prepare(ResourceType type, const std::string& version,
                                               const std::vector<RawResource>& resources,
                                               absl::Time now) const {
  auto next = std::make_unique<State>(*state_);
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::vector<std::string> names;
  const absl::string_view kind = kKinds[Index(type)];

  absl::flat_hash_set<std::string> wanted;
  if (!IsWildcard(type)) {
    for (std::string& name : SubscriptionNames(type)) wanted.insert(std::move(name));
  }
  absl::flat_hash_set<std::string> static_names;
  if (type == ResourceType::kCluster) {
    for (const auto& cluster : bootstrap_.clusters) static_names.insert(cluster->config().name);
  } else if (type == ResourceType::kListener) {
    for (const auto& listener : bootstrap_.listeners) static_names.insert(listener.name);
  }

  // Full-state types start from nothing: what the response lacks is removed.
  decltype(next->listeners) listeners;
  decltype(next->clusters) clusters;
  absl::flat_hash_map<std::string, size_t> seen;  // name → index in the response

  for (size_t i = 0; i < resources.size(); ++i) {
    const RawResource& raw = resources[i];
    ValidationErrors resource_errors;
    std::string name;
    auto report = [&](absl::string_view label) {
      for (const std::string& error : resource_errors.errors()) {
        errors.push_back(absl::StrCat(label, ": ", error));
      }
      for (const std::string& warning : resource_errors.warnings()) {
        warnings.push_back(absl::StrCat(label, ": ", warning));
      }
    };
    if (raw.type_url != TypeUrl(type)) {
      errors.push_back(absl::StrCat("resources[", i, "]: type ", raw.type_url,
                                    " in a response for ", TypeUrl(type)));
      continue;
    }
    switch (type) {
      case ResourceType::kCluster: {
        envoy::config::cluster::v3::Cluster proto;
        if (!ParseResource(raw, &proto, &name, &resource_errors) || name.empty()) break;
        if (static_names.contains(name)) {
          resource_errors.AddError(
              "a static cluster has this name; static clusters cannot be replaced over CDS");
          break;
        }
        auto existing = state_->clusters.find(name);
        if (existing != state_->clusters.end() && existing->second->value == raw.value) {
          clusters.emplace(name, existing->second);
          break;
        }
        auto entry = std::make_shared<ClusterResource>();
        entry->cluster = TranslateCluster(proto, &resource_errors);
        const auto& source = proto.eds_cluster_config().eds_config();
        if (source.has_initial_fetch_timeout()) {
          ValidationErrors::ScopedField field(
              &resource_errors, "eds_cluster_config.eds_config.initial_fetch_timeout");
          entry->eds_initial_fetch_timeout =
              NonNegativeDuration(source.initial_fetch_timeout(), &resource_errors);
        }
        entry->version = version;
        entry->last_updated = now;
        entry->value = raw.value;
        if (entry->cluster != nullptr) clusters.emplace(name, std::move(entry));
        break;
      }
      case ResourceType::kListener: {
        envoy::config::listener::v3::Listener proto;
        if (!ParseResource(raw, &proto, &name, &resource_errors) || name.empty()) break;
        if (static_names.contains(name)) {
          resource_errors.AddError(
              "a static listener has this name; static listeners cannot be replaced over LDS");
          break;
        }
        auto existing = state_->listeners.find(name);
        if (existing != state_->listeners.end() && existing->second->value == raw.value) {
          listeners.emplace(name, existing->second);
          break;
        }
        std::optional<ListenerConfig> config = TranslateListener(proto, &resource_errors);
        if (!config.has_value()) break;
        auto entry = std::make_shared<ListenerResource>();
        entry->config = *std::move(config);
        entry->config.config_hash = HashBytes(raw.value);
        entry->version = version;
        entry->last_updated = now;
        entry->value = raw.value;
        listeners.emplace(name, std::move(entry));
        break;
      }
      case ResourceType::kRoute: {
        envoy::config::route::v3::RouteConfiguration proto;
        const bool parsed = ParseResource(raw, &proto, &name, &resource_errors);
        if (!name.empty() && !wanted.contains(name)) continue;  // not asked for: ignored
        if (!parsed) break;
        auto existing = state_->routes.find(name);
        if (existing != state_->routes.end() && existing->second->value == raw.value) break;
        auto entry = std::make_shared<RouteResource>();
        entry->table = CompileRouteConfiguration(proto, &resource_errors);
        entry->version = version;
        entry->last_updated = now;
        entry->value = raw.value;
        if (entry->table != nullptr) next->routes[name] = std::move(entry);
        break;
      }
      case ResourceType::kEndpoints: {
        envoy::config::endpoint::v3::ClusterLoadAssignment proto;
        const bool parsed = ParseResource(raw, &proto, &name, &resource_errors);
        if (!name.empty() && !wanted.contains(name)) continue;  // not asked for: ignored
        if (!parsed) break;
        auto existing = state_->endpoints.find(name);
        if (existing != state_->endpoints.end() && existing->second->value == raw.value) break;
        auto entry = std::make_shared<EndpointResource>();
        entry->endpoints = TranslateLoadAssignment(proto, /*require_ip=*/true, &resource_errors);
        entry->version = version;
        entry->last_updated = now;
        entry->value = raw.value;
        if (resource_errors.ok()) next->endpoints[name] = std::move(entry);
        break;
      }
    }
    if (name.empty()) {
      if (resource_errors.ok()) resource_errors.AddError("has no name");
      report(absl::StrCat("resources[", i, "]"));
      continue;
    }
    report(absl::StrCat(kind, " \"", name, "\""));
    if (auto [it, inserted] = seen.emplace(name, i); !inserted) {
      errors.push_back(absl::StrCat(kind, " \"", name, "\": appears twice in the response (",
                                    "resources[", it->second, "] and resources[", i, "])"));
      continue;
    }
    names.push_back(name);
  }
  if (type == ResourceType::kCluster) next->clusters = std::move(clusters);
  if (type == ResourceType::kListener) next->listeners = std::move(listeners);
  next->versions[Index(type)] = version;
  next->updated[Index(type)] = now;

  Prepared prepared = Finish(std::move(next), now, std::move(errors));
  prepared.warnings.insert(prepared.warnings.begin(), warnings.begin(), warnings.end());
  prepared.names = std::move(names);
  return prepared;
}

DynamicConfig::Prepared DynamicConfig::Refresh(absl::Time now) const {
  return Finish(std::make_unique<State>(*state_), now, {});
}

DynamicConfig::Prepared DynamicConfig::Finish(std::unique_ptr<State> state, absl::Time now,
                                              std::vector<std::string> errors) const {
  Prepared prepared;

  // --- Clusters: static first, then CDS, each with its EDS endpoints. ---
  std::vector<ClusterSource> sources;
  for (const auto& cluster : bootstrap_.clusters) {
    auto timeout = static_eds_timeouts_.find(cluster->config().name);
    sources.push_back({cluster.get(), cluster,
                       timeout == static_eds_timeouts_.end() ? kDefaultInitialFetchTimeout
                                                             : timeout->second});
  }
  for (const auto& [name, resource] : state->clusters) {
    sources.push_back({resource->cluster.get(), resource->cluster,
                       resource->eds_initial_fetch_timeout});
  }
  // EDS services referenced now, and how long each may wait.
  std::map<std::string, absl::Time> service_deadline;
  for (const ClusterSource& source : sources) {
    if (source.cluster->config().type != routing::DiscoveryType::kEds) continue;
    const std::string& service = ServiceName(*source.cluster);
    auto [awaited, inserted] = state->awaited_endpoints.try_emplace(service, Awaited{.since = now});
    (void)inserted;
    absl::Time deadline = source.eds_initial_fetch_timeout > absl::ZeroDuration()
                              ? awaited->second.since + source.eds_initial_fetch_timeout
                              : absl::InfiniteFuture();
    auto [it, first] = service_deadline.emplace(service, deadline);
    if (!first) it->second = std::min(it->second, deadline);
  }
  for (auto it = state->awaited_endpoints.begin(); it != state->awaited_endpoints.end();) {
    auto deadline = service_deadline.find(it->first);
    if (deadline == service_deadline.end() || state->endpoints.contains(it->first)) {
      it = state->awaited_endpoints.erase(it);
      continue;
    }
    it->second.deadline = deadline->second;
    it->second.timed_out = now >= deadline->second;
    ++it;
  }
  for (auto it = state->endpoints.begin(); it != state->endpoints.end();) {
    it = service_deadline.contains(it->first) ? std::next(it) : state->endpoints.erase(it);
  }

  std::vector<std::shared_ptr<const routing::Cluster>> clusters;
  std::map<std::string, ServedCluster> served_clusters;
  for (const ClusterSource& source : sources) {
    const routing::ClusterConfig& config = source.cluster->config();
    if (config.type != routing::DiscoveryType::kEds) {
      clusters.push_back(source.owner);
      served_clusters[config.name] = {source.cluster, nullptr, source.owner};
      continue;
    }
    const std::string& service = ServiceName(*source.cluster);
    auto endpoints = state->endpoints.find(service);
    const EndpointResource* endpoint_resource =
        endpoints == state->endpoints.end() ? nullptr : endpoints->second.get();
    auto previous = state->served_clusters.find(config.name);
    if (endpoint_resource == nullptr) {
      auto awaited = state->awaited_endpoints.find(service);
      const bool timed_out =
          awaited != state->awaited_endpoints.end() && awaited->second.timed_out;
      if (!timed_out) {
        // Warming: the version already serving (if any) keeps serving.
        if (previous != state->served_clusters.end()) {
          clusters.push_back(previous->second.cluster);
          served_clusters[config.name] = previous->second;
        }
        continue;
      }
    }
    if (previous != state->served_clusters.end() &&
        previous->second.source == source.cluster &&
        previous->second.endpoints == endpoint_resource) {
      clusters.push_back(previous->second.cluster);
      served_clusters[config.name] = previous->second;
      continue;
    }
    routing::ClusterConfig with_endpoints = config;
    if (endpoint_resource != nullptr) with_endpoints.endpoints = endpoint_resource->endpoints;
    ValidationErrors cluster_errors;
    std::shared_ptr<const routing::Cluster> built =
        routing::Cluster::Create(with_endpoints, &cluster_errors);
    for (const std::string& error : cluster_errors.errors()) {
      errors.push_back(absl::StrCat("cluster \"", config.name, "\" with the endpoints of \"",
                                    service, "\": ", error));
    }
    if (built == nullptr) continue;
    clusters.push_back(built);
    served_clusters[config.name] = {source.cluster, endpoint_resource, std::move(built)};
  }

  // --- Listeners: static first, then LDS, each with its RDS route table. ---
  std::vector<const ListenerConfig*> listener_sources;
  for (const ListenerConfig& listener : bootstrap_.listeners) listener_sources.push_back(&listener);
  for (const auto& [name, resource] : state->listeners) listener_sources.push_back(&resource->config);
  std::map<std::string, absl::Time> route_deadline;
  for (const ListenerConfig* listener : listener_sources) {
    const std::string& route = listener->http.rds_route_config_name;
    if (route.empty()) continue;
    auto [awaited, inserted] = state->awaited_routes.try_emplace(route, Awaited{.since = now});
    (void)inserted;
    const absl::Duration timeout = listener->http.rds_initial_fetch_timeout;
    absl::Time deadline = timeout > absl::ZeroDuration() ? awaited->second.since + timeout
                                                         : absl::InfiniteFuture();
    auto [it, first] = route_deadline.emplace(route, deadline);
    if (!first) it->second = std::min(it->second, deadline);
  }
  for (auto it = state->awaited_routes.begin(); it != state->awaited_routes.end();) {
    auto deadline = route_deadline.find(it->first);
    if (deadline == route_deadline.end() || state->routes.contains(it->first)) {
      it = state->awaited_routes.erase(it);
      continue;
    }
    it->second.deadline = deadline->second;
    it->second.timed_out = now >= deadline->second;
    ++it;
  }
  for (auto it = state->routes.begin(); it != state->routes.end();) {
    it = route_deadline.contains(it->first) ? std::next(it) : state->routes.erase(it);
  }

  std::vector<ListenerConfig> listeners;
  std::map<std::string, ListenerConfig> served_listeners;
  absl::flat_hash_map<std::string, std::string> addresses;  // address → listener name
  for (const ListenerConfig* source : listener_sources) {
    const std::string& route = source->http.rds_route_config_name;
    std::optional<ListenerConfig> serving;
    if (route.empty()) {
      serving = *source;
    } else if (auto table = state->routes.find(route); table != state->routes.end()) {
      serving = *source;
      serving->http.route_table = table->second->table;
    } else if (auto awaited = state->awaited_routes.find(route);
               awaited != state->awaited_routes.end() && awaited->second.timed_out) {
      serving = *source;
      serving->http.route_table = EmptyRouteTable();  // Envoy: no routes, every request 404
    } else if (auto previous = state->served_listeners.find(source->name);
               previous != state->served_listeners.end()) {
      serving = previous->second;  // warming: the old version keeps serving
    }
    if (!serving.has_value()) continue;
    if (serving->address.port != 0) {
      auto [it, inserted] = addresses.emplace(serving->address.ToString(), serving->name);
      if (!inserted) {
        errors.push_back(absl::StrCat("listener \"", serving->name, "\": address ",
                                      serving->address.ToString(),
                                      " is already used by listener \"", it->second, "\""));
        continue;
      }
    }
    served_listeners[serving->name] = *serving;
    listeners.push_back(*std::move(serving));
  }

  if (!errors.empty()) {
    prepared.status = absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
    return prepared;
  }

  // Did anything that workers see change?
  bool changed = snapshot_ == nullptr || snapshot_->clusters().size() != clusters.size() ||
                 snapshot_->listeners().size() != listeners.size();
  for (size_t i = 0; !changed && i < clusters.size(); ++i) {
    changed = snapshot_->clusters()[i] != clusters[i];
  }
  for (size_t i = 0; !changed && i < listeners.size(); ++i) {
    const ListenerConfig& before = snapshot_->listeners()[i];
    changed = before.name != listeners[i].name ||
              before.config_hash != listeners[i].config_hash ||
              before.http.route_table != listeners[i].http.route_table;
  }

  state->served_clusters = std::move(served_clusters);
  state->served_listeners = std::move(served_listeners);
  std::string version = absl::StrCat(
      "cds=", state->versions[0], ",eds=", state->versions[1], ",lds=", state->versions[2],
      ",rds=", state->versions[3]);
  prepared.snapshot = std::make_shared<const ConfigSnapshot>(
      std::move(version), std::move(listeners), std::move(clusters));
  prepared.state = std::move(state);
  prepared.changed = changed;
  prepared.status = absl::OkStatus();
  return prepared;
}

void DynamicConfig::Commit(Prepared prepared) {
  state_ = std::move(prepared.state);
  snapshot_ = std::move(prepared.snapshot);
}

std::vector<std::string> DynamicConfig::SubscriptionNames(ResourceType type) const {
  std::set<std::string> names;
  if (type == ResourceType::kEndpoints) {
    for (const auto& cluster : bootstrap_.clusters) {
      if (cluster->config().type == routing::DiscoveryType::kEds) {
        names.insert(ServiceName(*cluster));
      }
    }
    for (const auto& [name, resource] : state_->clusters) {
      if (resource->cluster->config().type == routing::DiscoveryType::kEds) {
        names.insert(ServiceName(*resource->cluster));
      }
    }
  } else if (type == ResourceType::kRoute) {
    for (const ListenerConfig& listener : bootstrap_.listeners) {
      if (!listener.http.rds_route_config_name.empty()) {
        names.insert(listener.http.rds_route_config_name);
      }
    }
    for (const auto& [name, resource] : state_->listeners) {
      if (!resource->config.http.rds_route_config_name.empty()) {
        names.insert(resource->config.http.rds_route_config_name);
      }
    }
  }
  return {names.begin(), names.end()};
}

bool DynamicConfig::Warming(ResourceType type) const {
  const auto& awaited =
      type == ResourceType::kEndpoints ? state_->awaited_endpoints : state_->awaited_routes;
  for (const auto& [name, entry] : awaited) {
    if (!entry.timed_out) return true;
  }
  return false;
}

std::optional<absl::Time> DynamicConfig::NextWarmingDeadline() const {
  std::optional<absl::Time> next;
  for (const auto* awaited : {&state_->awaited_endpoints, &state_->awaited_routes}) {
    for (const auto& [name, entry] : *awaited) {
      if (entry.timed_out || entry.deadline == absl::InfiniteFuture()) continue;
      if (!next.has_value() || entry.deadline < *next) next = entry.deadline;
    }
  }
  return next;
}

std::vector<std::string> DynamicConfig::ClustersForService(absl::string_view service_name) const {
  std::vector<std::string> out;
  auto consider = [&](const routing::Cluster& cluster) {
    if (cluster.config().type == routing::DiscoveryType::kEds &&
        ServiceName(cluster) == service_name) {
      out.push_back(cluster.config().name);
    }
  };
  for (const auto& cluster : bootstrap_.clusters) consider(*cluster);
  for (const auto& [name, resource] : state_->clusters) consider(*resource->cluster);
  return out;
}

std::vector<std::string> DynamicConfig::StatPrefixesForRoute(absl::string_view name) const {
  std::set<std::string> out;
  for (const ListenerConfig& listener : bootstrap_.listeners) {
    if (listener.http.rds_route_config_name == name) out.insert(listener.http.stat_prefix);
  }
  for (const auto& [listener_name, resource] : state_->listeners) {
    if (resource->config.http.rds_route_config_name == name) {
      out.insert(resource->config.http.stat_prefix);
    }
  }
  return {out.begin(), out.end()};
}

std::vector<DynamicConfig::ResourceInfo> DynamicConfig::Resources(ResourceType type) const {
  std::vector<ResourceInfo> out;
  auto add = [&](const std::string& name, const Received& received, bool warming) {
    out.push_back({.name = name,
                   .version = received.version,
                   .last_updated = received.last_updated,
                   .type_url = std::string(TypeUrl(type)),
                   .value = received.value,
                   .warming = warming});
  };
  switch (type) {
    case ResourceType::kCluster:
      for (const auto& [name, resource] : state_->clusters) {
        auto served = state_->served_clusters.find(name);
        add(name, *resource,
            served == state_->served_clusters.end() ||
                served->second.source != resource->cluster.get());
      }
      break;
    case ResourceType::kEndpoints:
      for (const auto& [name, resource] : state_->endpoints) add(name, *resource, false);
      break;
    case ResourceType::kListener:
      for (const auto& [name, resource] : state_->listeners) {
        auto served = state_->served_listeners.find(name);
        add(name, *resource,
            served == state_->served_listeners.end() ||
                served->second.config_hash != resource->config.config_hash);
      }
      break;
    case ResourceType::kRoute:
      for (const auto& [name, resource] : state_->routes) add(name, *resource, false);
      break;
  }
  return out;
}

}  // namespace xds
