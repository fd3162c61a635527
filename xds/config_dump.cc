#include "xds/config_dump.h"

#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace xds {

namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

void PackRaw(const DynamicConfig::ResourceInfo& info, google::protobuf::Any* any) {
  any->set_type_url(info.type_url);
  any->set_value(info.value);
}

}  // namespace

std::string RenderConfigDump(const BootstrapConfig& bootstrap, absl::Time loaded_at,
                             const DynamicConfig* dynamic) {
  namespace admin = envoy::admin::v3;
  envoy::config::bootstrap::v3::Bootstrap proto;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(bootstrap.bootstrap_json, &proto, parse);
  const google::protobuf::Timestamp updated =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(loaded_at));

  admin::ConfigDump dump;
  admin::BootstrapConfigDump bootstrap_dump;
  *bootstrap_dump.mutable_bootstrap() = proto;
  *bootstrap_dump.mutable_last_updated() = updated;
  dump.add_configs()->PackFrom(bootstrap_dump);

  admin::ClustersConfigDump clusters;
  for (const auto& cluster : proto.static_resources().clusters()) {
    auto* entry = clusters.add_static_clusters();
    entry->mutable_cluster()->PackFrom(cluster);
    *entry->mutable_last_updated() = updated;
  }
  if (dynamic != nullptr) {
    clusters.set_version_info(dynamic->version(ResourceType::kCluster));
    for (const DynamicConfig::ResourceInfo& info : dynamic->Resources(ResourceType::kCluster)) {
      auto* entry = info.warming ? clusters.add_dynamic_warming_clusters()
                                 : clusters.add_dynamic_active_clusters();
      entry->set_version_info(info.version);
      PackRaw(info, entry->mutable_cluster());
      *entry->mutable_last_updated() = ToTimestamp(info.last_updated);
    }
  }
  dump.add_configs()->PackFrom(clusters);

  admin::ListenersConfigDump listeners;
  admin::RoutesConfigDump routes;
  for (const auto& listener : proto.static_resources().listeners()) {
    auto* entry = listeners.add_static_listeners();
    entry->mutable_listener()->PackFrom(listener);
    *entry->mutable_last_updated() = updated;
    for (const auto& chain : listener.filter_chains()) {
      for (const auto& filter : chain.filters()) {
        envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager
            hcm;
        if (filter.typed_config().UnpackTo(&hcm) && hcm.has_route_config()) {
          auto* route = routes.add_static_route_configs();
          route->mutable_route_config()->PackFrom(hcm.route_config());
          *route->mutable_last_updated() = updated;
        }
      }
    }
  }
  if (dynamic != nullptr) {
    listeners.set_version_info(dynamic->version(ResourceType::kListener));
    for (const DynamicConfig::ResourceInfo& info : dynamic->Resources(ResourceType::kListener)) {
      auto* entry = listeners.add_dynamic_listeners();
      entry->set_name(info.name);
      auto* state = info.warming ? entry->mutable_warming_state() : entry->mutable_active_state();
      state->set_version_info(info.version);
      PackRaw(info, state->mutable_listener());
      *state->mutable_last_updated() = ToTimestamp(info.last_updated);
    }
    for (const DynamicConfig::ResourceInfo& info : dynamic->Resources(ResourceType::kRoute)) {
      auto* entry = routes.add_dynamic_route_configs();
      entry->set_version_info(info.version);
      PackRaw(info, entry->mutable_route_config());
      *entry->mutable_last_updated() = ToTimestamp(info.last_updated);
    }
  }
  dump.add_configs()->PackFrom(listeners);
  dump.add_configs()->PackFrom(routes);

  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(dump, &json, print);
  return json;
}

}  // namespace xds
