// Hand-made frames fed to a server Session: every abuse and malformed-input case must end in its
// documented outcome (GOAWAY code, counter, status) without crashing.

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/http2/session.h"
#include "tests/unit/proxy/http2/http2_test_util.h"

namespace proxy::http2 {
namespace {

using testing::ClientStart;
using testing::DataFrame;
using testing::Frame;
using testing::GetRequest;
using testing::HeaderBlock;
using testing::Headers;
using testing::HeadersFrame;
using testing::PingFrame;
using testing::RawServer;
using testing::RstStreamFrame;
using testing::SettingsAck;
using testing::SettingsFrame;

// The connection ended with GOAWAY(code) on the wire and the same code in the status.
void ExpectGoAway(const RawServer& server, ErrorCode code) {
  EXPECT_FALSE(server.session.status().ok);
  EXPECT_EQ(server.session.status().goaway_code, code)
      << ErrorCodeName(server.session.status().goaway_code) << ": "
      << server.session.status().reason;
  EXPECT_TRUE(const_cast<RawServer&>(server).session.WantsClose());
  const testing::ParsedFrame* goaway = server.LastOfType(testing::kGoAway);
  ASSERT_NE(goaway, nullptr) << "no GOAWAY written";
  EXPECT_EQ(goaway->GoAwayCode(), code) << ErrorCodeName(goaway->GoAwayCode());
}

TEST(Http2AbuseTest, ValidClientIsServed) {
  RawServer server;
  EXPECT_TRUE(server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), true)).ok);
  EXPECT_EQ(server.visitor.streams[1].path, "/");
  EXPECT_TRUE(server.session.SubmitResponse(1, ResponseHeaders{200, nullptr}, true));
  server.Drain();
  EXPECT_TRUE(server.visitor.streams[1].closed);
  EXPECT_EQ(server.CountOfType(testing::kGoAway), 0);
}

TEST(Http2AbuseTest, InvalidPreface) {
  RawServer server;
  ConnectionStatus status = server.Feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_FALSE(status.ok);
  EXPECT_EQ(status.goaway_code, ErrorCode::kProtocolError);
  EXPECT_EQ(status.reason, "invalid HTTP/2 connection preface");
  EXPECT_TRUE(server.session.WantsClose());
  // Later input is ignored.
  EXPECT_FALSE(server.Feed(ClientStart()).ok);
}

TEST(Http2AbuseTest, PrefaceWithoutSettings) {
  RawServer server;
  EXPECT_FALSE(server.Feed(absl::StrCat(testing::ClientStart().substr(0, 24), PingFrame(1))).ok);
  ExpectGoAway(server, ErrorCode::kProtocolError);
}

// CVE-2023-44487: open and immediately reset streams. Envoy's rule trips once half of 500 are
// certain to be premature: at the 250th reset.
TEST(Http2AbuseTest, RapidResetClosesTheConnection) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck();
  for (uint32_t i = 0; i < 400; ++i) {
    const uint32_t id = 2 * i + 1;
    attack += HeadersFrame(id, GetRequest(), false) + RstStreamFrame(id, ErrorCode::kCancel);
  }
  EXPECT_FALSE(server.Feed(attack).ok);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.status().reason, "too many premature stream resets");
  EXPECT_EQ(server.session.stats().downstream_rq_too_many_premature_resets, 1u);
  EXPECT_EQ(server.session.stats().rx_reset, 250u);  // processing stopped at the verdict
}

TEST(Http2AbuseTest, ResetsAfterResponsesAreNotPremature) {
  RawServer server;
  server.Feed(ClientStart() + SettingsAck());
  for (uint32_t i = 0; i < 600; ++i) {
    const uint32_t id = 2 * i + 1;
    ASSERT_TRUE(server.Feed(HeadersFrame(id, GetRequest(), false)).ok) << i;
    // The proxy answered before the client reset (say, it stopped reading a large response).
    server.session.SubmitResponse(id, ResponseHeaders{200, nullptr}, false);
    server.Drain();
    ASSERT_TRUE(server.Feed(RstStreamFrame(id, ErrorCode::kCancel)).ok) << i;
  }
  EXPECT_EQ(server.session.stats().downstream_rq_too_many_premature_resets, 0u);
  EXPECT_EQ(server.session.stats().rx_reset, 600u);
}

