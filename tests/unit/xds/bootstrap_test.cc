// Bootstrap loading: what a valid config becomes, and the exact error (with its field path) for
// each kind of invalid config.

#include "xds/bootstrap.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "xds/config_snapshot.h"

namespace xds {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

BootstrapResult Load(const std::string& yaml, bool allow_unknown = false) {
  return ParseBootstrap(yaml, /*json=*/false, {.allow_unknown_static_fields = allow_unknown});
}

// A listener on 127.0.0.1:8080 whose inline route_config has `virtual_hosts` (YAML flow style),
// plus `clusters` (flow style list items) and optional extra HCM fields.
std::string Config(const std::string& virtual_hosts, const std::string& clusters = "",
                   const std::string& hcm_extra = "", const std::string& http_filters = "") {
  std::string filters =
      http_filters.empty()
          ? "[{name: envoy.filters.http.router, typed_config: {\"@type\": "
            "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]"
          : http_filters;
  return absl::StrCat(R"(
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            name: local
            virtual_hosts: )",
                      virtual_hosts, R"(
          http_filters: )",
                      filters, "\n", hcm_extra.empty() ? "" : absl::StrCat("          ", hcm_extra, "\n"),
                      "  clusters: [", clusters, "]\n");
}

constexpr char kOneRoute[] =
    "[{name: vh, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: a}}]}]";
constexpr char kClusterA[] =
    "{name: a, load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: "
    "{socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}}";

constexpr char kRoutePath[] =
    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config";

TEST(BootstrapTest, TranslatesAValidConfig) {
  BootstrapResult result = Load(Config(
      R"([{name: vh, domains: ['*'], routes: [{match: {prefix: /api}, route: {weighted_clusters: {clusters: [{name: a, weight: 90}, {name: b, weight: 10}], header_name: X-Pin}, timeout: 2s}}, {match: {path: /health}, direct_response: {status: 200, body: {inline_string: ok}}}]}])",
      absl::StrCat(kClusterA,
                   ", {name: b, type: STRICT_DNS, connect_timeout: 0.25s, lb_policy: "
                   "LEAST_REQUEST, load_assignment: {endpoints: [{lb_endpoints: [{endpoint: "
                   "{address: {socket_address: {address: b.local, port_value: 9000}}}, "
                   "load_balancing_weight: 3}]}]}, typed_extension_protocol_options: "
                   "{envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {\"@type\": "
                   "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
                   "explicit_http_config: {http2_protocol_options: {max_concurrent_streams: "
                   "50}}}}}"),
      "use_remote_address: true"));
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  EXPECT_TRUE(result.warnings.empty()) << absl::StrJoin(result.warnings, "\n");
  const BootstrapConfig& config = *result.config;

  ASSERT_EQ(config.listeners.size(), 1u);
  const ListenerConfig& listener = config.listeners[0];
  EXPECT_EQ(listener.name, "main");
  EXPECT_EQ(listener.address.ToString(), "127.0.0.1:8080");
  EXPECT_EQ(listener.StatPrefix(), "127.0.0.1_8080");
  EXPECT_EQ(listener.http.stat_prefix, "ingress");
  EXPECT_TRUE(listener.http.use_remote_address);
  EXPECT_EQ(listener.http.codec_type, CodecType::kAuto);
  ASSERT_NE(listener.http.route_table, nullptr);
  EXPECT_EQ(listener.http.route_table->name(), "local");
  EXPECT_THAT(listener.http.route_table->ReferencedClusters(), ElementsAre("a", "b"));

  const routing::RouteConfig& route = listener.http.route_table->virtual_hosts()[0].routes()[0].config();
  const auto& action = std::get<routing::RouteActionConfig>(route.action);
  EXPECT_EQ(action.timeout, absl::Seconds(2));
  EXPECT_EQ(action.weighted_clusters.header_name, "x-pin");  // header names are lower-cased
  ASSERT_EQ(action.weighted_clusters.clusters.size(), 2u);
  EXPECT_EQ(action.weighted_clusters.clusters[1].weight, 10u);

  ASSERT_EQ(config.clusters.size(), 2u);
  const routing::ClusterConfig& a = config.clusters[0]->config();
  EXPECT_EQ(a.type, routing::DiscoveryType::kStatic);
  EXPECT_EQ(a.connect_timeout, absl::Seconds(5));  // Envoy's default
  EXPECT_EQ(a.protocol, routing::UpstreamProtocol::kHttp1);
  const routing::ClusterConfig& b = config.clusters[1]->config();
  EXPECT_EQ(b.type, routing::DiscoveryType::kStrictDns);
  EXPECT_EQ(b.connect_timeout, absl::Milliseconds(250));
  EXPECT_EQ(b.lb_policy, routing::LbPolicy::kLeastRequest);
  EXPECT_EQ(b.protocol, routing::UpstreamProtocol::kHttp2);
  EXPECT_EQ(b.http2.max_concurrent_streams, 50u);
  ASSERT_EQ(b.endpoints.size(), 1u);
  EXPECT_EQ(b.endpoints[0].address, "b.local");
  EXPECT_EQ(b.endpoints[0].port, 9000u);
  EXPECT_EQ(b.endpoints[0].weight, 3u);

  std::shared_ptr<const ConfigSnapshot> snapshot = ConfigSnapshot::FromBootstrap(config);
  EXPECT_EQ(snapshot->version(), "static");
  ASSERT_NE(snapshot->FindCluster("b"), nullptr);
  EXPECT_EQ(snapshot->FindCluster("b")->config().name, "b");
  EXPECT_EQ(snapshot->FindCluster("missing"), nullptr);
}

