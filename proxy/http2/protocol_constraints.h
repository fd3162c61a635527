#pragma once

// Flood and abuse accounting for one HTTP/2 connection: Envoy's ProtocolConstraints (inbound
// empty/PRIORITY/WINDOW_UPDATE frame floods, outbound frame and control frame queues) plus its
// connection manager's premature-reset check against Rapid Reset (CVE-2023-44487). Counters and
// thresholds only, no nghttp2: the Session reports frames and streams here and closes the
// connection with GOAWAY when a verdict says so. Each verdict moves its CodecStats counter once.
//
// Limits and formulas are Envoy's (config.core.v3.Http2ProtocolOptions and the runtime keys
// overload.premature_reset_*):
//   - more than max_consecutive_inbound_frames_with_empty_payload (1) HEADERS/CONTINUATION/DATA
//     frames in a row with no payload and no END_STREAM;
//   - PRIORITY frames > max_inbound_priority_frames_per_stream (100) * (1 + opened streams);
//   - WINDOW_UPDATE frames > 5 + 2 * (opened streams +
//     max_inbound_window_update_frames_per_data_frame_sent (10) * DATA frames sent);
//   - frames waiting to be written > max_outbound_frames (10000), of which PING/SETTINGS ACKs and
//     RST_STREAM > max_outbound_control_frames (1000);
//   - premature resets: at least half of the closed streams were reset early (before the response
//     started, within the minimum lifetime), checked once premature_reset_total_stream_count (500)
//     streams closed, or earlier when the bad half is already certain.

#include <cstdint>

#include "absl/strings/string_view.h"
#include "proxy/http2/codec_stats.h"

namespace proxy::http2 {

struct ProtocolLimits {
  uint32_t max_outbound_frames = 10000;
  uint32_t max_outbound_control_frames = 1000;
  uint32_t max_consecutive_inbound_frames_with_empty_payload = 1;
  uint32_t max_inbound_priority_frames_per_stream = 100;
  uint32_t max_inbound_window_update_frames_per_data_frame_sent = 10;
  uint32_t premature_reset_total_stream_count = 500;
};

enum class Violation {
  kNone,
  kInboundEmptyFrames,
  kInboundPriorityFrames,
  kInboundWindowUpdateFrames,
  kOutboundFrames,
  kOutboundControlFrames,
  kPrematureResets,
};

// A short, static description of `violation` for logs and the GOAWAY debug data.
absl::string_view ViolationReason(Violation violation);

class ProtocolConstraints {
 public:
  ProtocolConstraints(const ProtocolLimits& limits, CodecStats* stats)
      : limits_(limits), stats_(stats) {}

  // An inbound frame header (HTTP/2 frame type code). `empty`: no payload besides padding.
  Violation TrackInboundFrame(uint8_t type, bool end_stream, bool empty);
  void OnStreamOpened() { ++opened_streams_; }
  void OnDataFrameSent() { ++outbound_data_frames_; }

  // `frames` serialized or queued and not yet written, `control_frames` of them PING/SETTINGS ACKs
  // and RST_STREAM.
  Violation CheckOutbound(uint64_t frames, uint64_t control_frames);

  // A request stream closed; `premature` when it was reset early (see the header comment).
  Violation OnRequestClosed(bool premature);

 private:
  const ProtocolLimits limits_;
  CodecStats* stats_;
  uint32_t consecutive_empty_frames_ = 0;
  uint64_t inbound_priority_frames_ = 0;
  uint64_t inbound_window_update_frames_ = 0;
  uint64_t opened_streams_ = 0;
  uint64_t outbound_data_frames_ = 0;
  uint64_t closed_requests_ = 0;
  uint64_t premature_resets_ = 0;
};

}  // namespace proxy::http2
