#pragma once

// Counters of one HTTP/2 connection's codec, named after Envoy's `http2.*` codec stats
// (source/common/http/http2/codec_stats.h) so the proxy can export them under those names. Plain
// integers: a Session is used by one worker thread; the connection layer adds these into its
// per-worker metric shards (or reads them when the connection closes).
//
// Implemented here (Envoy name = field name):
//   dropped_headers_with_underscores, goaway_sent, goaway_graceful_sent, header_overflow,
//   headers_cb_no_stream, inbound_empty_frames_flood, inbound_priority_frames_flood,
//   inbound_window_update_frames_flood, keepalive_timeout, outbound_control_flood,
//   outbound_flood, requests_rejected_with_underscores_in_headers, rx_messaging_error, rx_reset,
//   stream_refused_errors, trailers, tx_reset.
// Plus one connection-manager stat Envoy keeps under `http.<stat_prefix>.`:
//   downstream_rq_too_many_premature_resets (the rapid reset guard, CVE-2023-44487).
// Not implemented: metadata_empty_frames (no METADATA support), tx_flush_timeout (a timer of the
// connection layer), too_many_header_frames (removed from current Envoy; nghttp2's messaging
// checks reject such frames first and they count as rx_messaging_error), and the gauges
// (streams_active, pending_send_bytes... are available from Session accessors).

#include <cstdint>

namespace proxy::http2 {

struct CodecStats {
  uint64_t dropped_headers_with_underscores = 0;
  uint64_t goaway_sent = 0;
  uint64_t goaway_graceful_sent = 0;
  uint64_t header_overflow = 0;
  uint64_t headers_cb_no_stream = 0;
  uint64_t inbound_empty_frames_flood = 0;
  uint64_t inbound_priority_frames_flood = 0;
  uint64_t inbound_window_update_frames_flood = 0;
  uint64_t keepalive_timeout = 0;
  uint64_t outbound_control_flood = 0;
  uint64_t outbound_flood = 0;
  uint64_t requests_rejected_with_underscores_in_headers = 0;
  uint64_t rx_messaging_error = 0;
  uint64_t rx_reset = 0;
  uint64_t stream_refused_errors = 0;
  uint64_t trailers = 0;
  uint64_t tx_reset = 0;
  // http.<stat_prefix>.downstream_rq_too_many_premature_resets in Envoy.
  uint64_t downstream_rq_too_many_premature_resets = 0;
};

}  // namespace proxy::http2