TEST(Http2AbuseTest, ResetsOfLongLivedStreamsAreNotPremature) {
  absl::Time now = absl::UnixEpoch();
  SessionOptions options;
  options.clock = [&now] { return now; };
  RawServer server(options);
  server.Feed(ClientStart() + SettingsAck());
  for (uint32_t i = 0; i < 600; ++i) {
    const uint32_t id = 2 * i + 1;
    ASSERT_TRUE(server.Feed(HeadersFrame(id, GetRequest(), false)).ok);
    now += absl::Seconds(2);  // the stream lived longer than the 1 s minimum
    ASSERT_TRUE(server.Feed(RstStreamFrame(id, ErrorCode::kCancel)).ok) << i;
    now += absl::Seconds(1);  // keeps nghttp2's own RST_STREAM rate limit out of the picture
  }
  EXPECT_EQ(server.session.stats().downstream_rq_too_many_premature_resets, 0u);
}

// Under half premature after 500 streams: below Envoy's threshold.
TEST(Http2AbuseTest, SomePrematureResetsAreTolerated) {
  RawServer server;
  server.Feed(ClientStart() + SettingsAck());
  for (uint32_t i = 0; i < 600; ++i) {
    const uint32_t id = 2 * i + 1;
    if (i % 3 == 0) {
      ASSERT_TRUE(
          server
              .Feed(HeadersFrame(id, GetRequest(), false) + RstStreamFrame(id, ErrorCode::kCancel))
              .ok);
    } else {
      ASSERT_TRUE(server.Feed(HeadersFrame(id, GetRequest(), true)).ok);
      server.session.SubmitResponse(id, ResponseHeaders{200, nullptr}, true);
      server.Drain();
    }
  }
  EXPECT_TRUE(server.session.status().ok);
  EXPECT_EQ(server.session.stats().downstream_rq_too_many_premature_resets, 0u);
}

// With our check out of the way, nghttp2's own RST_STREAM token bucket (Debian's backport of the
// CVE-2023-44487 fix: burst 1000, 33/s) still ends the connection.
TEST(Http2AbuseTest, Nghttp2ResetRateLimitIsABackstop) {
  SessionOptions options;
  options.limits.premature_reset_total_stream_count = 1000000;
  RawServer server(options);
  std::string attack = ClientStart() + SettingsAck();
  for (uint32_t i = 0; i < 1100; ++i) {
    const uint32_t id = 2 * i + 1;
    attack += HeadersFrame(id, GetRequest(), false) + RstStreamFrame(id, ErrorCode::kCancel);
  }
  server.Feed(attack);
  EXPECT_FALSE(server.session.status().ok);
  const testing::ParsedFrame* goaway = server.LastOfType(testing::kGoAway);
  ASSERT_NE(goaway, nullptr);
  EXPECT_NE(goaway->GoAwayCode(), ErrorCode::kNoError);
  EXPECT_EQ(server.session.stats().downstream_rq_too_many_premature_resets, 0u);
}

// Resets the client provokes with bad frames count too (MadeYouReset, CVE-2025-8671).
TEST(Http2AbuseTest, ServerSideResetsCountAsPremature) {
  SessionOptions options;
  options.stream_error_on_invalid_http_messaging = true;  // keep the connection per bad stream
  RawServer server(options);
  server.Feed(ClientStart() + SettingsAck());
  Headers request = GetRequest();
  request.emplace_back("X-Upper", "1");  // nghttp2 resets the stream (RFC 9113 §8.2.1)
  for (uint32_t i = 0; i < 300 && server.session.status().ok; ++i) {
    server.Feed(HeadersFrame(2 * i + 1, request, true));
  }
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.stats().downstream_rq_too_many_premature_resets, 1u);
  EXPECT_EQ(server.session.stats().rx_messaging_error, 250u);
  EXPECT_EQ(server.session.stats().tx_reset, 250u);
  EXPECT_TRUE(server.visitor.streams.empty());  // none reached the owner
}

// CONTINUATION flood with big frames: the compressed block outgrows 2x the header list limit.
TEST(Http2AbuseTest, ContinuationFloodOfLargeFramesIsCut) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck();
  std::string block = HeaderBlock(GetRequest());
  attack += Frame(testing::kHeaders, 0, 1, block);  // no END_HEADERS
  Headers filler;
  for (int i = 0; i < 100; ++i) filler.emplace_back(absl::StrCat("x-", i), std::string(150, 'a'));
  const std::string chunk = HeaderBlock(filler);  // ~16 KiB of literals
  for (int i = 0; i < 20; ++i) attack += Frame(testing::kContinuation, 0, 1, chunk);
  server.Feed(attack);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.status().reason, "header block too large");
  EXPECT_EQ(server.session.stats().header_overflow, 1u);
  EXPECT_EQ(server.visitor.streams.count(1), 0u);
}

