#pragma once

// Plain, copyable configuration of an upstream cluster: the protocol-neutral form of Envoy's
// Cluster plus its ClusterLoadAssignment. xds/ fills it from protobuf (bootstrap, CDS, EDS);
// Cluster::Create (cluster.h) validates it into the immutable form workers read.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace routing {

// envoy.config.core.v3.HealthStatus as reported by EDS (or static config).
enum class HealthStatus { kUnknown, kHealthy, kUnhealthy, kDraining, kTimeout, kDegraded };

// One lb_endpoint. For STRICT_DNS / LOGICAL_DNS clusters `address` is a DNS name that the proxy
// resolves; for STATIC and EDS it is an IP literal.
struct EndpointConfig {
  std::string address;
  uint32_t port = 0;
  uint32_t weight = 1;  // load_balancing_weight, >= 1
  HealthStatus health_status = HealthStatus::kUnknown;
  std::string hostname;  // Endpoint.hostname (used by auto_host_rewrite)

  friend bool operator==(const EndpointConfig&, const EndpointConfig&) = default;
};

enum class DiscoveryType { kStatic, kStrictDns, kLogicalDns, kEds };
enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom };
enum class UpstreamProtocol { kHttp1, kHttp2 };
enum class DnsLookupFamily { kAuto, kV4Only, kV6Only, kV4Preferred, kAll };

// CircuitBreakers.Thresholds for the DEFAULT priority, with Envoy's defaults.
struct CircuitBreakerConfig {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;

  friend bool operator==(const CircuitBreakerConfig&, const CircuitBreakerConfig&) = default;
};

// HTTP/2 settings toward the upstream (Http2ProtocolOptions), Envoy's defaults.
struct Http2ClientConfig {
  uint32_t max_concurrent_streams = 2147483647;
  uint32_t initial_stream_window_size = 268435456;
  uint32_t initial_connection_window_size = 268435456;
  // override_stream_error_on_invalid_http_message: a malformed response resets only its stream
  // (true) or closes the upstream connection (false, Envoy's default).
  bool stream_error_on_invalid_http_messaging = false;

  friend bool operator==(const Http2ClientConfig&, const Http2ClientConfig&) = default;
};

struct ClusterConfig {
  std::string name;
  DiscoveryType type = DiscoveryType::kStatic;
  std::string eds_service_name;  // EDS: resource name to request ("" = cluster name)
  absl::Duration connect_timeout = absl::Seconds(5);
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  uint32_t least_request_choice_count = 2;  // LeastRequestLbConfig.choice_count, >= 2
  double healthy_panic_threshold = 50.0;    // CommonLbConfig.healthy_panic_threshold, percent
  DnsLookupFamily dns_lookup_family = DnsLookupFamily::kAuto;
  absl::Duration dns_refresh_rate = absl::Seconds(5);
  std::vector<EndpointConfig> endpoints;  // priority 0 only
  UpstreamProtocol protocol = UpstreamProtocol::kHttp1;
  Http2ClientConfig http2;
  CircuitBreakerConfig circuit_breakers;
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  std::optional<uint32_t> max_requests_per_connection;
  absl::Duration idle_timeout = absl::Hours(1);  // common_http_protocol_options.idle_timeout

  friend bool operator==(const ClusterConfig&, const ClusterConfig&) = default;
};

}  // namespace routing