TEST(BootstrapTest, Http2ProtocolOptionsForClients) {
  BootstrapResult result = Load(Config(
      kOneRoute, kClusterA,
      "http2_protocol_options: {max_concurrent_streams: 50, initial_stream_window_size: 131072, "
      "hpack_table_size: 0, max_outbound_frames: 500, max_outbound_control_frames: 50, "
      "max_consecutive_inbound_frames_with_empty_payload: 3, "
      "max_inbound_priority_frames_per_stream: 20, "
      "max_inbound_window_update_frames_per_data_frame_sent: 4}"));
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  const Http2ServerConfig& http2 = result.config->listeners[0].http.http2;
  EXPECT_EQ(http2.max_concurrent_streams, 50u);
  EXPECT_EQ(http2.initial_stream_window_size, 131072u);
  EXPECT_EQ(http2.initial_connection_window_size, 1048576u);  // weir's default
  EXPECT_EQ(http2.hpack_table_size, 0u);
  EXPECT_EQ(http2.max_outbound_frames, 500u);
  EXPECT_EQ(http2.max_outbound_control_frames, 50u);
  EXPECT_EQ(http2.max_consecutive_inbound_frames_with_empty_payload, 3u);
  EXPECT_EQ(http2.max_inbound_priority_frames_per_stream, 20u);
  EXPECT_EQ(http2.max_inbound_window_update_frames_per_data_frame_sent, 4u);

  // Envoy's defaults when unset.
  BootstrapResult defaults = Load(Config(kOneRoute, kClusterA));
  ASSERT_TRUE(defaults.errors.empty()) << absl::StrJoin(defaults.errors, "\n");
  const Http2ServerConfig& unset = defaults.config->listeners[0].http.http2;
  EXPECT_EQ(unset.max_consecutive_inbound_frames_with_empty_payload, 1u);
  EXPECT_EQ(unset.max_inbound_priority_frames_per_stream, 100u);
  EXPECT_EQ(unset.max_inbound_window_update_frames_per_data_frame_sent, 10u);
}

