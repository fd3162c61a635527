#include "proxy/http2/protocol_constraints.h"

#include "gtest/gtest.h"

namespace proxy::http2 {
namespace {

constexpr uint8_t kData = 0x0, kHeaders = 0x1, kPriority = 0x2, kWindowUpdate = 0x8,
                  kContinuation = 0x9, kPing = 0x6;

TEST(Http2ProtocolConstraintsTest, ConsecutiveEmptyFrames) {
  CodecStats stats;
  ProtocolConstraints constraints(ProtocolLimits(), &stats);
  EXPECT_EQ(constraints.TrackInboundFrame(kData, false, true), Violation::kNone);
  EXPECT_EQ(constraints.TrackInboundFrame(kPing, false, false), Violation::kNone);  // no reset
  EXPECT_EQ(constraints.TrackInboundFrame(kContinuation, false, true),
            Violation::kInboundEmptyFrames);
  EXPECT_EQ(stats.inbound_empty_frames_flood, 1u);
}

TEST(Http2ProtocolConstraintsTest, PayloadOrEndStreamResetsTheEmptyRun) {
  CodecStats stats;
  ProtocolConstraints constraints(ProtocolLimits(), &stats);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(constraints.TrackInboundFrame(kData, false, true), Violation::kNone);
    EXPECT_EQ(constraints.TrackInboundFrame(i % 2 ? kHeaders : kData, false, false),
              Violation::kNone);
    EXPECT_EQ(constraints.TrackInboundFrame(kData, false, true), Violation::kNone);
    EXPECT_EQ(constraints.TrackInboundFrame(kData, true, true), Violation::kNone);
  }
  EXPECT_EQ(stats.inbound_empty_frames_flood, 0u);
}

TEST(Http2ProtocolConstraintsTest, PriorityFramesScaleWithStreams) {
  CodecStats stats;
  ProtocolConstraints constraints(ProtocolLimits(), &stats);
  constraints.OnStreamOpened();
  for (int i = 0; i < 200; ++i) {  // 100 * (1 + 1)
    ASSERT_EQ(constraints.TrackInboundFrame(kPriority, false, false), Violation::kNone) << i;
  }
  EXPECT_EQ(constraints.TrackInboundFrame(kPriority, false, false),
            Violation::kInboundPriorityFrames);
  EXPECT_EQ(stats.inbound_priority_frames_flood, 1u);
}

TEST(Http2ProtocolConstraintsTest, WindowUpdatesScaleWithDataSent) {
  CodecStats stats;
  ProtocolConstraints constraints(ProtocolLimits(), &stats);
  constraints.OnStreamOpened();
  constraints.OnDataFrameSent();
  // 5 + 2 * (1 + 10 * 1) = 27.
  for (int i = 0; i < 27; ++i) {
    ASSERT_EQ(constraints.TrackInboundFrame(kWindowUpdate, false, false), Violation::kNone) << i;
  }
  EXPECT_EQ(constraints.TrackInboundFrame(kWindowUpdate, false, false),
            Violation::kInboundWindowUpdateFrames);
  EXPECT_EQ(stats.inbound_window_update_frames_flood, 1u);
}

TEST(Http2ProtocolConstraintsTest, OutboundLimits) {
  CodecStats stats;
  ProtocolLimits limits;
  limits.max_outbound_frames = 10;
  limits.max_outbound_control_frames = 3;
  ProtocolConstraints constraints(limits, &stats);
  EXPECT_EQ(constraints.CheckOutbound(10, 3), Violation::kNone);
  EXPECT_EQ(constraints.CheckOutbound(11, 0), Violation::kOutboundFrames);
  EXPECT_EQ(constraints.CheckOutbound(5, 4), Violation::kOutboundControlFrames);
  EXPECT_EQ(stats.outbound_flood, 1u);
  EXPECT_EQ(stats.outbound_control_flood, 1u);
}

TEST(Http2ProtocolConstraintsTest, PrematureResetsTripAtHalfOfTheSample) {
  CodecStats stats;
  ProtocolConstraints constraints(ProtocolLimits(), &stats);
  // 249 premature resets among early streams: not yet certain.
  for (int i = 0; i < 249; ++i) ASSERT_EQ(constraints.OnRequestClosed(true), Violation::kNone);
  EXPECT_EQ(constraints.OnRequestClosed(true), Violation::kPrematureResets);  // the 250th
  EXPECT_EQ(stats.downstream_rq_too_many_premature_resets, 1u);
}

TEST(Http2ProtocolConstraintsTest, PrematureResetsBelowHalfAreFine) {
  CodecStats stats;
  ProtocolConstraints constraints(ProtocolLimits(), &stats);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(constraints.OnRequestClosed(i % 5 < 2), Violation::kNone) << i;  // 40%
  }
  // Past the sample the running ratio decides: 60% bad from here on eventually trips.
  Violation last = Violation::kNone;
  for (int i = 0; i < 3000 && last == Violation::kNone; ++i) {
    last = constraints.OnRequestClosed(i % 5 < 4);
  }
  EXPECT_EQ(last, Violation::kPrematureResets);
}

}  // namespace
}  // namespace proxy::http2
