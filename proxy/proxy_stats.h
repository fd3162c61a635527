#pragma once

// The proxy's metrics as plain structs of references, with Envoy's stat names: one struct per
// cluster (cluster.<name>.), per HTTP connection manager (http.<stat_prefix>.), per listener
// (listener.<address>.) and for the server. They are created on the main thread when config is
// published; workers only increment through them. Per-status-code counters
// (upstream_rq_503, ...) appear on first use, as in Envoy.

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "proxy/http2/codec_stats.h"
#include "stats/store.h"

namespace proxy {

// upstream_rq_<code>/downstream_rq_<code>-style families: the class counters (<N>xx) exist
// up front, the per-code counters are registered the first time a code is seen (on any thread;
// registration is idempotent, so two workers racing get the same counter).
class ResponseCodeStats {
 public:
  ResponseCodeStats(stats::Store& store, std::string prefix, bool per_code);
  // Counts one final response: <prefix>_<N>xx, <prefix>_<code> (if per_code), <prefix>_completed.
  void Charge(int status);

 private:
  stats::Store& store_;
  std::string prefix_;  // e.g. "cluster.v1.upstream_rq"
  bool per_code_;
  std::array<stats::Counter*, 5> classes_;
  stats::Counter* completed_;
  std::array<std::atomic<stats::Counter*>, 600> codes_{};
};

// cluster.<name>.grpc.{total,success,failure,<status>}: gRPC calls by their final grpc-status,
// the names Envoy's grpc_stats filter uses without per-method stats. Registered on first use (on
// any thread), so clusters that never see gRPC have none.
class GrpcStats {
 public:
  GrpcStats(stats::Store& store, std::string prefix) : store_(store), prefix_(std::move(prefix)) {}
  // One finished call; `status` is its grpc-status (0 OK ... 16 UNAUTHENTICATED; other values
  // count as failures under their own number, up to 99).
  void Charge(int status);

 private:
  stats::Counter& Get(std::atomic<stats::Counter*>& slot, absl::string_view name);

  stats::Store& store_;
  std::string prefix_;  // "cluster.v1.grpc"
  std::atomic<stats::Counter*> total_{nullptr}, success_{nullptr}, failure_{nullptr};
  std::array<std::atomic<stats::Counter*>, 100> codes_{};
};

// http2.* codec counters (Envoy's names) under a prefix: "http2." for downstream connections,
// "cluster.<name>.http2." for upstream ones. Sessions keep plain counters; their owners add the
// difference since the last export (Export) after each read.
struct Http2CodecStats {
  Http2CodecStats(stats::Store& store, const std::string& prefix);
  // Adds `now - *exported` and sets *exported = now.
  void Export(const http2::CodecStats& now, http2::CodecStats* exported);

  stats::Counter& dropped_headers_with_underscores;
  stats::Counter& goaway_sent;
  stats::Counter& goaway_graceful_sent;
  stats::Counter& header_overflow;
  stats::Counter& headers_cb_no_stream;
  stats::Counter& inbound_empty_frames_flood;
  stats::Counter& inbound_priority_frames_flood;
  stats::Counter& inbound_window_update_frames_flood;
  stats::Counter& keepalive_timeout;
  stats::Counter& outbound_control_flood;
  stats::Counter& outbound_flood;
  stats::Counter& requests_rejected_with_underscores_in_headers;
  stats::Counter& rx_messaging_error;
  stats::Counter& rx_reset;
  stats::Counter& stream_refused_errors;
  stats::Counter& trailers;
  stats::Counter& tx_reset;
  stats::Counter* downstream_rq_too_many_premature_resets = nullptr;  // set for downstream
};

struct StatScope;

struct ClusterStats {
  ClusterStats(stats::Store& store, const std::string& cluster);
  explicit ClusterStats(const StatScope& scope);