TEST(BootstrapTest, StreamErrorOnInvalidHttpMessageFollowsEnvoysPrecedence) {
  // HCM setting, HTTP/2 override (absent: ""): the HTTP/1.1 and HTTP/2 results. The codec's
  // override wins over the HCM's setting, which applies to both codecs; the default is false.
  struct Case {
    std::string hcm;
    std::string http2;
    bool http1_result;
    bool http2_result;
  };
  const Case cases[] = {
      {"", "", false, false},
      {"stream_error_on_invalid_http_message: true", "", true, true},
      {"stream_error_on_invalid_http_message: true",
       "http2_protocol_options: {override_stream_error_on_invalid_http_message: false}", true,
       false},
      {"", "http2_protocol_options: {override_stream_error_on_invalid_http_message: true}", false,
       true},
      {"stream_error_on_invalid_http_message: false",
       "http2_protocol_options: {override_stream_error_on_invalid_http_message: true}", false,
       true},
  };
  for (const Case& c : cases) {
    // Config() indents the first line of its HCM fields; the second one needs its own.
    const std::string hcm = c.hcm.empty() || c.http2.empty()
                                ? c.hcm + c.http2
                                : absl::StrCat(c.hcm, "\n          ", c.http2);
    BootstrapResult result = Load(Config(kOneRoute, kClusterA, hcm));
    ASSERT_TRUE(result.errors.empty()) << hcm << ": " << absl::StrJoin(result.errors, "\n");
    const HttpConnectionManagerConfig& http = result.config->listeners[0].http;
    EXPECT_EQ(http.stream_error_on_invalid_http_message, c.http1_result) << hcm;
    EXPECT_EQ(http.http2.stream_error_on_invalid_http_messaging, c.http2_result) << hcm;
  }

  // Toward an HTTP/2 upstream: the cluster's own override, false unless set.
  const std::string cluster =
      "{name: a, load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: "
      "{socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}, "
      "http2_protocol_options: {override_stream_error_on_invalid_http_message: true}}";
  BootstrapResult upstream = Load(Config(kOneRoute, cluster));
  ASSERT_TRUE(upstream.errors.empty()) << absl::StrJoin(upstream.errors, "\n");
  EXPECT_TRUE(upstream.config->clusters[0]->config().http2.stream_error_on_invalid_http_messaging);
  BootstrapResult plain = Load(Config(kOneRoute, kClusterA));
  EXPECT_FALSE(plain.config->clusters[0]->config().http2.stream_error_on_invalid_http_messaging);
}

TEST(BootstrapTest, MaxRequestsPerConnectionOfZeroMeansNoLimit) {
  // For the connection manager, the cluster's protocol options and the cluster's deprecated
  // field alike (Envoy treats 0 as unset).
  auto load = [](uint32_t hcm, uint32_t options, uint32_t deprecated) {
    const std::string cluster = absl::StrCat(
        "{name: a, max_requests_per_connection: ", deprecated,
        ", load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: "
        "{address: 10.0.0.1, port_value: 80}}}}]}]}, typed_extension_protocol_options: "
        "{envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {\"@type\": "
        "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
        "common_http_protocol_options: {max_requests_per_connection: ",
        options, "}, explicit_http_config: {http_protocol_options: {}}}}}");
    BootstrapResult result = Load(Config(
        kOneRoute, cluster,
        absl::StrCat("common_http_protocol_options: {max_requests_per_connection: ", hcm, "}")));
    EXPECT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
    return result;
  };
  BootstrapResult unset = load(0, 0, 0);
  ASSERT_TRUE(unset.config.has_value());
  EXPECT_EQ(unset.config->listeners[0].http.max_requests_per_connection, std::nullopt);
  EXPECT_EQ(unset.config->clusters[0]->config().max_requests_per_connection, std::nullopt);

  BootstrapResult set = load(7, 3, 0);
  ASSERT_TRUE(set.config.has_value());
  EXPECT_EQ(set.config->listeners[0].http.max_requests_per_connection, 7u);
  EXPECT_EQ(set.config->clusters[0]->config().max_requests_per_connection, 3u);
  BootstrapResult deprecated = load(0, 0, 4);
  ASSERT_TRUE(deprecated.config.has_value());
  EXPECT_EQ(deprecated.config->clusters[0]->config().max_requests_per_connection, 4u);
}

TEST(BootstrapTest, JsonAndCamelCaseFieldNames) {
  BootstrapResult result = ParseBootstrap(
      R"({"staticResources": {"clusters": [{"name": "a", "connectTimeout": "1s",
          "loadAssignment": {"endpoints": [{"lbEndpoints": [{"endpoint": {"address":
          {"socketAddress": {"address": "::1", "portValue": 80}}}}]}]}}]}})",
      /*json=*/true, {});
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  EXPECT_EQ(result.config->clusters[0]->config().connect_timeout, absl::Seconds(1));
  EXPECT_EQ(result.config->clusters[0]->config().endpoints[0].address, "::1");
}

TEST(BootstrapTest, NodeAndOverrides) {
  std::string yaml = "node: {id: n1, cluster: c1, metadata: {team: {a: 1}}}\n";
  BootstrapResult plain = ParseBootstrap(yaml, false, {});
  ASSERT_TRUE(plain.errors.empty()) << absl::StrJoin(plain.errors, "\n");
  EXPECT_EQ(plain.config->node.id, "n1");
  EXPECT_EQ(plain.config->node.cluster, "c1");
  EXPECT_THAT(plain.config->bootstrap_json, HasSubstr("\"team\""));
  BootstrapResult overridden =
      ParseBootstrap(yaml, false, {.service_node = "n2", .service_cluster = "c2"});
  EXPECT_EQ(overridden.config->node.id, "n2");
  EXPECT_EQ(overridden.config->node.cluster, "c2");
}