// Many small CONTINUATION frames: nghttp2's max_continuations (512) ends it.
TEST(Http2AbuseTest, ContinuationFloodOfSmallFramesIsCut) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck();
  attack += Frame(testing::kHeaders, 0, 1, HeaderBlock(GetRequest()));
  for (int i = 0; i < 600; ++i) {
    attack += Frame(testing::kContinuation, 0, 1, HeaderBlock({{"x-a", "b"}}));
  }
  server.Feed(attack);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.status().reason, "too many CONTINUATION frames");
  EXPECT_EQ(server.session.stats().header_overflow, 1u);
}

TEST(Http2AbuseTest, ContinuationsWithinLimitsAreFine) {
  RawServer server;
  std::string block = HeaderBlock(GetRequest());
  std::string attack = ClientStart() + SettingsAck();
  // The block split into 4 pieces: HEADERS + 3 CONTINUATION, the last with END_HEADERS.
  const size_t piece = block.size() / 4 + 1;
  attack += Frame(testing::kHeaders, testing::kEndStream, 1, block.substr(0, piece));
  attack += Frame(testing::kContinuation, 0, 1, block.substr(piece, piece));
  attack += Frame(testing::kContinuation, 0, 1, block.substr(2 * piece, piece));
  attack += Frame(testing::kContinuation, testing::kEndHeaders, 1, block.substr(3 * piece));
  EXPECT_TRUE(server.Feed(attack).ok);
  EXPECT_EQ(server.visitor.streams[1].method, "GET");
}

// SETTINGS flood in one read: every SETTINGS needs an ACK; nghttp2 holds at most
// max_outbound_control_frames of them.
TEST(Http2AbuseTest, SettingsFlood) {
  RawServer server;
  std::string attack = ClientStart();
  for (int i = 0; i < 1500; ++i) attack += SettingsFrame();
  server.Feed(attack);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.stats().outbound_control_flood, 1u);
}

// A SETTINGS frame with too many entries (CVE-2020-11080): nghttp2's max_settings (32).
TEST(Http2AbuseTest, OversizedSettingsFrame) {
  RawServer server;
  std::vector<std::pair<uint16_t, uint32_t>> entries(100, {0x3, 100});
  server.Feed(absl::StrCat(testing::ClientStart().substr(0, 24), SettingsFrame(entries)));
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  // nghttp2 handles this one itself; its GOAWAY debug data becomes the reason.
  EXPECT_EQ(server.session.status().reason, "SETTINGS: too many setting entries");
}

// New streams after our final GOAWAY are ignored by nghttp2 and leave no state behind.
TEST(Http2AbuseTest, StreamsAfterGoAwayLeaveNoState) {
  RawServer server;
  server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), true));
  server.session.SubmitGoAway(ErrorCode::kNoError);
  server.Drain();
  EXPECT_TRUE(server.Feed(HeadersFrame(3, GetRequest(), true)).ok);
  EXPECT_EQ(server.visitor.streams.count(3), 0u);
  EXPECT_EQ(server.session.ActiveStreams(), 1u);
  EXPECT_FALSE(server.session.WantsClose());
  server.session.SubmitResponse(1, ResponseHeaders{200, nullptr}, true);
  server.Drain();
  EXPECT_TRUE(server.session.WantsClose());
  EXPECT_TRUE(server.session.status().ok);
}

// PING flood from a client that does not read: ACKs pile up in our output until the control
// frame limit trips.
TEST(Http2AbuseTest, PingFloodWithoutReading) {
  RawServer server;
  server.Feed(ClientStart() + SettingsAck());
  ConnectionStatus status;
  for (int batch = 0; batch < 50 && status.ok; ++batch) {
    std::string pings;
    for (int i = 0; i < 100; ++i) pings += PingFrame(batch * 100 + i);
    status = server.Feed(pings, /*drain=*/false);
  }
  EXPECT_FALSE(status.ok);
  EXPECT_EQ(status.goaway_code, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.stats().outbound_control_flood, 1u);
  // Output stayed bounded: at most 1001 PING ACKs (17 bytes each) plus the opening frames.
  EXPECT_LT(server.session.PendingOutput().size(), 1001u * 17 + 256);
}

