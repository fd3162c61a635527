#include "proxy/proxy_stats.h"

#include "absl/strings/str_cat.h"

namespace proxy {

ResponseCodeStats::ResponseCodeStats(stats::Store& store, std::string prefix, bool per_code)
    : store_(store), prefix_(std::move(prefix)), per_code_(per_code) {
  for (int i = 0; i < 5; ++i) {
    classes_[i] = &store_.GetCounter(absl::StrCat(prefix_, "_", i + 1, "xx"));
  }
  completed_ = &store_.GetCounter(absl::StrCat(prefix_, "_completed"));
}

void ResponseCodeStats::Charge(int status) {
  completed_->Inc();
  if (status < 100 || status >= 600) return;  // no class, as in Envoy
  classes_[status / 100 - 1]->Inc();
  if (!per_code_) return;
  stats::Counter* counter = codes_[status].load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &store_.GetCounter(absl::StrCat(prefix_, "_", status));
    codes_[status].store(counter, std::memory_order_release);
  }
  counter->Inc();
}

stats::Counter& GrpcStats::Get(std::atomic<stats::Counter*>& slot, absl::string_view name) {
  stats::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &store_.GetCounter(absl::StrCat(prefix_, ".", name));
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

void GrpcStats::Charge(int status) {
  Get(total_, "total").Inc();
  Get(status == 0 ? success_ : failure_, status == 0 ? "success" : "failure").Inc();
  if (status >= 0 && status < static_cast<int>(codes_.size())) {
    Get(codes_[status], absl::StrCat(status)).Inc();
  }
}

Http2CodecStats::Http2CodecStats(stats::Store& store, const std::string& prefix)
    : dropped_headers_with_underscores(store.GetCounter(prefix + "dropped_headers_with_underscores")),
      goaway_sent(store.GetCounter(prefix + "goaway_sent")),
      goaway_graceful_sent(store.GetCounter(prefix + "goaway_graceful_sent")),
      header_overflow(store.GetCounter(prefix + "header_overflow")),
      headers_cb_no_stream(store.GetCounter(prefix + "headers_cb_no_stream")),
      inbound_empty_frames_flood(store.GetCounter(prefix + "inbound_empty_frames_flood")),
      inbound_priority_frames_flood(store.GetCounter(prefix + "inbound_priority_frames_flood")),
      inbound_window_update_frames_flood(
          store.GetCounter(prefix + "inbound_window_update_frames_flood")),
      keepalive_timeout(store.GetCounter(prefix + "keepalive_timeout")),
      outbound_control_flood(store.GetCounter(prefix + "outbound_control_flood")),
      outbound_flood(store.GetCounter(prefix + "outbound_flood")),
      requests_rejected_with_underscores_in_headers(
          store.GetCounter(prefix + "requests_rejected_with_underscores_in_headers")),
      rx_messaging_error(store.GetCounter(prefix + "rx_messaging_error")),
      rx_reset(store.GetCounter(prefix + "rx_reset")),
      stream_refused_errors(store.GetCounter(prefix + "stream_refused_errors")),
      trailers(store.GetCounter(prefix + "trailers")),
      tx_reset(store.GetCounter(prefix + "tx_reset")) {}

void Http2CodecStats::Export(const http2::CodecStats& now, http2::CodecStats* exported) {
  auto add = [](stats::Counter& counter, uint64_t current, uint64_t* seen) {
    if (current != *seen) counter.Add(current - *seen);
    *seen = current;
  };
  add(dropped_headers_with_underscores, now.dropped_headers_with_underscores,
      &exported->dropped_headers_with_underscores);
  add(goaway_sent, now.goaway_sent, &exported->goaway_sent);
  add(goaway_graceful_sent, now.goaway_graceful_sent, &exported->goaway_graceful_sent);
  add(header_overflow, now.header_overflow, &exported->header_overflow);
  add(headers_cb_no_stream, now.headers_cb_no_stream, &exported->headers_cb_no_stream);
  add(inbound_empty_frames_flood, now.inbound_empty_frames_flood,
      &exported->inbound_empty_frames_flood);
  add(inbound_priority_frames_flood, now.inbound_priority_frames_flood,
      &exported->inbound_priority_frames_flood);
  add(inbound_window_update_frames_flood, now.inbound_window_update_frames_flood,
      &exported->inbound_window_update_frames_flood);
  add(keepalive_timeout, now.keepalive_timeout, &exported->keepalive_timeout);
  add(outbound_control_flood, now.outbound_control_flood, &exported->outbound_control_flood);
  add(outbound_flood, now.outbound_flood, &exported->outbound_flood);
  add(requests_rejected_with_underscores_in_headers,
      now.requests_rejected_with_underscores_in_headers,
      &exported->requests_rejected_with_underscores_in_headers);
  add(rx_messaging_error, now.rx_messaging_error, &exported->rx_messaging_error);
  add(rx_reset, now.rx_reset, &exported->rx_reset);
  add(stream_refused_errors, now.stream_refused_errors, &exported->stream_refused_errors);
  add(trailers, now.trailers, &exported->trailers);
  add(tx_reset, now.tx_reset, &exported->tx_reset);
  if (downstream_rq_too_many_premature_resets != nullptr) {
    add(*downstream_rq_too_many_premature_resets, now.downstream_rq_too_many_premature_resets,
        &exported->downstream_rq_too_many_premature_resets);
  }
}

// Binds "<prefix>.<name>" metrics for the struct constructors below.
struct StatScope {
  stats::Store& store;
  std::string prefix;
  stats::Counter& C(absl::string_view name) const {
    return store.GetCounter(absl::StrCat(prefix, ".", name));
  }
  stats::Gauge& G(absl::string_view name) const {
    return store.GetGauge(absl::StrCat(prefix, ".", name));
  }
  stats::Histogram& H(absl::string_view name) const {
    return store.GetHistogram(absl::StrCat(prefix, ".", name));
  }
};

ClusterStats::ClusterStats(stats::Store& store, const std::string& cluster)
    : ClusterStats(StatScope{store, absl::StrCat("cluster.", cluster)}) {}

ClusterStats::ClusterStats(const StatScope& s)
    : codes(s.store, s.prefix + ".upstream_rq", /*per_code=*/true),
      upstream_rq_total(s.C("upstream_rq_total")),
      upstream_rq_timeout(s.C("upstream_rq_timeout")),
      upstream_rq_rx_reset(s.C("upstream_rq_rx_reset")),
      upstream_rq_cancelled(s.C("upstream_rq_cancelled")),
      upstream_rq_retry(s.C("upstream_rq_retry")),
      upstream_rq_pending_total(s.C("upstream_rq_pending_total")),
      upstream_cx_total(s.C("upstream_cx_total")),
      upstream_cx_http1_total(s.C("upstream_cx_http1_total")),
      upstream_cx_http2_total(s.C("upstream_cx_http2_total")),
      upstream_cx_connect_fail(s.C("upstream_cx_connect_fail")),
      upstream_cx_connect_timeout(s.C("upstream_cx_connect_timeout")),
      upstream_cx_destroy(s.C("upstream_cx_destroy")),
      upstream_cx_destroy_local(s.C("upstream_cx_destroy_local")),
      upstream_cx_destroy_remote(s.C("upstream_cx_destroy_remote")),
      upstream_cx_idle_timeout(s.C("upstream_cx_idle_timeout")),
      upstream_cx_max_requests(s.C("upstream_cx_max_requests")),
      upstream_cx_none_healthy(s.C("upstream_cx_none_healthy")),
      upstream_cx_protocol_error(s.C("upstream_cx_protocol_error")),
      upstream_cx_rx_bytes_total(s.C("upstream_cx_rx_bytes_total")),
      upstream_cx_tx_bytes_total(s.C("upstream_cx_tx_bytes_total")),
      upstream_cx_active(s.G("upstream_cx_active")),
      upstream_rq_active(s.G("upstream_rq_active")),
      upstream_rq_pending_active(s.G("upstream_rq_pending_active")),
      membership_total(s.G("membership_total")),
      membership_healthy(s.G("membership_healthy")),
      upstream_rq_time(s.H("upstream_rq_time")),
      upstream_cx_connect_ms(s.H("upstream_cx_connect_ms")),
      grpc(s.store, s.prefix + ".grpc") {}

HttpStats::HttpStats(stats::Store& store, const std::string& stat_prefix)
    : HttpStats(StatScope{store, absl::StrCat("http.", stat_prefix)}) {}

HttpStats::HttpStats(const StatScope& s)
    : codes(s.store, s.prefix + ".downstream_rq", /*per_code=*/false),
      downstream_rq_total(s.C("downstream_rq_total")),
      downstream_rq_http1_total(s.C("downstream_rq_http1_total")),
      downstream_rq_http2_total(s.C("downstream_rq_http2_total")),
      downstream_cx_total(s.C("downstream_cx_total")),
      downstream_cx_http1_total(s.C("downstream_cx_http1_total")),
      downstream_cx_http2_total(s.C("downstream_cx_http2_total")),
      downstream_rq_too_many_premature_resets(s.C("downstream_rq_too_many_premature_resets")),
      downstream_cx_protocol_error(s.C("downstream_cx_protocol_error")),
      downstream_cx_destroy(s.C("downstream_cx_destroy")),
      downstream_cx_destroy_remote_active_rq(s.C("downstream_cx_destroy_remote_active_rq")),
      downstream_cx_idle_timeout(s.C("downstream_cx_idle_timeout")),
      downstream_cx_drain_close(s.C("downstream_cx_drain_close")),
      downstream_cx_max_requests_reached(s.C("downstream_cx_max_requests_reached")),
      downstream_cx_max_duration_reached(s.C("downstream_cx_max_duration_reached")),
      downstream_rq_timeout(s.C("downstream_rq_timeout")),
      downstream_rq_idle_timeout(s.C("downstream_rq_idle_timeout")),
      downstream_rq_header_timeout(s.C("downstream_rq_header_timeout")),
      downstream_rq_rx_reset(s.C("downstream_rq_rx_reset")),
      downstream_rq_too_large(s.C("downstream_rq_too_large")),
      rs_too_large(s.C("rs_too_large")),
      no_route(s.C("no_route")),
      no_cluster(s.C("no_cluster")),
      rq_direct_response(s.C("rq_direct_response")),
      rq_redirect(s.C("rq_redirect")),
      rq_total(s.C("rq_total")),
      rq_reset_after_downstream_response_started(s.C("rq_reset_after_downstream_response_started")),
      downstream_cx_active(s.G("downstream_cx_active")),
      downstream_rq_active(s.G("downstream_rq_active")),
      downstream_rq_time(s.H("downstream_rq_time")),
      downstream_cx_length_ms(s.H("downstream_cx_length_ms")) {}

ListenerStats::ListenerStats(stats::Store& store, const std::string& listener_prefix,
                             const std::string& http_stat_prefix)
    : downstream_cx_total(store.GetCounter(absl::StrCat("listener.", listener_prefix,
                                                        ".downstream_cx_total"))),
      downstream_cx_destroy(store.GetCounter(absl::StrCat("listener.", listener_prefix,
                                                          ".downstream_cx_destroy"))),
      downstream_cx_active(store.GetGauge(absl::StrCat("listener.", listener_prefix,
                                                       ".downstream_cx_active"))),
      http_codes(store,
                 absl::StrCat("listener.", listener_prefix, ".http.", http_stat_prefix,
                              ".downstream_rq"),
                 /*per_code=*/false) {}

ServerStats::ServerStats(stats::Store& store)
    : live(store.GetGauge("server.live")),
      state(store.GetGauge("server.state")),
      uptime(store.GetGauge("server.uptime")),
      concurrency(store.GetGauge("server.concurrency")),
      total_connections(store.GetGauge("server.total_connections")),
      days_until_first_cert_expiring(store.GetGauge("server.days_until_first_cert_expiring")) {}

ManagerStats::ManagerStats(stats::Store& store)
    : cluster_added(store.GetCounter("cluster_manager.cluster_added")),
      cluster_modified(store.GetCounter("cluster_manager.cluster_modified")),
      cluster_removed(store.GetCounter("cluster_manager.cluster_removed")),
      active_clusters(store.GetGauge("cluster_manager.active_clusters")),
      listener_added(store.GetCounter("listener_manager.listener_added")),
      listener_modified(store.GetCounter("listener_manager.listener_modified")),
      listener_removed(store.GetCounter("listener_manager.listener_removed")),
      listener_create_failure(store.GetCounter("listener_manager.listener_create_failure")),
      total_listeners_active(store.GetGauge("listener_manager.total_listeners_active")) {}

}  // namespace proxy