TEST(BootstrapTest, AdsBootstrap) {
  BootstrapResult result = Load(R"(
node: {id: n, cluster: c}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds}}]
  cds_config: {ads: {}, resource_api_version: V3, initial_fetch_timeout: 3s}
  lds_config: {ads: {}}
static_resources:
  clusters:
  - name: xds
    type: STRICT_DNS
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options:
            connection_keepalive: {interval: 30s, timeout: 5s}
    load_assignment:
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: cp, port_value: 18000}}}}]}]
  - name: dynamic-eds
    type: EDS
    eds_cluster_config: {eds_config: {ads: {}}, service_name: svc}
)");
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  const DynamicResourcesConfig& dynamic = result.config->dynamic_resources;
  ASSERT_TRUE(dynamic.ads.has_value());
  EXPECT_EQ(dynamic.ads->cluster_name, "xds");
  EXPECT_TRUE(dynamic.lds);
  EXPECT_TRUE(dynamic.cds);
  EXPECT_EQ(dynamic.cds_initial_fetch_timeout, absl::Seconds(3));
  EXPECT_EQ(dynamic.lds_initial_fetch_timeout, absl::Seconds(15));
  EXPECT_EQ(result.config->clusters[1]->config().eds_service_name, "svc");
}

TEST(BootstrapTest, LegacyRouterWithoutTypedConfigIsAcceptedWithWarning) {
  BootstrapResult result =
      Load(Config(kOneRoute, kClusterA, "", "[{name: envoy.filters.http.router}]"));
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  EXPECT_THAT(result.warnings,
              ElementsAre(absl::StrCat(
                  "static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
                  "http_filters[0]: http filter \"envoy.filters.http.router\" without "
                  "typed_config is deprecated (Envoy < 1.22 style); using the router with "
                  "default settings")));
}

TEST(BootstrapTest, OptionalUnknownHttpFilterIsSkippedWithWarning) {
  BootstrapResult result = Load(Config(
      kOneRoute, kClusterA, "",
      "[{name: cors, is_optional: true, typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}, {name: "
      "envoy.filters.http.router, typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]"));
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  EXPECT_THAT(result.warnings,
              ElementsAre("static_resources.listeners[0].filter_chains[0].filters[0].typed_config."
                          "http_filters[0].typed_config: http filter \"cors\" (type "
                          "envoy.extensions.filters.http.cors.v3.Cors) is not supported by weir; "
                          "skipped because it is marked is_optional"));
}

TEST(BootstrapTest, HealthCheckFilter) {
  BootstrapResult result = Load(Config(
      kOneRoute, kClusterA, "",
      "[{name: envoy.filters.http.health_check, typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck, "
      "pass_through_mode: false, headers: [{name: ':path', string_match: {exact: /ping}}]}}, "
      "{name: envoy.filters.http.router, typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]"));
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  const auto& health = result.config->listeners[0].http.health_check;
  ASSERT_TRUE(health.has_value());
  EXPECT_FALSE(health->pass_through_mode);
  ASSERT_EQ(health->headers.size(), 1u);
  EXPECT_EQ(health->headers[0].name, ":path");
  EXPECT_EQ(health->headers[0].string_match.value, "/ping");
}

TEST(BootstrapTest, UnknownAndUnsupportedFieldsBecomeWarningsWithTheFlag) {
  std::string yaml = Config(kOneRoute, absl::StrCat("{name: a, bogus: 1, health_checks: [{timeout: 1s}]}"));
  BootstrapResult strict = Load(yaml);
  EXPECT_THAT(strict.errors,
              ElementsAre("static_resources.clusters[0].bogus: unknown field (not in weir's subset "
                          "of envoy.config.cluster.v3.Cluster) (--allow-unknown-static-fields "
                          "ignores it with a warning)",
                          "static_resources.clusters[0].health_checks: field is not supported by "
                          "weir (--allow-unknown-static-fields ignores it with a warning)"));
  BootstrapResult lenient = Load(yaml, /*allow_unknown=*/true);
  EXPECT_TRUE(lenient.errors.empty()) << absl::StrJoin(lenient.errors, "\n");
  EXPECT_THAT(lenient.warnings,
              ElementsAre("static_resources.clusters[0].bogus: unknown field (not in weir's subset "
                          "of envoy.config.cluster.v3.Cluster); ignored "
                          "(--allow-unknown-static-fields)",
                          "static_resources.clusters[0].health_checks: field is not supported by "
                          "weir; ignored (--allow-unknown-static-fields)"));
}