TEST(Http2AbuseTest, PingsFromAReadingClientAreFine) {
  RawServer server;
  server.Feed(ClientStart() + SettingsAck());
  for (int batch = 0; batch < 50; ++batch) {
    std::string pings;
    for (int i = 0; i < 100; ++i) pings += PingFrame(i);
    ASSERT_TRUE(server.Feed(pings).ok) << batch;
  }
  EXPECT_EQ(server.session.stats().outbound_control_flood, 0u);
}

TEST(Http2AbuseTest, OutboundFrameFlood) {
  SessionOptions options;
  options.limits.max_outbound_frames = 50;
  RawServer server(options);
  server.Feed(ClientStart() + SettingsAck(), /*drain=*/false);
  std::string pings;
  for (int i = 0; i < 60; ++i) pings += PingFrame(i);
  ConnectionStatus status = server.Feed(pings, /*drain=*/false);
  EXPECT_FALSE(status.ok);
  EXPECT_EQ(status.goaway_code, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(status.reason, "too many frames in the outbound queue");
  EXPECT_EQ(server.session.stats().outbound_flood, 1u);
}

// Envoy's max_consecutive_inbound_frames_with_empty_payload (1).
TEST(Http2AbuseTest, EmptyDataFrameFlood) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), false);
  attack += DataFrame(1, "", false);
  attack += DataFrame(1, "", false);
  server.Feed(attack);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.stats().inbound_empty_frames_flood, 1u);
}

TEST(Http2AbuseTest, EmptyFramesSeparatedByDataAreFine) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), false);
  for (int i = 0; i < 10; ++i) attack += DataFrame(1, "", false) + DataFrame(1, "x", false);
  attack += DataFrame(1, "", true);  // an empty frame with END_STREAM is normal
  EXPECT_TRUE(server.Feed(attack).ok);
  EXPECT_EQ(server.visitor.streams[1].body, "xxxxxxxxxx");
  EXPECT_TRUE(server.visitor.streams[1].end_stream);
}

TEST(Http2AbuseTest, EmptyContinuationFlood) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck();
  attack += Frame(testing::kHeaders, 0, 1, HeaderBlock(GetRequest()));
  attack += Frame(testing::kContinuation, 0, 1, "");
  attack += Frame(testing::kContinuation, 0, 1, "");
  server.Feed(attack);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.stats().inbound_empty_frames_flood, 1u);
}

TEST(Http2AbuseTest, PriorityFlood) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck();
  for (uint32_t i = 0; i < 101; ++i) attack += testing::PriorityFrame(2 * i + 1, 0);
  server.Feed(attack);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.stats().inbound_priority_frames_flood, 1u);
}

TEST(Http2AbuseTest, WindowUpdateFlood) {
  RawServer server;
  std::string attack = ClientStart() + SettingsAck();
  // 5 + 2 * (0 streams + 10 * 0 DATA frames sent) = 5 allowed.
  for (int i = 0; i < 6; ++i) attack += testing::WindowUpdateFrame(0, 1);
  server.Feed(attack);
  ExpectGoAway(server, ErrorCode::kEnhanceYourCalm);
  EXPECT_EQ(server.session.stats().inbound_window_update_frames_flood, 1u);
}

TEST(Http2AbuseTest, OversizedHeaderListGetsHeadersTooLarge) {
  SessionOptions options;
  options.max_header_list_bytes = 4096;
  RawServer server(options);
  Headers request = GetRequest();
  request.emplace_back("x-big", std::string(5000, 'a'));
  EXPECT_TRUE(server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, request, true)).ok);
  EXPECT_TRUE(server.visitor.streams[1].headers_too_large);
  EXPECT_EQ(server.session.stats().header_overflow, 1u);
  // The owner resets (or answers 431): the connection lives on.
  server.session.ResetStream(1, ErrorCode::kRefusedStream);
  server.Drain();
  EXPECT_TRUE(server.Feed(HeadersFrame(3, GetRequest(), true)).ok);
  EXPECT_EQ(server.visitor.streams[3].method, "GET");
}

