#include "xds/support_policy.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_split.h"

namespace xds {
namespace {

// Field lists are space-separated proto field names.
struct MessagePolicy {
  absl::string_view message;
  absl::string_view supported;
  absl::string_view ignored;
  absl::string_view refused;
};

struct Entry {
  absl::flat_hash_set<absl::string_view> supported, ignored, refused;
};

// Fields of each message that weir honours. Everything else is kUnsupported.
const absl::flat_hash_map<absl::string_view, Entry>& Policies() {
  static const auto* policies = [] {
    static constexpr MessagePolicy kTable[] = {
        // Bootstrap.
        {"envoy.config.bootstrap.v3.Bootstrap", "node static_resources dynamic_resources admin", "",
         ""},
        {"envoy.config.bootstrap.v3.Bootstrap.StaticResources", "listeners clusters", "", ""},
        {"envoy.config.bootstrap.v3.Bootstrap.DynamicResources", "lds_config cds_config ads_config",
         "", ""},
        {"envoy.config.bootstrap.v3.Admin", "address", "access_log_path profile_path", ""},
        {"envoy.config.core.v3.Node", "id cluster metadata locality", "", ""},
        {"envoy.config.core.v3.Locality", "region zone sub_zone", "", ""},
        // Addresses and config sources.
        {"envoy.config.core.v3.Address", "socket_address", "", ""},
        {"envoy.config.core.v3.SocketAddress", "protocol address port_value ipv4_compat", "", ""},
        {"envoy.config.core.v3.ConfigSource", "ads initial_fetch_timeout resource_api_version", "",
         ""},
        {"envoy.config.core.v3.AggregatedConfigSource", "", "", ""},
        {"envoy.config.core.v3.ApiConfigSource",
         "api_type transport_api_version grpc_services set_node_on_first_message_only", "", ""},
        {"envoy.config.core.v3.GrpcService", "envoy_grpc google_grpc timeout initial_metadata", "",
         ""},
        {"envoy.config.core.v3.GrpcService.EnvoyGrpc", "cluster_name authority", "", ""},
        {"envoy.config.core.v3.GrpcService.GoogleGrpc", "target_uri stat_prefix", "", ""},
        {"envoy.config.core.v3.HeaderValue", "key value", "", ""},
        {"envoy.config.core.v3.Metadata", "filter_metadata", "", ""},
        {"envoy.config.core.v3.DataSource",
         "filename inline_bytes inline_string environment_variable", "", ""},
        {"envoy.type.v3.Percent", "value", "", ""},
        {"envoy.type.v3.Int64Range", "start end", "", ""},
        // Listener and its HTTP connection manager.
        {"envoy.config.listener.v3.Listener",
         "name address filter_chains per_connection_buffer_limit_bytes metadata drain_type "
         "traffic_direction stat_prefix enable_reuse_port tcp_backlog_size",
         "", ""},
        // A filter_chain_match narrows which connections a chain serves and a transport_socket
        // is TLS: serving without either would accept traffic the config meant to refuse.
        {"envoy.config.listener.v3.FilterChain", "filters name metadata", "",
         "filter_chain_match transport_socket"},
        {"envoy.config.listener.v3.Filter", "name typed_config", "", ""},
        {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
         "codec_type stat_prefix rds route_config http_filters server_name drain_timeout "
         "use_remote_address generate_request_id xff_num_trusted_hops skip_xff_append "
         "stream_idle_timeout request_timeout max_request_headers_kb "
         "preserve_external_request_id common_http_protocol_options http2_protocol_options "
         "request_headers_timeout strip_any_host_port stream_error_on_invalid_http_message",
         "", ""},
        {"envoy.extensions.filters.network.http_connection_manager.v3.Rds",
         "config_source route_config_name", "", ""},
        {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
         "name typed_config is_optional disabled", "", ""},
        {"envoy.extensions.filters.http.router.v3.Router", "dynamic_stats suppress_envoy_headers",
         "", ""},
        {"envoy.extensions.filters.http.health_check.v3.HealthCheck", "pass_through_mode headers",
         "", ""},
        {"envoy.config.core.v3.HttpProtocolOptions",
         "idle_timeout max_headers_count max_connection_duration max_requests_per_connection", "",
         ""},
        {"envoy.config.core.v3.Http1ProtocolOptions", "", "", ""},
        {"envoy.config.core.v3.Http2ProtocolOptions",
         "hpack_table_size max_concurrent_streams initial_stream_window_size "
         "initial_connection_window_size max_outbound_frames max_outbound_control_frames "
         "max_consecutive_inbound_frames_with_empty_payload max_inbound_priority_frames_per_stream "
         "max_inbound_window_update_frames_per_data_frame_sent connection_keepalive "
         "override_stream_error_on_invalid_http_message",
         "", ""},
        {"envoy.config.core.v3.KeepaliveSettings", "interval timeout", "", ""},
        // Routes. Match criteria weir does not evaluate are refused: dropping one would make the
        // route match more requests than the config says.
        {"envoy.config.route.v3.RouteConfiguration",
         "name virtual_hosts validate_clusters max_direct_response_body_size_bytes "
         "ignore_port_in_host_matching metadata",
         "", ""},
        {"envoy.config.route.v3.VirtualHost", "name domains routes metadata", "", "require_tls"},
        {"envoy.config.route.v3.Route", "match route redirect direct_response name metadata", "",
         "filter_action non_forwarding_action"},
        {"envoy.config.route.v3.RouteMatch",
         "prefix path safe_regex path_separated_prefix case_sensitive headers query_parameters "
         "grpc",
         "",
         "runtime_fraction tls_context connect_matcher dynamic_metadata path_match_policy "
         "filter_state cookies"},
        {"envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions", "", "", ""},
        {"envoy.config.route.v3.HeaderMatcher",
         "name exact_match range_match present_match invert_match prefix_match suffix_match "
         "safe_regex_match contains_match string_match treat_missing_header_as_empty",
         "", ""},
        {"envoy.config.route.v3.QueryParameterMatcher", "name string_match present_match", "", ""},
        {"envoy.type.matcher.v3.StringMatcher",
         "exact prefix suffix safe_regex ignore_case contains", "", "custom"},
        {"envoy.type.matcher.v3.RegexMatcher", "google_re2 regex", "", ""},
        {"envoy.type.matcher.v3.RegexMatcher.GoogleRE2", "", "max_program_size", ""},
        {"envoy.type.matcher.v3.RegexMatchAndSubstitute", "pattern substitution", "", ""},
        // metadata_match restricts the endpoints a route may use (subset load balancing).
        {"envoy.config.route.v3.RouteAction",
         "cluster cluster_header weighted_clusters prefix_rewrite regex_rewrite "
         "host_rewrite_literal auto_host_rewrite timeout idle_timeout "
         "cluster_not_found_response_code max_stream_duration",
         "", "metadata_match"},
        {"envoy.config.route.v3.RouteAction.MaxStreamDuration", "grpc_timeout_header_max", "", ""},
        {"envoy.config.route.v3.WeightedCluster", "clusters total_weight header_name", "", ""},
        {"envoy.config.route.v3.WeightedCluster.ClusterWeight", "name weight host_rewrite_literal",
         "", "metadata_match"},
        {"envoy.config.route.v3.DirectResponseAction", "status body", "", ""},
        {"envoy.config.route.v3.RedirectAction",
         "host_redirect path_redirect response_code https_redirect prefix_rewrite strip_query "
         "scheme_redirect port_redirect regex_rewrite",
         "", ""},
        // Clusters and endpoints. An upstream transport_socket is TLS toward the upstream.
        {"envoy.config.cluster.v3.Cluster",
         "name type eds_cluster_config connect_timeout per_connection_buffer_limit_bytes "
         "lb_policy max_requests_per_connection circuit_breakers http_protocol_options "
         "http2_protocol_options dns_refresh_rate dns_lookup_family metadata common_lb_config "
         "common_http_protocol_options load_assignment typed_extension_protocol_options "
         "least_request_lb_config",
         "", "transport_socket"},
        {"envoy.config.cluster.v3.Cluster.EdsClusterConfig", "eds_config service_name", "", ""},
        {"envoy.config.cluster.v3.Cluster.LeastRequestLbConfig", "choice_count", "", ""},
        {"envoy.config.cluster.v3.Cluster.CommonLbConfig", "healthy_panic_threshold", "", ""},
        // Thresholds are read for /clusters; the data path does not enforce them yet, and
        // translate_cluster.cc warns about that.
        {"envoy.config.cluster.v3.CircuitBreakers", "thresholds", "", ""},
        {"envoy.config.cluster.v3.CircuitBreakers.Thresholds",
         "priority max_connections max_pending_requests max_requests max_retries", "", ""},
        {"envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name endpoints", "", ""},
        {"envoy.config.endpoint.v3.LocalityLbEndpoints",
         "locality lb_endpoints load_balancing_weight priority metadata", "", ""},
        {"envoy.config.endpoint.v3.LbEndpoint",
         "endpoint health_status load_balancing_weight metadata", "", ""},
        {"envoy.config.endpoint.v3.Endpoint", "address hostname", "", ""},
        {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
         "explicit_http_config common_http_protocol_options", "", ""},
        {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig",
         "http_protocol_options http2_protocol_options", "", ""},
    };
    auto* map = new absl::flat_hash_map<absl::string_view, Entry>();
    for (const MessagePolicy& policy : kTable) {
      Entry& entry = (*map)[policy.message];
      for (absl::string_view field : absl::StrSplit(policy.supported, ' ', absl::SkipEmpty())) {
        entry.supported.insert(field);
      }
      for (absl::string_view field : absl::StrSplit(policy.ignored, ' ', absl::SkipEmpty())) {
        entry.ignored.insert(field);
      }
      for (absl::string_view field : absl::StrSplit(policy.refused, ' ', absl::SkipEmpty())) {
        entry.refused.insert(field);
      }
    }
    return map;
  }();
  return *policies;
}

}  // namespace

FieldSupport GetFieldSupport(absl::string_view message, absl::string_view field) {
  auto it = Policies().find(message);
  if (it == Policies().end()) return FieldSupport::kUnsupported;
  const Entry& entry = it->second;
  if (entry.supported.contains(field)) return FieldSupport::kSupported;
  if (entry.ignored.contains(field)) return FieldSupport::kIgnored;
  if (entry.refused.contains(field)) return FieldSupport::kRefused;
  return FieldSupport::kUnsupported;
}

}  // namespace xds
