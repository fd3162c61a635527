#include "proxy/http2/protocol_constraints.h"

namespace proxy::http2 {
namespace {

// RFC 9113 §6 frame type codes.
constexpr uint8_t kData = 0x0;
constexpr uint8_t kHeaders = 0x1;
constexpr uint8_t kPriority = 0x2;
constexpr uint8_t kWindowUpdate = 0x8;
constexpr uint8_t kContinuation = 0x9;

}  // namespace

absl::string_view ViolationReason(Violation violation) {
  switch (violation) {
    case Violation::kNone:
      return "";
    case Violation::kInboundEmptyFrames:
      return "too many consecutive frames with an empty payload";
    case Violation::kInboundPriorityFrames:
      return "too many PRIORITY frames";
    case Violation::kInboundWindowUpdateFrames:
      return "too many WINDOW_UPDATE frames";
    case Violation::kOutboundFrames:
      return "too many frames in the outbound queue";
    case Violation::kOutboundControlFrames:
      return "too many control frames in the outbound queue";
    case Violation::kPrematureResets:
      return "too many premature stream resets";
  }
  return "";
}

Violation ProtocolConstraints::TrackInboundFrame(uint8_t type, bool end_stream, bool empty) {
  switch (type) {
    case kHeaders:
    case kContinuation:
    case kData:
      consecutive_empty_frames_ = (empty && !end_stream) ? consecutive_empty_frames_ + 1 : 0;
      if (consecutive_empty_frames_ > limits_.max_consecutive_inbound_frames_with_empty_payload) {
        ++stats_->inbound_empty_frames_flood;
        return Violation::kInboundEmptyFrames;
      }
      break;
    case kPriority:
      ++inbound_priority_frames_;
      if (inbound_priority_frames_ >
          uint64_t{limits_.max_inbound_priority_frames_per_stream} * (1 + opened_streams_)) {
        ++stats_->inbound_priority_frames_flood;
        return Violation::kInboundPriorityFrames;
      }
      break;
    case kWindowUpdate:
      ++inbound_window_update_frames_;
      // Envoy's formula: a peer legitimately sends a few per stream and per DATA frame it receives.
      if (inbound_window_update_frames_ >
          5 + 2 * (opened_streams_ +
                   uint64_t{limits_.max_inbound_window_update_frames_per_data_frame_sent} *
                       outbound_data_frames_)) {
        ++stats_->inbound_window_update_frames_flood;
        return Violation::kInboundWindowUpdateFrames;
      }
      break;
    default:
      break;
  }
  return Violation::kNone;
}

Violation ProtocolConstraints::CheckOutbound(uint64_t frames, uint64_t control_frames) {
  if (frames > limits_.max_outbound_frames) {
    ++stats_->outbound_flood;
    return Violation::kOutboundFrames;
  }
  if (control_frames > limits_.max_outbound_control_frames) {
    ++stats_->outbound_control_flood;
    return Violation::kOutboundControlFrames;
  }
  return Violation::kNone;
}

Violation ProtocolConstraints::OnRequestClosed(bool premature) {
  ++closed_requests_;
  if (premature) ++premature_resets_;
  const uint64_t limit = limits_.premature_reset_total_stream_count;
  if (closed_requests_ < limit) {
    // Before the sample is complete, trip only when half of it is already certain to be bad.
    if (premature_resets_ * 2 < limit) return Violation::kNone;
  } else if (premature_resets_ * 2 < closed_requests_) {
    return Violation::kNone;
  }
  ++stats_->downstream_rq_too_many_premature_resets;
  return Violation::kPrematureResets;
}

}  // namespace proxy::http2
