#include "xds/translate_listener.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "envoy/extensions/filters/http/health_check/v3/health_check.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "xds/translate_route.h"
#include "xds/translate_util.h"

namespace xds {
namespace {

namespace core = envoy::config::core::v3;
namespace listener = envoy::config::listener::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using HealthCheckProto = envoy::extensions::filters::http::health_check::v3::HealthCheck;
using RouterProto = envoy::extensions::filters::http::router::v3::Router;
using routing::ValidationErrors;
using Field = routing::ValidationErrors::ScopedField;

constexpr char kRouterName[] = "envoy.filters.http.router";
constexpr char kHealthCheckName[] = "envoy.filters.http.health_check";
constexpr char kHcmName[] = "envoy.filters.network.http_connection_manager";

// Reads an HTTP filter's typed_config, or, for the pre-1.22 style without one, infers the type
// from a well-known filter name. Returns the type's full name, or "" when it cannot be run.
std::string HttpFilterType(const hcm::HttpFilter& filter, ValidationErrors* errors) {
  if (filter.has_typed_config()) {
    absl::string_view url = filter.typed_config().type_url();
    return std::string(url.substr(url.rfind('/') + 1));
  }
  if (filter.name() == kRouterName || filter.name() == "envoy.router") {
    errors->AddWarning(absl::StrCat("http filter \"", filter.name(),
                                    "\" without typed_config is deprecated (Envoy < 1.22 style); "
                                    "using the router with default settings"));
    return RouterProto::descriptor()->full_name();
  }
  if (filter.is_optional()) return "";  // an optional filter weir lacks: warned by the reader
  errors->AddError(absl::StrCat("http filter \"", filter.name(), "\" is not supported by weir"));
  return "";
}

void TranslateHttpFilters(const hcm::HttpConnectionManager& proto,
                          HttpConnectionManagerConfig* config, ValidationErrors* errors) {
  Field field(errors, "http_filters");
  bool router_seen = false;
  for (int i = 0; i < proto.http_filters_size(); ++i) {
    Field index(errors, ValidationErrors::Index(i));
    const hcm::HttpFilter& filter = proto.http_filters(i);
    std::string type = HttpFilterType(filter, errors);
    if (type.empty()) continue;
    if (router_seen) {
      errors->AddError(absl::StrCat("http filter \"", filter.name(),
                                    "\" comes after the router, which must be the last filter"));
      continue;
    }
    if (type == RouterProto::descriptor()->full_name()) {
      if (filter.disabled()) {
        errors->AddError("the router filter cannot be disabled");
        continue;
      }
      router_seen = true;
      RouterProto router;
      if (filter.has_typed_config()) filter.typed_config().UnpackTo(&router);
      if (router.has_dynamic_stats()) config->router_dynamic_stats = router.dynamic_stats().value();
      config->suppress_envoy_headers = router.suppress_envoy_headers();
    } else if (type == HealthCheckProto::descriptor()->full_name()) {
      if (filter.disabled()) {
        errors->AddWarning("disabled http filter has no effect (weir has no per-route filter "
                           "config to enable it)");
        continue;
      }
      if (config->health_check.has_value()) {
        errors->AddError(absl::StrCat("only one ", kHealthCheckName, " filter is supported"));
        continue;
      }
      HealthCheckProto health;
      filter.typed_config().UnpackTo(&health);
      Field typed(errors, "typed_config");
      if (!health.has_pass_through_mode()) {
        Field mode(errors, "pass_through_mode");
        errors->AddError("is required");
      }
      HealthCheckFilterConfig& out = config->health_check.emplace();
      out.pass_through_mode = health.pass_through_mode().value();
      for (int j = 0; j < health.headers_size(); ++j) {
        Field headers(errors, "headers");
        Field header_index(errors, ValidationErrors::Index(j));
        out.headers.push_back(TranslateHeaderMatcher(health.headers(j), errors));
      }
    } else {
      errors->AddError(absl::StrCat("extension \"", filter.name(), "\" (type ", type,
                                    ") is not an HTTP filter weir supports"));
    }
  }
  if (!router_seen) {
    errors->AddError(absl::StrCat("the router filter (", kRouterName,
                                  ") is required as the last http filter"));
  }
}

void TranslateHttp2Server(const core::Http2ProtocolOptions& proto, Http2ServerConfig* config,
                          ValidationErrors* errors) {
  auto in_range = [&](std::string_view name, uint32_t value, uint32_t min, uint32_t max) {
    if (value < min || value > max) {
      Field field(errors, name);
      errors->AddError(absl::StrCat("must be between ", min, " and ", max, ", got ", value));
    }
    return value;
  };
  if (proto.has_max_concurrent_streams()) {
    config->max_concurrent_streams = in_range(
        "max_concurrent_streams", proto.max_concurrent_streams().value(), 1, 2147483647);
  }
  if (proto.has_initial_stream_window_size()) {
    config->initial_stream_window_size =
        in_range("initial_stream_window_size", proto.initial_stream_window_size().value(), 65535,
                 2147483647);
  }
  if (proto.has_initial_connection_window_size()) {
    config->initial_connection_window_size =
        in_range("initial_connection_window_size", proto.initial_connection_window_size().value(),
                 65535, 2147483647);
  }
  if (proto.has_hpack_table_size()) config->hpack_table_size = proto.hpack_table_size().value();
  if (proto.has_max_outbound_frames()) {
    config->max_outbound_frames =
        in_range("max_outbound_frames", proto.max_outbound_frames().value(), 1, 4294967295u);
  }
  if (proto.has_max_outbound_control_frames()) {
    config->max_outbound_control_frames = in_range(
        "max_outbound_control_frames", proto.max_outbound_control_frames().value(), 1, 4294967295u);
  }
  // The inbound flood limits (http2/protocol_constraints.h), with Envoy's ranges.
  if (proto.has_max_consecutive_inbound_frames_with_empty_payload()) {
    config->max_consecutive_inbound_frames_with_empty_payload =
        proto.max_consecutive_inbound_frames_with_empty_payload().value();
  }
  if (proto.has_max_inbound_priority_frames_per_stream()) {
    config->max_inbound_priority_frames_per_stream =
        proto.max_inbound_priority_frames_per_stream().value();
  }
  if (proto.has_override_stream_error_on_invalid_http_message()) {
    config->stream_error_on_invalid_http_messaging =
        proto.override_stream_error_on_invalid_http_message().value();
  }
  if (proto.has_max_inbound_window_update_frames_per_data_frame_sent()) {
    config->max_inbound_window_update_frames_per_data_frame_sent = in_range(
        "max_inbound_window_update_frames_per_data_frame_sent",
        proto.max_inbound_window_update_frames_per_data_frame_sent().value(), 1, 4294967295u);
  }
}

std::optional<HttpConnectionManagerConfig> TranslateHcm(const hcm::HttpConnectionManager& proto,
                                                        ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  HttpConnectionManagerConfig config;
  config.stat_prefix = proto.stat_prefix();
  if (config.stat_prefix.empty()) {
    Field field(errors, "stat_prefix");
    errors->AddError("must not be empty");
  }
  switch (proto.codec_type()) {
    case hcm::HttpConnectionManager::AUTO: config.codec_type = CodecType::kAuto; break;
    case hcm::HttpConnectionManager::HTTP1: config.codec_type = CodecType::kHttp1; break;
    case hcm::HttpConnectionManager::HTTP2: config.codec_type = CodecType::kHttp2; break;
    default: {
      Field field(errors, "codec_type");
      errors->AddError(absl::StrCat(hcm::HttpConnectionManager::CodecType_Name(proto.codec_type()),
                                    " is not supported by weir (AUTO, HTTP1 and HTTP2 are)"));
    }
  }
  switch (proto.route_specifier_case()) {
    case hcm::HttpConnectionManager::kRouteConfig: {
      Field field(errors, "route_config");
      config.route_table = CompileRouteConfiguration(proto.route_config(), errors);
      break;
    }
    case hcm::HttpConnectionManager::kRds: {
      Field field(errors, "rds");
      config.rds_route_config_name = proto.rds().route_config_name();
      if (config.rds_route_config_name.empty()) {
        Field name(errors, "route_config_name");
        errors->AddError("must not be empty");
      }
      const core::ConfigSource& source = proto.rds().config_source();
      Field source_field(errors, "config_source");
      if (source.config_source_specifier_case() != core::ConfigSource::kAds) {
        errors->AddError("weir receives routes over ADS only; use config_source: {ads: {}}");
      }
      if (source.has_initial_fetch_timeout()) {
        Field timeout(errors, "initial_fetch_timeout");
        config.rds_initial_fetch_timeout = NonNegativeDuration(source.initial_fetch_timeout(), errors);
      }
      break;
    }
    default:
      errors->AddError("one of route_config or rds is required");
  }
  TranslateHttpFilters(proto, &config, errors);
  if (!proto.server_name().empty()) config.server_name = proto.server_name();
  config.use_remote_address = proto.use_remote_address().value();
  config.xff_num_trusted_hops = proto.xff_num_trusted_hops();
  config.skip_xff_append = proto.skip_xff_append();
  if (proto.has_generate_request_id()) {
    config.generate_request_id = proto.generate_request_id().value();
  }
  config.preserve_external_request_id = proto.preserve_external_request_id();
  config.strip_any_host_port = proto.strip_any_host_port();
  auto duration = [&](std::string_view name, const google::protobuf::Duration& d) {
    Field field(errors, name);
    return NonNegativeDuration(d, errors);
  };
  if (proto.has_stream_idle_timeout()) {
    config.stream_idle_timeout = duration("stream_idle_timeout", proto.stream_idle_timeout());
  }
  if (proto.has_request_timeout()) {
    config.request_timeout = duration("request_timeout", proto.request_timeout());
  }
  if (proto.has_request_headers_timeout()) {
    config.request_headers_timeout =
        duration("request_headers_timeout", proto.request_headers_timeout());
  }
  if (proto.has_drain_timeout()) {
    config.drain_timeout = duration("drain_timeout", proto.drain_timeout());
  }
  if (proto.has_max_request_headers_kb()) {
    config.max_request_headers_kb = proto.max_request_headers_kb().value();
    if (config.max_request_headers_kb == 0 || config.max_request_headers_kb > 8192) {
      Field field(errors, "max_request_headers_kb");
      errors->AddError(absl::StrCat("must be between 1 and 8192, got ",
                                    config.max_request_headers_kb));
    }
  }
  if (proto.has_common_http_protocol_options()) {
    Field field(errors, "common_http_protocol_options");
    const core::HttpProtocolOptions& common = proto.common_http_protocol_options();
    if (common.has_idle_timeout()) config.idle_timeout = duration("idle_timeout", common.idle_timeout());
    if (common.has_max_connection_duration()) {
      config.max_connection_duration =
          duration("max_connection_duration", common.max_connection_duration());
    }
    if (common.has_max_headers_count()) {
      config.max_headers_count = common.max_headers_count().value();
      if (config.max_headers_count == 0) {
        Field count(errors, "max_headers_count");
        errors->AddError("must be at least 1");
      }
    }
    if (common.max_requests_per_connection().value() > 0) {  // 0 means no limit, as in Envoy
      config.max_requests_per_connection = common.max_requests_per_connection().value();
    }
  }
  // Envoy's precedence: the codec's override, else the HCM's setting, else false.
  config.stream_error_on_invalid_http_message =
      proto.stream_error_on_invalid_http_message().value();
  config.http2.stream_error_on_invalid_http_messaging = config.stream_error_on_invalid_http_message;
  if (proto.has_http2_protocol_options()) {
    Field field(errors, "http2_protocol_options");
    TranslateHttp2Server(proto.http2_protocol_options(), &config.http2, errors);
  }
  if (errors->errors().size() != errors_before) return std::nullopt;
  return config;
}

}  // namespace

std::optional<ListenerConfig> TranslateListener(const listener::Listener& proto,
                                                ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  ListenerConfig config;
  config.name = proto.name();
  {
    Field address_field(errors, "address");
    if (!proto.address().has_socket_address()) {
      errors->AddError("socket_address is required");
    } else {
      Field socket_field(errors, "socket_address");
      const core::SocketAddress& socket = proto.address().socket_address();
      config.address.address = socket.address();
      config.address.port = socket.port_value();
      if (socket.protocol() != core::SocketAddress::TCP) {
        Field field(errors, "protocol");
        errors->AddError("only TCP listeners are supported");
      }
      if (!IsIpLiteral(socket.address())) {
        Field field(errors, "address");
        errors->AddError(absl::StrCat("\"", socket.address(),
                                      "\" is not an IP address (listeners bind to IP addresses)"));
      }
      if (socket.port_value() > 65535) {
        Field field(errors, "port_value");
        errors->AddError(absl::StrCat("must be at most 65535, got ", socket.port_value()));
      }
    }
  }
  if (config.name.empty()) {
    config.name = absl::StrReplaceAll(config.address.ToString(), {{":", "_"}});
  }
  config.stat_prefix = proto.stat_prefix();
  if (proto.has_per_connection_buffer_limit_bytes()) {
    config.per_connection_buffer_limit_bytes = proto.per_connection_buffer_limit_bytes().value();
  }
  config.drain_type = proto.drain_type() == listener::Listener::MODIFY_ONLY
                          ? ListenerConfig::DrainType::kModifyOnly
                          : ListenerConfig::DrainType::kDefault;
  switch (proto.traffic_direction()) {
    case core::INBOUND: config.traffic_direction = ListenerConfig::TrafficDirection::kInbound; break;
    case core::OUTBOUND:
      config.traffic_direction = ListenerConfig::TrafficDirection::kOutbound;
      break;
    default: config.traffic_direction = ListenerConfig::TrafficDirection::kUnspecified;
  }
  if (proto.has_tcp_backlog_size()) config.tcp_backlog_size = proto.tcp_backlog_size().value();

  Field chains(errors, "filter_chains");
  if (proto.filter_chains_size() != 1) {
    errors->AddError(absl::StrCat("weir supports exactly one filter chain per listener, got ",
                                  proto.filter_chains_size()));
    return std::nullopt;
  }
  Field chain_index(errors, ValidationErrors::Index(0));
  const listener::FilterChain& chain = proto.filter_chains(0);
  Field filters(errors, "filters");
  std::optional<HttpConnectionManagerConfig> http;
  for (int i = 0; i < chain.filters_size(); ++i) {
    Field index(errors, ValidationErrors::Index(i));
    const listener::Filter& filter = chain.filters(i);
    hcm::HttpConnectionManager hcm_proto;
    if (!filter.has_typed_config() || !filter.typed_config().UnpackTo(&hcm_proto)) {
      if (filter.has_typed_config() || filter.name() != kHcmName) {
        errors->AddError(absl::StrCat("network filter \"", filter.name(),
                                      "\" is not supported by weir (only ", kHcmName, ")"));
      } else {
        errors->AddError(absl::StrCat(kHcmName, " needs a typed_config"));
      }
      continue;
    }
    if (i != chain.filters_size() - 1) {
      errors->AddError(absl::StrCat(kHcmName, " must be the last network filter"));
    }
    Field typed(errors, "typed_config");
    http = TranslateHcm(hcm_proto, errors);
  }
  if (chain.filters_size() == 0) {
    errors->AddError(absl::StrCat("needs the ", kHcmName, " network filter"));
  }
  if (errors->errors().size() != errors_before || !http.has_value()) return std::nullopt;
  config.http = *std::move(http);
  return config;
}

}  // namespace xds
