#include "tests/integration/harness/xds_resources.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
// The generated types must be linked in for the descriptor pool to know them.
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace weir_test {

namespace {

// Asking for the descriptors links the generated code in, so the pool (and the JSON parser,
// for the Any payloads) knows these types.
void LinkTypes() {
  static const bool linked = [] {
    envoy::config::cluster::v3::Cluster::descriptor();
    envoy::config::endpoint::v3::ClusterLoadAssignment::descriptor();
    envoy::config::listener::v3::Listener::descriptor();
    envoy::config::route::v3::RouteConfiguration::descriptor();
    envoy::extensions::filters::http::router::v3::Router::descriptor();
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::
        descriptor();
    return true;
  }();
  (void)linked;
}

}  // namespace

std::string Serialize(const std::string& full_name, const std::string& json) {
  LinkTypes();
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(full_name);
  if (descriptor == nullptr) {
    std::fprintf(stderr, "Serialize: unknown message %s\n", full_name.c_str());
    std::abort();
  }
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
  auto status = google::protobuf::util::JsonStringToMessage(json, message.get());
  if (!status.ok()) {
    std::fprintf(stderr, "Serialize(%s): %s\n%s\n", full_name.c_str(),
                 status.ToString().c_str(), json.c_str());
    std::abort();
  }
  return message->SerializeAsString();
}

std::string EdsCluster(const std::string& name, const std::string& extra) {
  return Serialize("envoy.config.cluster.v3.Cluster",
                   absl::StrCat(R"({"name":")", name, R"(","type":"EDS",)", extra,
                                R"("connect_timeout":"1s",)",
                                R"("eds_cluster_config":{"eds_config":{"ads":{}}}})"));
}

std::string StaticCluster(const std::string& name, uint16_t port) {
  return Serialize(
      "envoy.config.cluster.v3.Cluster",
      absl::StrCat(R"({"name":")", name, R"(","type":"STATIC","connect_timeout":"1s",)",
                   R"("load_assignment":{"cluster_name":")", name,
                   R"(","endpoints":[{"lb_endpoints":[{"endpoint":{"address":{"socket_address":)",
                   R"({"address":"127.0.0.1","port_value":)", port, "}}}}]}]}}"));
}

std::string Endpoints(const std::string& cluster_name, const std::vector<uint16_t>& ports) {
  std::string lb_endpoints;
  for (uint16_t port : ports) {
    if (!lb_endpoints.empty()) lb_endpoints += ",";
    absl::StrAppend(&lb_endpoints,
                    R"({"endpoint":{"address":{"socket_address":{"address":"127.0.0.1",)",
                    R"("port_value":)", port, "}}}}");
  }
  return Serialize("envoy.config.endpoint.v3.ClusterLoadAssignment",
                   absl::StrCat(R"({"cluster_name":")", cluster_name,
                                R"(","endpoints":[{"lb_endpoints":[)", lb_endpoints, "]}]}"));
}

std::string RdsListener(const std::string& name, uint16_t port, const std::string& route,
                        const std::string& hcm_extra) {
  return Serialize(
      "envoy.config.listener.v3.Listener",
      absl::StrCat(
          R"({"name":")", name,
          R"(","address":{"socket_address":{"address":"127.0.0.1","port_value":)", port,
          R"(}},"filter_chains":[{"filters":[{"name":"envoy.filters.network.http_connection_manager",)",
          R"("typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.network.)",
          R"(http_connection_manager.v3.HttpConnectionManager",)", hcm_extra,
          R"("stat_prefix":")", name, R"(","rds":{"route_config_name":")", route,
          R"(","config_source":{"ads":{},"resource_api_version":"V3"}},)",
          R"("http_filters":[{"name":"envoy.filters.http.router","typed_config":{"@type":)",
          R"("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]})"));
}

std::string WeightedRoute(const std::string& name,
                          const std::vector<std::pair<std::string, uint32_t>>& clusters) {
  std::string weighted;
  for (const auto& [cluster, weight] : clusters) {
    if (!weighted.empty()) weighted += ",";
    absl::StrAppend(&weighted, R"({"name":")", cluster, R"(","weight":)", weight, "}");
  }
  return Serialize(
      "envoy.config.route.v3.RouteConfiguration",
      absl::StrCat(R"({"name":")", name,
                   R"(","virtual_hosts":[{"name":"all","domains":["*"],"routes":[{"match":)",
                   R"({"prefix":"/"},"route":{"weighted_clusters":{"header_name":"x-canary-pin",)",
                   R"("clusters":[)", weighted, "]}}}]}]}"));
}

}  // namespace weir_test