TEST(Http2AbuseTest, OversizedTrailersGetHeadersTooLarge) {
  SessionOptions options;
  options.max_headers_count = 5;
  RawServer server(options);
  Headers trailers;
  for (int i = 0; i < 8; ++i) trailers.emplace_back(absl::StrCat("t", i), "v");
  server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), false) +
              DataFrame(1, "body", false) + HeadersFrame(1, trailers, true));
  EXPECT_TRUE(server.session.status().ok);
  EXPECT_EQ(server.visitor.streams[1].body, "body");
  EXPECT_TRUE(server.visitor.streams[1].headers_too_large);
  EXPECT_TRUE(server.visitor.streams[1].trailers.empty());
}

// Requests over SETTINGS_MAX_CONCURRENT_STREAMS before our SETTINGS are acknowledged: nghttp2
// refuses the extra stream with REFUSED_STREAM and the connection continues.
TEST(Http2AbuseTest, StreamsOverTheLimitAreRefused) {
  SessionOptions options;
  options.max_concurrent_streams = 1;
  RawServer server(options);
  server.Feed(ClientStart() + HeadersFrame(1, GetRequest(), false) +
              HeadersFrame(3, GetRequest(), false));
  EXPECT_TRUE(server.session.status().ok);
  const testing::ParsedFrame* rst = server.LastOfType(testing::kRstStream);
  ASSERT_NE(rst, nullptr);
  EXPECT_EQ(rst->stream_id, 3u);
  EXPECT_EQ(rst->RstCode(), ErrorCode::kRefusedStream);
  EXPECT_EQ(server.session.stats().stream_refused_errors, 1u);
  EXPECT_EQ(server.visitor.streams.count(3), 0u);
  EXPECT_EQ(server.session.ActiveStreams(), 1u);  // no state kept for the refused stream
  EXPECT_EQ(server.visitor.streams[1].method, "GET");
}

// Once our SETTINGS are acknowledged, exceeding the limit is a protocol error (nghttp2).
TEST(Http2AbuseTest, StreamsOverTheAcknowledgedLimitCloseTheConnection) {
  SessionOptions options;
  options.max_concurrent_streams = 1;
  RawServer server(options);
  server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), false) +
              HeadersFrame(3, GetRequest(), false));
  EXPECT_FALSE(server.session.status().ok);
  EXPECT_NE(server.LastOfType(testing::kGoAway), nullptr);
}

struct MalformedCase {
  const char* name;
  std::string frames;  // after the preface and SETTINGS
  ErrorCode code;
};

TEST(Http2AbuseTest, MalformedFramesCloseTheConnection) {
  std::string bad_hpack = Frame(testing::kHeaders, testing::kEndHeaders | testing::kEndStream, 1,
                                std::string("\xff\xff\xff\xff\xff\xff", 6));
  const std::vector<MalformedCase> cases = {
      {"PING with 7 bytes", Frame(testing::kPing, 0, 0, "1234567"), ErrorCode::kFrameSizeError},
      {"PING on a stream", Frame(testing::kPing, 0, 1, "12345678"), ErrorCode::kProtocolError},
      {"DATA on stream 0", DataFrame(0, "x", false), ErrorCode::kProtocolError},
      {"DATA on an idle stream", DataFrame(1, "x", false), ErrorCode::kProtocolError},
      {"HEADERS on stream 0", HeadersFrame(0, GetRequest(), true), ErrorCode::kProtocolError},
      {"HEADERS on an even stream", HeadersFrame(2, GetRequest(), true), ErrorCode::kProtocolError},
      {"WINDOW_UPDATE of 0", testing::WindowUpdateFrame(0, 0), ErrorCode::kProtocolError},
      {"SETTINGS with a bad length", Frame(testing::kSettings, 0, 0, "12345"),
       ErrorCode::kFrameSizeError},
      {"SETTINGS on a stream", Frame(testing::kSettings, 0, 1, ""), ErrorCode::kProtocolError},
      {"frame over SETTINGS_MAX_FRAME_SIZE", DataFrame(1, std::string(20000, 'x'), false),
       ErrorCode::kFrameSizeError},
      {"RST_STREAM on an idle stream", RstStreamFrame(5, ErrorCode::kCancel),
       ErrorCode::kProtocolError},
      {"PUSH_PROMISE from a client",
       Frame(testing::kPushPromise, testing::kEndHeaders, 1, std::string(4, '\0')),
       ErrorCode::kProtocolError},
      {"CONTINUATION without HEADERS",
       Frame(testing::kContinuation, testing::kEndHeaders, 1, HeaderBlock(GetRequest())),
       ErrorCode::kProtocolError},
      {"invalid HPACK", bad_hpack, ErrorCode::kCompressionError},
      {"window overflow", testing::WindowUpdateFrame(0, 0x7fffffff), ErrorCode::kFlowControlError},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.name);
    RawServer server;
    server.Feed(ClientStart() + SettingsAck() + c.frames);
    ExpectGoAway(server, c.code);
  }
}

