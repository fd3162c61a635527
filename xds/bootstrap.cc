#include "xds/bootstrap.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "google/protobuf/util/json_util.h"
#include "xds/config_tree.h"
#include "xds/translate_cluster.h"
#include "xds/translate_listener.h"
#include "xds/translate_util.h"
#include "xds/tree_to_proto_json.h"

namespace xds {
namespace {

namespace bootstrap = envoy::config::bootstrap::v3;
namespace core = envoy::config::core::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using routing::ValidationErrors;
using Field = routing::ValidationErrors::ScopedField;

std::optional<SocketAddress> TranslateAdminAddress(const core::Address& proto,
                                                   ValidationErrors* errors) {
  Field address(errors, "address");
  if (!proto.has_socket_address()) {
    errors->AddError("socket_address is required");
    return std::nullopt;
  }
  Field socket(errors, "socket_address");
  SocketAddress out{.address = proto.socket_address().address(),
                    .port = proto.socket_address().port_value()};
  if (!IsIpLiteral(out.address)) {
    Field field(errors, "address");
    errors->AddError(absl::StrCat("\"", out.address, "\" is not an IP address"));
  }
  if (out.port > 65535) {
    Field field(errors, "port_value");
    errors->AddError(absl::StrCat("must be at most 65535, got ", out.port));
  }
  return out;
}

// lds_config / cds_config: weir takes listeners and clusters over ADS only.
bool TranslateAdsSource(const core::ConfigSource& source, absl::Duration* initial_fetch_timeout,
                        ValidationErrors* errors) {
  if (source.config_source_specifier_case() != core::ConfigSource::kAds) {
    errors->AddError("weir receives xDS resources over ADS only; use {ads: {}}");
    return false;
  }
  if (source.resource_api_version() == core::V2) {
    Field field(errors, "resource_api_version");
    errors->AddError("xDS v2 is not supported (V3 is)");
  }
  if (source.has_initial_fetch_timeout()) {
    Field field(errors, "initial_fetch_timeout");
    *initial_fetch_timeout = NonNegativeDuration(source.initial_fetch_timeout(), errors);
  }
  return true;
}

DynamicResourcesConfig TranslateDynamicResources(
    const bootstrap::Bootstrap::DynamicResources& proto,
    const absl::flat_hash_set<std::string>& static_clusters, ValidationErrors* errors) {
  DynamicResourcesConfig config;
  if (proto.has_ads_config()) {
    Field field(errors, "ads_config");
    const core::ApiConfigSource& ads = proto.ads_config();
    AdsConfig& out = config.ads.emplace();
    if (ads.api_type() != core::ApiConfigSource::GRPC &&
        ads.api_type() != core::ApiConfigSource::AGGREGATED_GRPC) {
      Field api_type(errors, "api_type");
      errors->AddError(absl::StrCat(core::ApiConfigSource::ApiType_Name(ads.api_type()),
                                    " is not supported (GRPC state-of-the-world ADS is)"));
    }
    if (ads.transport_api_version() == core::V2) {
      Field version(errors, "transport_api_version");
      errors->AddError("xDS v2 is not supported (V3 is)");
    }
    out.set_node_on_first_message_only = ads.set_node_on_first_message_only();
    Field services(errors, "grpc_services");
    if (ads.grpc_services_size() != 1) {
      errors->AddError(absl::StrCat("exactly one gRPC service is required, got ",
                                    ads.grpc_services_size()));
    } else {
      Field index(errors, ValidationErrors::Index(0));
      const core::GrpcService& service = ads.grpc_services(0);
      if (service.has_timeout()) {
        Field timeout(errors, "timeout");
        out.timeout = NonNegativeDuration(service.timeout(), errors);
      }
      for (const core::HeaderValue& header : service.initial_metadata()) {
        out.initial_metadata.emplace_back(header.key(), header.value());
      }
      if (service.has_envoy_grpc()) {
        Field envoy_grpc(errors, "envoy_grpc");
        out.cluster_name = service.envoy_grpc().cluster_name();
        out.authority = service.envoy_grpc().authority();
        if (!static_clusters.contains(out.cluster_name)) {
          Field name(errors, "cluster_name");
          errors->AddError(absl::StrCat("\"", out.cluster_name,
                                        "\" is not a cluster in static_resources.clusters"));
        }
      } else if (service.has_google_grpc()) {
        Field google_grpc(errors, "google_grpc");
        out.target_uri = service.google_grpc().target_uri();
        if (out.target_uri.empty()) {
          Field target(errors, "target_uri");
          errors->AddError("must not be empty");
        }
      } else {
        errors->AddError("one of envoy_grpc or google_grpc is required");
      }
    }
  }
  if (proto.has_lds_config()) {
    Field field(errors, "lds_config");
    config.lds = TranslateAdsSource(proto.lds_config(), &config.lds_initial_fetch_timeout, errors);
    if (config.lds && !config.ads.has_value()) {
      errors->AddError("uses ADS, which needs dynamic_resources.ads_config");
    }
  }
  if (proto.has_cds_config()) {
    Field field(errors, "cds_config");
    config.cds = TranslateAdsSource(proto.cds_config(), &config.cds_initial_fetch_timeout, errors);
    if (config.cds && !config.ads.has_value()) {
      errors->AddError("uses ADS, which needs dynamic_resources.ads_config");
    }
  }
  return config;
}

// Cross-resource checks of the static resources: unique names and addresses, ADS-dependent
// resources, and routes to clusters that do not exist.
void CheckStaticResources(const bootstrap::Bootstrap& proto, const BootstrapConfig& config,
                          const std::vector<int>& listener_index, ValidationErrors* errors) {
  Field static_resources(errors, "static_resources");
  absl::flat_hash_set<std::string> cluster_names;
  for (const auto& cluster : config.clusters) cluster_names.insert(cluster->config().name);

  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& listener = config.listeners[i];
    Field listeners(errors, "listeners");
    Field index(errors, ValidationErrors::Index(listener_index[i]));
    if (!listener.http.rds_route_config_name.empty() && !config.dynamic_resources.ads) {
      errors->AddError("uses rds, which needs dynamic_resources.ads_config");
    }
    if (listener.http.route_table == nullptr) continue;
    // Find the path of the inline route_config for the messages below.
    const auto& chain = proto.static_resources().listeners(listener_index[i]).filter_chains(0);
    int filter = chain.filters_size() - 1;
    hcm::HttpConnectionManager hcm_proto;
    chain.filters(filter).typed_config().UnpackTo(&hcm_proto);
    Field path(errors, absl::StrCat("filter_chains[0].filters[", filter,
                                    "].typed_config.route_config"));
    const bool validate = hcm_proto.route_config().validate_clusters().value();
    for (const std::string& cluster : listener.http.route_table->ReferencedClusters()) {
      if (cluster_names.contains(cluster)) continue;
      if (validate) {
        errors->AddError(absl::StrCat("routes to cluster \"", cluster,
                                      "\", which is not defined (validate_clusters is true)"));
      } else if (!config.dynamic_resources.cds) {
        errors->AddWarning(absl::StrCat("routes to cluster \"", cluster,
                                        "\", which is not defined; such requests get 503"));
      }
    }
  }
}

void Translate(const bootstrap::Bootstrap& proto, const BootstrapOptions& options,
               BootstrapConfig* config, ValidationErrors* errors) {
  config->node.id = options.service_node.empty() ? proto.node().id() : options.service_node;
  config->node.cluster =
      options.service_cluster.empty() ? proto.node().cluster() : options.service_cluster;
  if (proto.has_admin() && proto.admin().has_address()) {
    Field admin(errors, "admin");
    config->admin_address = TranslateAdminAddress(proto.admin().address(), errors);
  }

  absl::flat_hash_map<std::string, int> cluster_index;
  absl::flat_hash_set<std::string> static_clusters;
  for (int i = 0; i < proto.static_resources().clusters_size(); ++i) {
    Field static_resources(errors, "static_resources");
    Field clusters(errors, "clusters");
    Field index(errors, ValidationErrors::Index(i));
    const auto& cluster_proto = proto.static_resources().clusters(i);
    auto [it, inserted] = cluster_index.emplace(cluster_proto.name(), i);
    if (!inserted) {
      Field name(errors, "name");
      errors->AddError(absl::StrCat("duplicate cluster name \"", cluster_proto.name(),
                                    "\" (also static_resources.clusters[", it->second, "])"));
      continue;
    }
    static_clusters.insert(cluster_proto.name());
    std::shared_ptr<const routing::Cluster> cluster = TranslateCluster(cluster_proto, errors);
    if (cluster != nullptr) config->clusters.push_back(std::move(cluster));
  }

  {
    Field dynamic(errors, "dynamic_resources");
    config->dynamic_resources =
        TranslateDynamicResources(proto.dynamic_resources(), static_clusters, errors);
  }
  for (int i = 0; i < proto.static_resources().clusters_size(); ++i) {
    const auto& cluster_proto = proto.static_resources().clusters(i);
    if (cluster_proto.type() == envoy::config::cluster::v3::Cluster::EDS &&
        !config->dynamic_resources.ads.has_value()) {
      Field path(errors, absl::StrCat("static_resources.clusters[", i, "].type"));
      errors->AddError("EDS clusters need dynamic_resources.ads_config");
    }
  }

  absl::flat_hash_map<std::string, int> listener_names;
  absl::flat_hash_map<std::string, int> listener_addresses;
  std::vector<int> listener_index;
  for (int i = 0; i < proto.static_resources().listeners_size(); ++i) {
    Field static_resources(errors, "static_resources");
    Field listeners(errors, "listeners");
    Field index(errors, ValidationErrors::Index(i));
    std::optional<ListenerConfig> listener =
        TranslateListener(proto.static_resources().listeners(i), errors);
    if (!listener.has_value()) continue;
    if (auto [it, inserted] = listener_names.emplace(listener->name, i); !inserted) {
      Field name(errors, "name");
      errors->AddError(absl::StrCat("duplicate listener name \"", listener->name,
                                    "\" (also static_resources.listeners[", it->second, "])"));
      continue;
    }
    if (listener->address.port != 0) {
      auto [it, inserted] = listener_addresses.emplace(listener->address.ToString(), i);
      if (!inserted) {
        Field address(errors, "address");
        errors->AddError(absl::StrCat("address ", listener->address.ToString(),
                                      " is already used by static_resources.listeners[",
                                      it->second, "]"));
        continue;
      }
    }
    config->listeners.push_back(*std::move(listener));
    listener_index.push_back(i);
  }
  if (errors->ok()) CheckStaticResources(proto, *config, listener_index, errors);
}

BootstrapResult FromTree(absl::StatusOr<ConfigNode> tree, const BootstrapOptions& options) {
  BootstrapResult result;
  if (!tree.ok()) {
    result.errors.emplace_back(tree.status().message());
    return result;
  }
  ValidationErrors errors;
  std::string json = TreeToProtoJson(*tree, *bootstrap::Bootstrap::descriptor(),
                                     {.allow_unknown_fields = options.allow_unknown_static_fields},
                                     &errors);
  bootstrap::Bootstrap proto;
  if (errors.ok()) {
    google::protobuf::util::JsonParseOptions parse_options;
    auto parsed = google::protobuf::util::JsonStringToMessage(json, &proto, parse_options);
    if (!parsed.ok()) {
      errors.AddError(absl::StrCat("protobuf could not read the config: ", parsed.ToString()));
    }
  }
  BootstrapConfig config;
  if (errors.ok()) Translate(proto, options, &config, &errors);
  if (errors.ok()) {
    google::protobuf::util::JsonPrintOptions print_options;
    print_options.preserve_proto_field_names = true;
    google::protobuf::util::MessageToJsonString(proto, &config.bootstrap_json, print_options);
    result.config = std::move(config);
  }
  result.errors = errors.errors();
  result.warnings = errors.warnings();
  return result;
}

}  // namespace

BootstrapResult LoadBootstrap(const std::string& path, const BootstrapOptions& options) {
  return FromTree(LoadConfigFile(path), options);
}

BootstrapResult ParseBootstrap(std::string_view text, bool json, const BootstrapOptions& options) {
  return FromTree(json ? ParseJson(text) : ParseYaml(text), options);
}

}  // namespace xds
