#pragma once

// Validated, protobuf-free configuration of a listener and its HTTP connection manager: what
// the proxy needs to accept connections and route requests. Translated from Envoy's Listener +
// HttpConnectionManager (translate_listener.h); an inline route_config arrives already compiled.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "routing/route_config.h"
#include "routing/route_table.h"

namespace xds {

struct SocketAddress {
  std::string address;  // IP literal
  uint32_t port = 0;    // 0 = pick an ephemeral port

  // "1.2.3.4:80" or "[::1]:80".
  std::string ToString() const;
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

enum class CodecType { kAuto, kHttp1, kHttp2 };

// envoy.filters.http.health_check: answers health checks itself (or passes them through) so a
// load balancer sees /healthcheck/fail at once.
struct HealthCheckFilterConfig {
  bool pass_through_mode = false;
  std::vector<routing::HeaderMatcherConfig> headers;  // all must match for a health check
};

// HTTP/2 settings offered to downstream clients (Http2ProtocolOptions). Defaults follow Envoy's
// edge best practices rather than its permissive built-in defaults.
struct Http2ServerConfig {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_stream_window_size = 65536;
  uint32_t initial_connection_window_size = 1048576;
  uint32_t hpack_table_size = 4096;
  uint32_t max_outbound_frames = 10000;
  uint32_t max_outbound_control_frames = 1000;
  uint32_t max_consecutive_inbound_frames_with_empty_payload = 1;
  uint32_t max_inbound_priority_frames_per_stream = 100;
  uint32_t max_inbound_window_update_frames_per_data_frame_sent = 10;
  // A malformed request (RFC 9113 §8: invalid or uppercase field names, connection-specific
  // fields, bad pseudo-headers): false (Envoy's default) closes the connection with GOAWAY
  // PROTOCOL_ERROR, true resets only the stream. Http2ProtocolOptions'
  // override_stream_error_on_invalid_http_message, else the HCM's
  // stream_error_on_invalid_http_message.
  bool stream_error_on_invalid_http_messaging = false;
};

struct HttpConnectionManagerConfig {
  std::string stat_prefix;
  CodecType codec_type = CodecType::kAuto;
  // Exactly one of: an inline route table, or the name of a RouteConfiguration from RDS (ADS).
  std::shared_ptr<const routing::RouteTable> route_table;
  std::string rds_route_config_name;
  absl::Duration rds_initial_fetch_timeout = absl::Seconds(15);

  std::optional<HealthCheckFilterConfig> health_check;
  bool router_dynamic_stats = true;
  bool suppress_envoy_headers = false;

  std::string server_name = "envoy";
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  bool skip_xff_append = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
  bool strip_any_host_port = false;

  absl::Duration stream_idle_timeout = absl::Minutes(5);
  absl::Duration request_timeout = absl::ZeroDuration();          // zero = disabled
  absl::Duration request_headers_timeout = absl::ZeroDuration();  // zero = disabled
  absl::Duration drain_timeout = absl::Seconds(5);
  absl::Duration idle_timeout = absl::Hours(1);  // common_http_protocol_options.idle_timeout
  std::optional<absl::Duration> max_connection_duration;
  std::optional<uint32_t> max_requests_per_connection;
  uint32_t max_request_headers_kb = 60;
  uint32_t max_headers_count = 100;
  // stream_error_on_invalid_http_message, for HTTP/1.1: false (Envoy's default) closes the
  // connection after every local 400 reply, true keeps it open when the request was well framed
  // (a missing Host, say; a request the parser rejects always closes it). HTTP/2 takes its own
  // setting from this one unless its protocol options override it (Http2ServerConfig).
  bool stream_error_on_invalid_http_message = false;
  Http2ServerConfig http2;
};

struct ListenerConfig {
  enum class DrainType { kDefault, kModifyOnly };
  enum class TrafficDirection { kUnspecified, kInbound, kOutbound };

  std::string name;
  SocketAddress address;
  std::string stat_prefix;  // listener.<stat_prefix>. ; "" = derived from the address
  HttpConnectionManagerConfig http;
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  DrainType drain_type = DrainType::kDefault;
  TrafficDirection traffic_direction = TrafficDirection::kUnspecified;
  std::optional<uint32_t> tcp_backlog_size;
  // Identifies this version of the listener: an LDS update that changes it (anything but the
  // route table RDS supplies) opens a new listener and drains the old one's connections.
  // 0 for static listeners.
  uint64_t config_hash = 0;

  // The prefix of this listener's stats: the stat_prefix, else the address with ':' → '_'
  // (Envoy: listener.0.0.0.0_8080.).
  std::string StatPrefix() const;
};

}  // namespace xds