// RFC 9113 §8 messaging errors: nghttp2 validates; by default (as Envoy) the connection closes
// with PROTOCOL_ERROR and rx_messaging_error counts.
struct MessagingCase {
  const char* name;
  Headers headers;
};

std::vector<MessagingCase> MessagingCases() {
  auto with = [](Headers extra) {
    Headers h = GetRequest();
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  };
  return {
      {"uppercase header name", with({{"X-Upper", "1"}})},
      {"connection header", with({{"connection", "keep-alive"}})},
      {"keep-alive header", with({{"keep-alive", "timeout=5"}})},
      {"proxy-connection header", with({{"proxy-connection", "keep-alive"}})},
      {"transfer-encoding header", with({{"transfer-encoding", "chunked"}})},
      {"upgrade header", with({{"upgrade", "websocket"}})},
      {"te other than trailers", with({{"te", "gzip"}})},
      {"missing :path", {{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}}},
      {"missing :method", {{":scheme", "http"}, {":path", "/"}, {":authority", "a"}}},
      {"duplicate :path", with({{":path", "/again"}})},
      {"unknown pseudo-header", with({{":foo", "bar"}})},
      {"pseudo-header after a regular one",
       {{":method", "GET"}, {"x-a", "1"}, {":scheme", "http"}, {":path", "/"}}},
      {"response pseudo-header in a request", with({{":status", "200"}})},
      {"space in a name", with({{"x a", "1"}})},
      {"newline in a value", with({{"x-a", "1\r\nx-b: 2"}})},
  };
}

TEST(Http2AbuseTest, MessagingErrorsCloseTheConnectionByDefault) {
  for (const MessagingCase& c : MessagingCases()) {
    SCOPED_TRACE(c.name);
    RawServer server;
    server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, c.headers, true));
    ExpectGoAway(server, ErrorCode::kProtocolError);
    EXPECT_EQ(server.session.stats().rx_messaging_error, 1u);
    EXPECT_EQ(server.visitor.streams.count(1), 0u);  // never reached the owner
  }
}

TEST(Http2AbuseTest, MessagingErrorsResetOnlyTheStreamWhenConfigured) {
  SessionOptions options;
  options.stream_error_on_invalid_http_messaging = true;
  for (const MessagingCase& c : MessagingCases()) {
    SCOPED_TRACE(c.name);
    RawServer server(options);
    EXPECT_TRUE(server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, c.headers, true)).ok);
    const testing::ParsedFrame* rst = server.LastOfType(testing::kRstStream);
    ASSERT_NE(rst, nullptr);
    EXPECT_EQ(rst->stream_id, 1u);
    EXPECT_EQ(rst->RstCode(), ErrorCode::kProtocolError);
    EXPECT_EQ(server.session.stats().rx_messaging_error, 1u);
    // The next request is served.
    EXPECT_TRUE(server.Feed(HeadersFrame(3, GetRequest(), true)).ok);
    EXPECT_EQ(server.visitor.streams[3].method, "GET");
  }
}

TEST(Http2AbuseTest, TeTrailersIsAccepted) {
  RawServer server;
  Headers request = GetRequest();
  request.emplace_back("te", "trailers");
  EXPECT_TRUE(server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, request, true)).ok);
  EXPECT_EQ(server.visitor.streams[1].headers, (Headers{{"te", "trailers"}}));
}

// nghttp2 checks content-length against the DATA received and resets the stream itself,
// without reporting it as an invalid frame: a stream error even with Envoy's default.
TEST(Http2AbuseTest, ContentLengthMismatchResetsTheStream) {
  RawServer server;
  Headers request = GetRequest();
  request[0].second = "POST";
  request.emplace_back("content-length", "3");
  EXPECT_TRUE(server
                  .Feed(ClientStart() + SettingsAck() + HeadersFrame(1, request, false) +
                        DataFrame(1, "too long", true))
                  .ok);
  const testing::ParsedFrame* rst = server.LastOfType(testing::kRstStream);
  ASSERT_NE(rst, nullptr);
  EXPECT_EQ(rst->RstCode(), ErrorCode::kProtocolError);
  // The owner saw the request head, so it gets the reset.
  EXPECT_TRUE(server.visitor.streams[1].reset);
  EXPECT_FALSE(server.visitor.streams[1].reset_remote);
  EXPECT_EQ(server.visitor.streams[1].reset_code, ErrorCode::kProtocolError);
  EXPECT_EQ(server.visitor.streams[1].body, "");  // the excess never reached the owner
}