TEST(BootstrapTest, CircuitBreakerLimitsAreKeptButWarnedAsNotEnforced) {
  BootstrapResult result = Load(Config(
      kOneRoute,
      "{name: a, circuit_breakers: {thresholds: [{max_requests: 100, max_pending_requests: 5}]}, "
      "load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: "
      "{address: 10.0.0.1, port_value: 80}}}}]}]}}"));
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  EXPECT_THAT(result.warnings,
              ElementsAre("static_resources.clusters[0].circuit_breakers.thresholds[0]: not "
                          "enforced by weir yet: no request is rejected or queued for overload "
                          "(/clusters shows the values)"));
  const routing::CircuitBreakerConfig& cb = result.config->clusters[0]->config().circuit_breakers;
  EXPECT_EQ(cb.max_requests, 100u);
  EXPECT_EQ(cb.max_pending_requests, 5u);
  EXPECT_EQ(cb.max_connections, 1024u);  // Envoy's default
}

TEST(BootstrapTest, RouteToUndefinedClusterIsAWarning) {
  BootstrapResult result = Load(Config(kOneRoute, ""));
  ASSERT_TRUE(result.errors.empty()) << absl::StrJoin(result.errors, "\n");
  EXPECT_THAT(result.warnings,
              ElementsAre(absl::StrCat(kRoutePath, ": routes to cluster \"a\", which is not "
                                                   "defined; such requests get 503")));
}

TEST(BootstrapTest, RoutingErrorsCarryTheFullPathAndAllAreReported) {
  BootstrapResult result = Load(Config(
      "[{name: a, domains: ['*', x.com], routes: [{match: {prefix: /}, route: "
      "{weighted_clusters: {clusters: [{name: a, weight: 0}, {name: b, weight: 0}]}}}, {match: "
      "{safe_regex: {regex: '(['}}, route: {cluster: a}}]}, {name: b, domains: [X.com]}]",
      kClusterA));
  EXPECT_THAT(
      result.errors,
      ElementsAre(
          absl::StrCat(kRoutePath, ".virtual_hosts[0].routes[0].route.weighted_clusters: sum of "
                                   "weights must be greater than 0"),
          absl::StrCat(kRoutePath,
                       ".virtual_hosts[0].routes[1].match.safe_regex: invalid regex: missing ]: ["),
          absl::StrCat(kRoutePath, ".virtual_hosts[1].domains[0]: domain \"X.com\" is already used "
                                   "by virtual host \"a\"")));
}

struct InvalidCase {
  std::string name;
  std::string yaml;
  std::string error;  // the first (usually only) error, exactly
  bool allow_unknown = false;
};

std::string Route(const std::string& route) {
  return absl::StrCat("[{name: vh, domains: ['*'], routes: [", route, "]}]");
}

