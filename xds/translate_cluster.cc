#include "xds/translate_cluster.h"

#include "absl/strings/str_cat.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "xds/translate_util.h"

namespace xds {
namespace {

namespace cluster = envoy::config::cluster::v3;
namespace core = envoy::config::core::v3;
namespace endpoint = envoy::config::endpoint::v3;
using UpstreamHttpProtocolOptions = envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
using routing::ValidationErrors;
using Field = routing::ValidationErrors::ScopedField;

constexpr char kHttpProtocolOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

routing::HealthStatus ToHealthStatus(core::HealthStatus status) {
  switch (status) {
    case core::HEALTHY: return routing::HealthStatus::kHealthy;
    case core::UNHEALTHY: return routing::HealthStatus::kUnhealthy;
    case core::DRAINING: return routing::HealthStatus::kDraining;
    case core::TIMEOUT: return routing::HealthStatus::kTimeout;
    case core::DEGRADED: return routing::HealthStatus::kDegraded;
    default: return routing::HealthStatus::kUnknown;
  }
}

void TranslateHttp2(const core::Http2ProtocolOptions& proto, routing::Http2ClientConfig* config) {
  if (proto.has_max_concurrent_streams()) {
    config->max_concurrent_streams = proto.max_concurrent_streams().value();
  }
  if (proto.has_initial_stream_window_size()) {
    config->initial_stream_window_size = proto.initial_stream_window_size().value();
  }
  if (proto.has_initial_connection_window_size()) {
    config->initial_connection_window_size = proto.initial_connection_window_size().value();
  }
  config->stream_error_on_invalid_http_messaging =
      proto.override_stream_error_on_invalid_http_message().value();
}

// common_http_protocol_options toward upstreams: weir honours idle_timeout and
// max_requests_per_connection; the downstream-only limits are refused rather than ignored.
void TranslateCommonHttp(const core::HttpProtocolOptions& proto, routing::ClusterConfig* config,
                         ValidationErrors* errors) {
  if (proto.has_idle_timeout()) {
    Field field(errors, "idle_timeout");
    config->idle_timeout = NonNegativeDuration(proto.idle_timeout(), errors);
  }
  // 0 means no limit, as in Envoy.
  if (proto.max_requests_per_connection().value() > 0) {
    config->max_requests_per_connection = proto.max_requests_per_connection().value();
  }
  if (proto.has_max_headers_count()) {
    Field field(errors, "max_headers_count");
    errors->AddError("is not supported by weir for upstream connections");
  }
  if (proto.has_max_connection_duration()) {
    Field field(errors, "max_connection_duration");
    errors->AddError("is not supported by weir for upstream connections");
  }
}

void TranslateProtocolOptions(const cluster::Cluster& proto, routing::ClusterConfig* config,
                              ValidationErrors* errors) {
  bool explicit_protocol = false;
  for (const auto& [key, any] : proto.typed_extension_protocol_options()) {
    Field field(errors, "typed_extension_protocol_options");
    Field entry(errors, ValidationErrors::Key(key));
    if (key != kHttpProtocolOptionsKey) {
      errors->AddError(absl::StrCat("protocol options extension \"", key,
                                    "\" is not supported by weir"));
      continue;
    }
    UpstreamHttpProtocolOptions options;
    if (!any.UnpackTo(&options)) {
      errors->AddError(absl::StrCat("expected @type type.googleapis.com/", kHttpProtocolOptionsKey,
                                    ", got ", any.type_url()));
      continue;
    }
    if (options.has_common_http_protocol_options()) {
      Field common(errors, "common_http_protocol_options");
      TranslateCommonHttp(options.common_http_protocol_options(), config, errors);
    }
    if (!options.has_explicit_http_config()) {
      errors->AddError("explicit_http_config is required (weir does not implement "
                       "use_downstream_protocol_config or auto_config)");
      continue;
    }
    explicit_protocol = true;
    const auto& explicit_config = options.explicit_http_config();
    if (explicit_config.has_http2_protocol_options()) {
      config->protocol = routing::UpstreamProtocol::kHttp2;
      TranslateHttp2(explicit_config.http2_protocol_options(), &config->http2);
    } else if (explicit_config.has_http_protocol_options()) {
      config->protocol = routing::UpstreamProtocol::kHttp1;
    } else {
      Field field(errors, "explicit_http_config");
      errors->AddError("one of http_protocol_options or http2_protocol_options is required");
    }
  }
  // The pre-1.19 cluster-level fields, still common in published configs.
  if (proto.has_http2_protocol_options()) {
    if (explicit_protocol) {
      Field field(errors, "http2_protocol_options");
      errors->AddError(absl::StrCat("cannot be combined with typed_extension_protocol_options[\"",
                                    kHttpProtocolOptionsKey, "\"]"));
    }
    config->protocol = routing::UpstreamProtocol::kHttp2;
    TranslateHttp2(proto.http2_protocol_options(), &config->http2);
  }
  if (proto.has_common_http_protocol_options()) {
    Field field(errors, "common_http_protocol_options");
    TranslateCommonHttp(proto.common_http_protocol_options(), config, errors);
  }
  if (proto.max_requests_per_connection().value() > 0) {  // deprecated field; 0: no limit
    config->max_requests_per_connection = proto.max_requests_per_connection().value();
  }
}

}  // namespace

std::vector<routing::EndpointConfig> TranslateLoadAssignment(
    const endpoint::ClusterLoadAssignment& proto, bool require_ip, ValidationErrors* errors) {
  std::vector<routing::EndpointConfig> endpoints;
  for (int i = 0; i < proto.endpoints_size(); ++i) {
    Field locality_field(errors, "endpoints");
    Field locality_index(errors, ValidationErrors::Index(i));
    const endpoint::LocalityLbEndpoints& locality = proto.endpoints(i);
    if (locality.priority() != 0) {
      Field field(errors, "priority");
      errors->AddError(absl::StrCat("priority ", locality.priority(),
                                    " is not supported by weir (only priority 0)"));
      continue;
    }
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      Field lb_field(errors, "lb_endpoints");
      Field lb_index(errors, ValidationErrors::Index(j));
      const endpoint::LbEndpoint& lb = locality.lb_endpoints(j);
      if (!lb.has_endpoint()) {
        errors->AddError("endpoint is required");
        continue;
      }
      routing::EndpointConfig out;
      out.health_status = ToHealthStatus(lb.health_status());
      if (lb.has_load_balancing_weight()) {
        out.weight = lb.load_balancing_weight().value();
        if (out.weight == 0) {
          Field field(errors, "load_balancing_weight");
          errors->AddError("must be at least 1");
        }
      }
      Field endpoint_field(errors, "endpoint");
      out.hostname = lb.endpoint().hostname();
      Field address_field(errors, "address");
      if (!lb.endpoint().address().has_socket_address()) {
        errors->AddError("socket_address is required");
        continue;
      }
      Field socket_field(errors, "socket_address");
      const core::SocketAddress& socket = lb.endpoint().address().socket_address();
      out.address = socket.address();
      out.port = socket.port_value();
      if (socket.protocol() != core::SocketAddress::TCP) {
        Field field(errors, "protocol");
        errors->AddError("only TCP is supported");
      }
      if (out.address.empty()) {
        Field field(errors, "address");
        errors->AddError("must not be empty");
      } else if (require_ip && !IsIpLiteral(out.address)) {
        Field field(errors, "address");
        errors->AddError(absl::StrCat("\"", out.address,
                                      "\" is not an IP address (STATIC and EDS clusters need IP "
                                      "addresses; use STRICT_DNS for host names)"));
      }
      if (out.port == 0 || out.port > 65535) {
        Field field(errors, "port_value");
        errors->AddError(absl::StrCat("must be between 1 and 65535, got ", out.port));
      }
      endpoints.push_back(std::move(out));
    }
  }
  return endpoints;
}