// nghttp2 forgets closed streams, so a HEADERS frame on an id below the highest one seen is
// taken for a closed stream and ignored rather than failing the connection (RFC 9113 §5.1.1 asks
// for PROTOCOL_ERROR). Harmless: nothing reaches the owner.
TEST(Http2AbuseTest, HeadersOnAnOlderStreamIdAreIgnored) {
  RawServer server;
  EXPECT_TRUE(server
                  .Feed(ClientStart() + SettingsAck() + HeadersFrame(5, GetRequest(), true) +
                        HeadersFrame(3, GetRequest(), true))
                  .ok);
  EXPECT_EQ(server.visitor.streams.count(5), 1u);
  EXPECT_EQ(server.visitor.streams.count(3), 0u);
}

TEST(Http2AbuseTest, InputSplitAtEveryByteIsHandled) {
  RawServer server;
  const std::string bytes = ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), false) +
                            DataFrame(1, "hello", true);
  for (char c : bytes) ASSERT_TRUE(server.Feed(absl::string_view(&c, 1)).ok);
  EXPECT_EQ(server.visitor.streams[1].body, "hello");
  EXPECT_TRUE(server.visitor.streams[1].end_stream);
}

TEST(Http2AbuseTest, GoAwayCarriesTheLastProcessedStream) {
  RawServer server;
  server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), true) +
              HeadersFrame(3, GetRequest(), true) + DataFrame(0, "x", false));
  const testing::ParsedFrame* goaway = server.LastOfType(testing::kGoAway);
  ASSERT_NE(goaway, nullptr);
  EXPECT_EQ(goaway->GoAwayLastStreamId(), 3u);
  EXPECT_EQ(server.session.status().reason, "DATA: stream_id == 0");
}

// After ResetStream() the owner hears nothing more of the stream but its OnStreamReset, and the
// bytes still in flight do not leak connection window.
TEST(Http2AbuseTest, NothingIsDeliveredAfterALocalReset) {
  RawServer server;
  server.visitor.auto_consume = false;
  server.Feed(ClientStart() + SettingsAck() + HeadersFrame(1, GetRequest(), false));
  server.session.ResetStream(1, ErrorCode::kCancel);
  // Frames the client sent before it saw the RST_STREAM.
  server.Feed(DataFrame(1, "late", false) + HeadersFrame(1, {{"x-trailer", "1"}}, true),
              /*drain=*/false);
  server.Drain();
  EXPECT_EQ(server.visitor.streams[1].body, "");
  EXPECT_TRUE(server.visitor.streams[1].trailers.empty());
  EXPECT_TRUE(server.visitor.streams[1].reset);
  EXPECT_EQ(server.visitor.streams[1].final_events, 1);
  EXPECT_TRUE(server.session.status().ok);
}

}  // namespace
}  // namespace proxy::http2

namespace proxy::http2 {
namespace {

// An upstream that misbehaves toward our client session.
struct RawUpstream {
  explicit RawUpstream(const SessionOptions& options = SessionOptions())
      : session(Role::kClient, options, &visitor) {
    visitor.session = &session;
    stream_id =
        session.SubmitRequest(RequestHeaders{"GET", "http", "up", "/", nullptr}, true).stream_id;
    session.ConsumeOutput(session.PendingOutput().size());  // preface, SETTINGS, HEADERS
  }
  ConnectionStatus Feed(absl::string_view bytes) { return session.Receive(bytes); }