std::vector<InvalidCase> InvalidCases() {
  const std::string hcm = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
  const std::string route0 = absl::StrCat(kRoutePath, ".virtual_hosts[0].routes[0]");
  return {
      {"MalformedYaml", "static_resources:\n  clusters: [\n",
       "invalid YAML at line 3, column 1: end of sequence flow not found"},
      {"WrongScalarType", Config(kOneRoute, "{name: a, per_connection_buffer_limit_bytes: lots}"),
       "static_resources.clusters[0].per_connection_buffer_limit_bytes: expected a non-negative "
       "integer, got \"lots\""},
      {"ListenerPortOutOfRange",
       absl::StrCat("static_resources:\n  listeners:\n  - address: {socket_address: {address: "
                    "0.0.0.0, port_value: 70000}}\n"),
       "static_resources.listeners[0].address.socket_address.port_value: must be at most 65535, "
       "got 70000"},
      {"WindowUpdateFloodLimitOfZero",
       Config(kOneRoute, kClusterA,
              "http2_protocol_options: {max_inbound_window_update_frames_per_data_frame_sent: 0}"),
       absl::StrCat(hcm,
                    ".http2_protocol_options.max_inbound_window_update_frames_per_data_frame_"
                    "sent: must be between 1 and 4294967295, got 0")},
      {"DuplicateClusterName", Config(kOneRoute, absl::StrCat(kClusterA, ", ", kClusterA)),
       "static_resources.clusters[1].name: duplicate cluster name \"a\" (also "
       "static_resources.clusters[0])"},
      {"DuplicateListenerName",
       "static_resources:\n  listeners:\n  - {name: l, address: {socket_address: {address: "
       "127.0.0.1, port_value: 1}}, filter_chains: [{filters: [{name: x, typed_config: {\"@type\": "
       "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
       "HttpConnectionManager, stat_prefix: s, route_config: {}, http_filters: [{name: "
       "envoy.filters.http.router}]}}]}]}\n  - {name: l, address: {socket_address: {address: "
       "127.0.0.1, port_value: 2}}, filter_chains: [{filters: [{name: x, typed_config: {\"@type\": "
       "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
       "HttpConnectionManager, stat_prefix: s, route_config: {}, http_filters: [{name: "
       "envoy.filters.http.router}]}}]}]}\n",
       "static_resources.listeners[1].name: duplicate listener name \"l\" (also "
       "static_resources.listeners[0])"},
      {"UnknownField", Config(kOneRoute, "{name: a, colour: blue}"),
       "static_resources.clusters[0].colour: unknown field (not in weir's subset of "
       "envoy.config.cluster.v3.Cluster) (--allow-unknown-static-fields ignores it with a "
       "warning)"},
      {"RefusedMatchFieldEvenWithFlag",
       Config(Route("{match: {prefix: /, runtime_fraction: {default_value: {numerator: 50}}}, "
                    "route: {cluster: a}}"),
              kClusterA),
       absl::StrCat(route0,
                    ".match.runtime_fraction: not supported by weir, and ignoring it "
                    "would change which requests or connections the config accepts; "
                    "refused even with --allow-unknown-static-fields"),
       /*allow_unknown=*/true},
      {"RefusedTlsTransportSocket",
       "static_resources:\n  listeners:\n  - address: {socket_address: {address: 0.0.0.0, "
       "port_value: 443}}\n    filter_chains: [{transport_socket: {name: tls}}]\n",
       "static_resources.listeners[0].filter_chains[0].transport_socket: not supported by weir, "
       "and ignoring it would change which requests or connections the config accepts; refused "
       "even with --allow-unknown-static-fields",
       /*allow_unknown=*/true},
      {"MissingRouteAction", Config(Route("{match: {prefix: /}}"), kClusterA),
       absl::StrCat(route0, ": one of route, redirect or direct_response is required")},
      {"MissingPathSpecifier", Config(Route("{match: {}, route: {cluster: a}}"), kClusterA),
       absl::StrCat(
           route0, ".match: one of prefix, path, safe_regex or path_separated_prefix is required")},
      {"InvalidDuration",
       Config(Route("{match: {prefix: /}, route: {cluster: a, timeout: 10}}"), kClusterA),
       absl::StrCat(route0,
                    ".route.timeout: invalid duration \"10\": expected seconds with an "
                    "\"s\" suffix, e.g. \"1.5s\"")},
      {"NegativeTimeout",
       Config(Route("{match: {prefix: /}, route: {cluster: a, timeout: -1s}}"), kClusterA),
       absl::StrCat(route0, ".route.timeout: must not be negative")},
      {"UnknownEnumValue", Config(kOneRoute, "{name: a, lb_policy: FASTEST}"),
       "static_resources.clusters[0].lb_policy: unknown value \"FASTEST\" for "
       "envoy.config.cluster.v3.Cluster.LbPolicy (expected one of ROUND_ROBIN, LEAST_REQUEST, "
       "RING_HASH, RANDOM, MAGLEV, CLUSTER_PROVIDED, LOAD_BALANCING_POLICY_CONFIG)"},
      {"UnsupportedLbPolicy", Config(kOneRoute, "{name: a, lb_policy: MAGLEV}"),
       "static_resources.clusters[0].lb_policy: MAGLEV is not supported by weir (ROUND_ROBIN, "
       "LEAST_REQUEST and RANDOM are)"},
      {"StaticClusterWithHostName",
       Config(kOneRoute,
              "{name: a, load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: "
              "{socket_address: {address: backend, port_value: 80}}}}]}]}}"),
       "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
       "address.socket_address.address: \"backend\" is not an IP address (STATIC and EDS "
       "clusters need IP addresses; use STRICT_DNS for host names)"},
      {"EndpointPortZero",
       Config(kOneRoute,
              "{name: a, type: STRICT_DNS, load_assignment: {endpoints: [{lb_endpoints: "
              "[{endpoint: {address: {socket_address: {address: backend}}}}]}]}}"),
       "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
       "address.socket_address.port_value: must be between 1 and 65535, got 0"},
      {"EndpointWeightZero",
       Config(kOneRoute,
              "{name: a, load_assignment: {endpoints: [{lb_endpoints: [{load_balancing_weight: 0, "
              "endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}}"),
       "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0]."
       "load_balancing_weight: must be at least 1"},
      {"NonZeroPriority",
       Config(kOneRoute, "{name: a, load_assignment: {endpoints: [{priority: 1}]}}"),
       "static_resources.clusters[0].load_assignment.endpoints[0].priority: priority 1 is not "
       "supported by weir (only priority 0)"},
      {"TwoMembersOfAOneof",
       Config(Route("{match: {prefix: /}, route: {cluster: a, weighted_clusters: {clusters: "
                    "[{name: a, weight: 1}]}}}"),
              kClusterA),
       absl::StrCat(route0,
                    ".route.weighted_clusters: only one of the fields of oneof "
                    "\"cluster_specifier\" may be set; \"cluster\" is already set")},
      {"WeightRequired",
       Config(Route("{match: {prefix: /}, route: {weighted_clusters: {clusters: [{name: a}]}}}"),
              kClusterA),
       absl::StrCat(route0,
                    ".route.weighted_clusters.clusters[0].weight: is required (0 is "
                    "allowed)")},
      {"MissingRouter", Config(kOneRoute, kClusterA, "", "[]"),
       absl::StrCat(hcm,
                    ".http_filters: the router filter (envoy.filters.http.router) is "
                    "required as the last http filter")},
      {"FilterAfterRouter",
       Config(kOneRoute, kClusterA, "",
              "[{name: envoy.filters.http.router}, {name: envoy.filters.http.health_check, "
              "typed_config: {\"@type\": "
              "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck, "
              "pass_through_mode: true}}]"),
       absl::StrCat(hcm,
                    ".http_filters[1]: http filter \"envoy.filters.http.health_check\" "
                    "comes after the router, which must be the last filter")},
      {"UnknownHttpFilterByName",
       Config(kOneRoute, kClusterA, "",
              "[{name: envoy.filters.http.lua}, {name: envoy.filters.http.router}]"),
       absl::StrCat(hcm,
                    ".http_filters[0]: http filter \"envoy.filters.http.lua\" is not "
                    "supported by weir")},
      {"ExtAuthzRefusedEvenWithFlag",
       Config(kOneRoute, kClusterA, "",
              "[{name: envoy.filters.http.ext_authz, typed_config: {\"@type\": "
              "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz}}, "
              "{name: envoy.filters.http.router}]"),
       absl::StrCat(hcm,
                    ".http_filters[0].typed_config: http filter "
                    "\"envoy.filters.http.ext_authz\" (type "
                    "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz) is not supported "
                    "by weir"),
       /*allow_unknown=*/true},
      {"MissingTypeUrl",
       Config(kOneRoute, kClusterA, "", "[{name: x, typed_config: {stat_prefix: y}}]"),
       absl::StrCat(hcm,
                    ".http_filters[0].typed_config: missing \"@type\" (the extension's type "
                    "URL)")},
      {"TypedStructIsRefused",
       Config(kOneRoute, kClusterA, "",
              "[{name: wasm, typed_config: {\"@type\": "
              "type.googleapis.com/udpa.type.v1.TypedStruct, type_url: x}}]"),
       absl::StrCat(hcm,
                    ".http_filters[0].typed_config: http filter \"wasm\" (type "
                    "udpa.type.v1.TypedStruct): TypedStruct-wrapped configs are not "
                    "supported; use the extension's own @type")},
      {"MissingStatPrefix",
       absl::StrCat(
           "static_resources:\n  listeners:\n  - address: {socket_address: {address: 127.0.0.1, "
           "port_value: 1}}\n    filter_chains: [{filters: [{name: x, typed_config: {\"@type\": "
           "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
           "HttpConnectionManager, route_config: {}, http_filters: [{name: "
           "envoy.filters.http.router}]}}]}]\n"),
       "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix: must "
       "not be empty"},
      {"TwoFilterChains",
       "static_resources:\n  listeners:\n  - address: {socket_address: {address: 127.0.0.1, "
       "port_value: 1}}\n    filter_chains: [{}, {}]\n",
       "static_resources.listeners[0].filter_chains: weir supports exactly one filter chain per "
       "listener, got 2"},
      {"ListenerOnHostName",
       "static_resources:\n  listeners:\n  - address: {socket_address: {address: localhost, "
       "port_value: 1}}\n    filter_chains: [{}]\n",
       "static_resources.listeners[0].address.socket_address.address: \"localhost\" is not an IP "
       "address (listeners bind to IP addresses)"},
      {"Http3Codec", Config(kOneRoute, kClusterA, "codec_type: HTTP3"),
       absl::StrCat(hcm,
                    ".codec_type: HTTP3 is not supported by weir (AUTO, HTTP1 and HTTP2 "
                    "are)")},
      {"MaxRequestHeadersKb", Config(kOneRoute, kClusterA, "max_request_headers_kb: 9000"),
       absl::StrCat(hcm, ".max_request_headers_kb: must be between 1 and 8192, got 9000")},
      {"EdsWithoutAds",
       "static_resources:\n  clusters:\n  - {name: e, type: EDS, eds_cluster_config: {eds_config: "
       "{ads: {}}}}\n",
       "static_resources.clusters[0].type: EDS clusters need dynamic_resources.ads_config"},
      {"AdsClusterNotStatic",
       "dynamic_resources:\n  ads_config: {api_type: GRPC, grpc_services: [{envoy_grpc: "
       "{cluster_name: nowhere}}]}\n",
       "dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name: \"nowhere\" is not "
       "a cluster in static_resources.clusters"},
      {"LdsWithoutAds", "dynamic_resources:\n  lds_config: {ads: {}}\n",
       "dynamic_resources.lds_config: uses ADS, which needs dynamic_resources.ads_config"},
      {"FilesystemXds", "dynamic_resources:\n  lds_config: {path: /etc/lds.yaml}\n",
       "dynamic_resources.lds_config.path: field is not supported by weir "
       "(--allow-unknown-static-fields ignores it with a warning)"},
      {"DuplicateYamlKey", "static_resources:\n  clusters: [{name: a, name: b}]\n",
       "static_resources.clusters[0].name: key appears more than once"},
      {"ListExpected", "static_resources:\n  clusters: {name: a}\n",
       "static_resources.clusters: expected a list, got a mapping"},
      {"ValidateClustersTrue",
       absl::StrCat(
           "static_resources:\n  listeners:\n  - address: {socket_address: {address: 127.0.0.1, "
           "port_value: 1}}\n    filter_chains: [{filters: [{name: x, typed_config: {\"@type\": "
           "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
           "HttpConnectionManager, stat_prefix: s, route_config: {validate_clusters: true, "
           "virtual_hosts: ",
           kOneRoute, "}, http_filters: [{name: envoy.filters.http.router}]}}]}]\n"),
       "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config: "
       "routes to cluster \"a\", which is not defined (validate_clusters is true)"},
      {"DirectResponseFileMissing",
       Config(Route("{match: {prefix: /}, direct_response: {status: 200, body: {filename: "
                    "/nonexistent/body.txt}}}")),
       absl::StrCat(route0,
                    ".direct_response.body.filename: cannot read /nonexistent/body.txt: No "
                    "such file or directory")},
      {"ProtocolOptionsForUnknownExtension",
       Config(kOneRoute,
              "{name: a, typed_extension_protocol_options: {envoy.extensions.upstreams.tcp.v3."
              "TcpProtocolOptions: {\"@type\": "
              "type.googleapis.com/envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions}}}"),
       "static_resources.clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams."
       "tcp.v3.TcpProtocolOptions\"]: protocol options \"envoy.extensions.upstreams.tcp.v3."
       "TcpProtocolOptions\" (type envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions) is not "
       "supported by weir"},
  };
}

class InvalidConfigTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidConfigTest, ReportsTheFieldPathAndReason) {
  const InvalidCase& c = GetParam();
  BootstrapResult result = Load(c.yaml, c.allow_unknown);
  EXPECT_FALSE(result.config.has_value());
  ASSERT_FALSE(result.errors.empty()) << c.yaml;
  EXPECT_EQ(result.errors[0], c.error) << "all errors:\n" << absl::StrJoin(result.errors, "\n");
}

INSTANTIATE_TEST_SUITE_P(Bootstrap, InvalidConfigTest, ::testing::ValuesIn(InvalidCases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace xds