std::shared_ptr<const routing::Cluster> TranslateCluster(const cluster::Cluster& proto,
                                                         ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  routing::ClusterConfig config;
  config.name = proto.name();
  if (config.name.empty()) {
    Field field(errors, "name");
    errors->AddError("must not be empty");
  }
  switch (proto.type()) {
    case cluster::Cluster::STATIC: config.type = routing::DiscoveryType::kStatic; break;
    case cluster::Cluster::STRICT_DNS: config.type = routing::DiscoveryType::kStrictDns; break;
    case cluster::Cluster::LOGICAL_DNS: config.type = routing::DiscoveryType::kLogicalDns; break;
    case cluster::Cluster::EDS: config.type = routing::DiscoveryType::kEds; break;
    default: {
      Field field(errors, "type");
      errors->AddError(absl::StrCat(cluster::Cluster::DiscoveryType_Name(proto.type()),
                                    " clusters are not supported by weir"));
    }
  }
  if (config.type == routing::DiscoveryType::kEds) {
    Field field(errors, "eds_cluster_config");
    if (!proto.has_eds_cluster_config()) {
      errors->AddError("is required for EDS clusters");
    } else {
      config.eds_service_name = proto.eds_cluster_config().service_name();
      if (proto.eds_cluster_config().eds_config().config_source_specifier_case() !=
          core::ConfigSource::kAds) {
        Field source(errors, "eds_config");
        errors->AddError("weir receives endpoints over ADS only; use eds_config: {ads: {}}");
      }
    }
  }
  if (proto.has_connect_timeout()) {
    Field field(errors, "connect_timeout");
    config.connect_timeout = ToDuration(proto.connect_timeout());
    if (config.connect_timeout <= absl::ZeroDuration()) {
      errors->AddError("must be greater than 0");
    }
  }
  if (proto.has_per_connection_buffer_limit_bytes()) {
    config.per_connection_buffer_limit_bytes = proto.per_connection_buffer_limit_bytes().value();
  }
  switch (proto.lb_policy()) {
    case cluster::Cluster::ROUND_ROBIN: config.lb_policy = routing::LbPolicy::kRoundRobin; break;
    case cluster::Cluster::LEAST_REQUEST:
      config.lb_policy = routing::LbPolicy::kLeastRequest;
      break;
    case cluster::Cluster::RANDOM: config.lb_policy = routing::LbPolicy::kRandom; break;
    default: {
      Field field(errors, "lb_policy");
      errors->AddError(absl::StrCat(cluster::Cluster::LbPolicy_Name(proto.lb_policy()),
                                    " is not supported by weir (ROUND_ROBIN, LEAST_REQUEST and "
                                    "RANDOM are)"));
    }
  }
  if (proto.least_request_lb_config().has_choice_count()) {
    config.least_request_choice_count = proto.least_request_lb_config().choice_count().value();
  }
  if (proto.common_lb_config().has_healthy_panic_threshold()) {
    config.healthy_panic_threshold = proto.common_lb_config().healthy_panic_threshold().value();
  }
  if (proto.has_dns_refresh_rate()) {
    Field field(errors, "dns_refresh_rate");
    config.dns_refresh_rate = ToDuration(proto.dns_refresh_rate());
    if (config.dns_refresh_rate <= absl::ZeroDuration()) errors->AddError("must be greater than 0");
  }
  switch (proto.dns_lookup_family()) {
    case cluster::Cluster::V4_ONLY: config.dns_lookup_family = routing::DnsLookupFamily::kV4Only; break;
    case cluster::Cluster::V6_ONLY: config.dns_lookup_family = routing::DnsLookupFamily::kV6Only; break;
    case cluster::Cluster::V4_PREFERRED:
      config.dns_lookup_family = routing::DnsLookupFamily::kV4Preferred;
      break;
    case cluster::Cluster::ALL: config.dns_lookup_family = routing::DnsLookupFamily::kAll; break;
    default: config.dns_lookup_family = routing::DnsLookupFamily::kAuto;
  }
  for (int i = 0; i < proto.circuit_breakers().thresholds_size(); ++i) {
    Field field(errors, "circuit_breakers");
    Field thresholds(errors, "thresholds");
    Field index(errors, ValidationErrors::Index(i));
    const cluster::CircuitBreakers::Thresholds& t = proto.circuit_breakers().thresholds(i);
    if (t.priority() != core::DEFAULT) {
      errors->AddWarning("thresholds for priority HIGH have no effect: weir routes every request "
                         "at DEFAULT priority");
      continue;
    }
    routing::CircuitBreakerConfig& cb = config.circuit_breakers;
    if (t.has_max_connections()) cb.max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) cb.max_pending_requests = t.max_pending_requests().value();
    if (t.has_max_requests()) cb.max_requests = t.max_requests().value();
    if (t.has_max_retries()) cb.max_retries = t.max_retries().value();
    // Parsed so /clusters reports them as Envoy does, but the data path has no limits yet: say so
    // rather than let an operator believe overload is shed.
    if (t.has_max_connections() || t.has_max_pending_requests() || t.has_max_requests() ||
        t.has_max_retries()) {
      errors->AddWarning(
          "not enforced by weir yet: no request is rejected or queued for "
          "overload (/clusters shows the values)");
    }
  }
  TranslateProtocolOptions(proto, &config, errors);
  if (proto.has_load_assignment()) {
    Field field(errors, "load_assignment");
    if (config.type == routing::DiscoveryType::kEds) {
      errors->AddWarning("ignored for EDS clusters: their endpoints come from EDS");
    } else {
      bool require_ip = config.type == routing::DiscoveryType::kStatic;
      config.endpoints = TranslateLoadAssignment(proto.load_assignment(), require_ip, errors);
    }
  }
  if (config.type == routing::DiscoveryType::kLogicalDns && config.endpoints.size() != 1) {
    Field field(errors, "load_assignment");
    errors->AddError(absl::StrCat("LOGICAL_DNS clusters need exactly one endpoint, got ",
                                  config.endpoints.size()));
  }
  if (errors->errors().size() != errors_before) return nullptr;
  return routing::Cluster::Create(config, errors);
}

}  // namespace xds