  testing::RecordingVisitor visitor;
  Session session;
  int32_t stream_id = 0;
};

Headers Status(absl::string_view code) { return {{":status", std::string(code)}}; }

TEST(Http2UpstreamAbuseTest, ValidResponse) {
  RawUpstream upstream;
  EXPECT_TRUE(
      upstream
          .Feed(SettingsFrame() + HeadersFrame(1, Status("200"), false) + DataFrame(1, "ok", true))
          .ok);
  EXPECT_EQ(upstream.visitor.streams[1].status, 200);
  EXPECT_EQ(upstream.visitor.streams[1].body, "ok");
}

TEST(Http2UpstreamAbuseTest, MalformedResponsesCloseTheConnection) {
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"uppercase header", HeadersFrame(1, {{":status", "200"}, {"X-Bad", "1"}}, true)},
      {"missing :status", HeadersFrame(1, {{"x-a", "1"}}, true)},
      {"request pseudo-header", HeadersFrame(1, {{":status", "200"}, {":path", "/"}}, true)},
      {"bad :status", HeadersFrame(1, Status("2000"), true)},
      {"1xx with END_STREAM", HeadersFrame(1, Status("103"), true)},
      {"connection header", HeadersFrame(1, {{":status", "200"}, {"connection", "close"}}, true)},
      {"trailers without END_STREAM",
       HeadersFrame(1, Status("200"), false) + HeadersFrame(1, {{"grpc-status", "0"}}, false)},
  };
  for (const auto& [name, frames] : cases) {
    SCOPED_TRACE(name);
    RawUpstream upstream;
    ConnectionStatus status = upstream.Feed(SettingsFrame() + frames);
    EXPECT_FALSE(status.ok);
    EXPECT_EQ(status.goaway_code, ErrorCode::kProtocolError);
    EXPECT_EQ(upstream.session.stats().rx_messaging_error, 1u);
    EXPECT_FALSE(upstream.session.CanOpenStream());
  }
}

std::string PushPromise(uint32_t stream_id, uint32_t promised_id) {
  std::string payload;
  testing::AppendU32(&payload, promised_id);
  payload += HeaderBlock(GetRequest("/pushed"));
  return Frame(testing::kPushPromise, testing::kEndHeaders, stream_id, payload);
}

// Push is disabled in our SETTINGS; once the server acknowledged them, a PUSH_PROMISE is a
// connection error (nghttp2).
TEST(Http2UpstreamAbuseTest, PushPromiseAfterSettingsAckClosesTheConnection) {
  RawUpstream upstream;
  ConnectionStatus status = upstream.Feed(SettingsFrame() + SettingsAck() + PushPromise(1, 2));
  EXPECT_FALSE(status.ok);
  EXPECT_EQ(status.goaway_code, ErrorCode::kProtocolError);
}

// Before the ACK the promise is legal; the promised stream is refused and never reaches the
// owner, and the response on stream 1 still arrives.
TEST(Http2UpstreamAbuseTest, PushPromiseBeforeSettingsAckIsRefused) {
  RawUpstream upstream;
  EXPECT_TRUE(upstream
                  .Feed(SettingsFrame() + PushPromise(1, 2) + HeadersFrame(2, Status("200"), true) +
                        HeadersFrame(1, Status("204"), true))
                  .ok);
  EXPECT_EQ(upstream.visitor.streams.count(2), 0u);
  EXPECT_EQ(upstream.visitor.streams[1].status, 204);
  EXPECT_EQ(upstream.session.ActiveStreams(), 0u);
}

TEST(Http2UpstreamAbuseTest, ResponseHeadersTooLarge) {
  SessionOptions options;
  options.max_header_list_bytes = 1024;
  RawUpstream upstream(options);
  Headers response = Status("200");
  response.emplace_back("x-big", std::string(2000, 'b'));
  EXPECT_TRUE(
      upstream
          .Feed(SettingsFrame() + HeadersFrame(1, response, false) + DataFrame(1, "dropped", true))
          .ok);
  EXPECT_TRUE(upstream.visitor.streams[1].headers_too_large);
  EXPECT_EQ(upstream.visitor.streams[1].status, 0);
  EXPECT_EQ(upstream.visitor.streams[1].body, "");
  EXPECT_EQ(upstream.session.stats().header_overflow, 1u);
}

TEST(Http2UpstreamAbuseTest, RefusedStreamIsReportedAsRemoteReset) {
  RawUpstream upstream;
  EXPECT_TRUE(upstream.Feed(SettingsFrame() + RstStreamFrame(1, ErrorCode::kRefusedStream)).ok);
  EXPECT_TRUE(upstream.visitor.streams[1].reset);
  EXPECT_TRUE(upstream.visitor.streams[1].reset_remote);
  EXPECT_EQ(upstream.visitor.streams[1].reset_code, ErrorCode::kRefusedStream);
  EXPECT_EQ(upstream.session.stats().stream_refused_errors, 1u);
  EXPECT_EQ(upstream.session.stats().rx_reset, 1u);
}

}  // namespace
}  // namespace proxy::http2