  ResponseCodeStats codes;  // upstream_rq_<code>, upstream_rq_<N>xx, upstream_rq_completed
  stats::Counter& upstream_rq_total;
  stats::Counter& upstream_rq_timeout;
  stats::Counter& upstream_rq_rx_reset;
  stats::Counter& upstream_rq_cancelled;
  stats::Counter& upstream_rq_retry;  // transparent retries on a stale keep-alive connection
  stats::Counter& upstream_rq_pending_total;
  stats::Counter& upstream_cx_total;
  stats::Counter& upstream_cx_http1_total;
  stats::Counter& upstream_cx_http2_total;
  stats::Counter& upstream_cx_connect_fail;
  stats::Counter& upstream_cx_connect_timeout;
  stats::Counter& upstream_cx_destroy;
  stats::Counter& upstream_cx_destroy_local;
  stats::Counter& upstream_cx_destroy_remote;
  stats::Counter& upstream_cx_idle_timeout;  // closed after the cluster's idle_timeout
  stats::Counter& upstream_cx_max_requests;  // retired at max_requests_per_connection
  stats::Counter& upstream_cx_none_healthy;
  stats::Counter& upstream_cx_protocol_error;
  stats::Counter& upstream_cx_rx_bytes_total;
  stats::Counter& upstream_cx_tx_bytes_total;
  stats::Gauge& upstream_cx_active;
  stats::Gauge& upstream_rq_active;
  stats::Gauge& upstream_rq_pending_active;
  stats::Gauge& membership_total;
  stats::Gauge& membership_healthy;
  stats::Histogram& upstream_rq_time;
  stats::Histogram& upstream_cx_connect_ms;
  GrpcStats grpc;
  // cluster.<name>.http2.*: created by the main thread when the cluster speaks HTTP/2.
  std::unique_ptr<Http2CodecStats> http2;
};

// http.<stat_prefix>.: the connection manager and its router.
struct HttpStats {
  HttpStats(stats::Store& store, const std::string& stat_prefix);
  explicit HttpStats(const StatScope& scope);

  ResponseCodeStats codes;  // downstream_rq_<N>xx, downstream_rq_completed
  stats::Counter& downstream_rq_total;
  stats::Counter& downstream_rq_http1_total;
  stats::Counter& downstream_rq_http2_total;
  stats::Counter& downstream_cx_total;
  stats::Counter& downstream_cx_http1_total;
  stats::Counter& downstream_cx_http2_total;
  stats::Counter& downstream_rq_too_many_premature_resets;
  stats::Counter& downstream_cx_protocol_error;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& downstream_cx_destroy_remote_active_rq;
  stats::Counter& downstream_cx_idle_timeout;
  stats::Counter& downstream_cx_drain_close;
  stats::Counter& downstream_cx_max_requests_reached;
  stats::Counter& downstream_cx_max_duration_reached;
  stats::Counter& downstream_rq_timeout;
  stats::Counter& downstream_rq_idle_timeout;
  stats::Counter& downstream_rq_header_timeout;
  stats::Counter& downstream_rq_rx_reset;
  stats::Counter& downstream_rq_too_large;
  stats::Counter& rs_too_large;
  stats::Counter& no_route;
  stats::Counter& no_cluster;
  stats::Counter& rq_direct_response;
  stats::Counter& rq_redirect;
  stats::Counter& rq_total;
  stats::Counter& rq_reset_after_downstream_response_started;
  stats::Gauge& downstream_cx_active;
  stats::Gauge& downstream_rq_active;
  stats::Histogram& downstream_rq_time;
  stats::Histogram& downstream_cx_length_ms;
  // http2.* for this manager's HTTP/2 connections (shared names across listeners, as Envoy's),
  // created by the main thread when the listener can speak HTTP/2.
  std::unique_ptr<Http2CodecStats> http2;
};

// listener.<address or stat_prefix>.
struct ListenerStats {
  ListenerStats(stats::Store& store, const std::string& listener_prefix,
                const std::string& http_stat_prefix);

  stats::Counter& downstream_cx_total;
  stats::Counter& downstream_cx_destroy;
  stats::Gauge& downstream_cx_active;
  ResponseCodeStats http_codes;  // listener.<addr>.http.<prefix>.downstream_rq_<N>xx
};

struct ServerStats {
  explicit ServerStats(stats::Store& store);

  stats::Gauge& live;
  stats::Gauge& state;  // 0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING (Envoy's enum)
  stats::Gauge& uptime;
  stats::Gauge& concurrency;
  stats::Gauge& total_connections;
  stats::Gauge& days_until_first_cert_expiring;
};

// cluster_manager. and listener_manager.: what config updates did to clusters and listeners.
struct ManagerStats {
  explicit ManagerStats(stats::Store& store);

  stats::Counter& cluster_added;
  stats::Counter& cluster_modified;
  stats::Counter& cluster_removed;
  stats::Gauge& active_clusters;
  stats::Counter& listener_added;
  stats::Counter& listener_modified;
  stats::Counter& listener_removed;
  stats::Counter& listener_create_failure;
  stats::Gauge& total_listeners_active;
};

}  // namespace proxy
