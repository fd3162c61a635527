#include "xds/extension_types.h"

#include "absl/container/flat_hash_map.h"
#include "envoy/extensions/filters/http/health_check/v3/health_check.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace xds {

const google::protobuf::Descriptor* FindExtensionType(std::string_view type_name) {
  static const auto* types = [] {
    auto* map = new absl::flat_hash_map<std::string_view, const google::protobuf::Descriptor*>();
    for (const google::protobuf::Descriptor* d : {
             envoy::extensions::filters::network::http_connection_manager::v3::
                 HttpConnectionManager::descriptor(),
             envoy::extensions::filters::http::router::v3::Router::descriptor(),
             envoy::extensions::filters::http::health_check::v3::HealthCheck::descriptor(),
             envoy::extensions::upstreams::http::v3::HttpProtocolOptions::descriptor(),
         }) {
      map->emplace(d->full_name(), d);
    }
    return map;
  }();
  auto it = types->find(type_name);
  return it == types->end() ? nullptr : it->second;
}

}  // namespace xds
