// A client Session and a server Session talking to each other in memory: round trips, streams,
// flow control and backpressure, trailers, resets, GOAWAY, concurrency limits.

#include "proxy/http2/session.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/proxy/http2/http2_test_util.h"

namespace proxy::http2 {
namespace {

using testing::Headers;
using testing::MakeHeaders;
using testing::SessionPair;
using testing::StreamLog;

RequestHeaders Get(const http::HeaderMap* headers, absl::string_view path = "/hello") {
  return RequestHeaders{"GET", "http", "example.com", path, headers};
}

// Opens a request from the client and returns its id.
int32_t Open(SessionPair& pair, const http::HeaderMap* headers, bool end_stream,
             absl::string_view method = "GET") {
  OpenResult result = pair.client.SubmitRequest(
      RequestHeaders{method, "http", "example.com", "/hello", headers}, end_stream);
  EXPECT_TRUE(result.ok()) << static_cast<int>(result.error);
  return result.stream_id;
}

TEST(Http2SessionTest, RequestAndResponseRoundTrip) {
  SessionPair pair;
  http::HeaderMap request_headers = MakeHeaders({{"user-agent", "test"}, {"accept", "*/*"}});
  const int32_t id = Open(pair, &request_headers, /*end_stream=*/true);
  EXPECT_EQ(id, 1);
  pair.Pump();

  ASSERT_EQ(pair.server_visitor.streams.count(1), 1u);
  const StreamLog& request = pair.server_visitor.streams[1];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.scheme, "http");
  EXPECT_EQ(request.authority, "example.com");
  EXPECT_EQ(request.path, "/hello");
  EXPECT_EQ(request.headers, (Headers{{"user-agent", "test"}, {"accept", "*/*"}}));
  EXPECT_TRUE(request.headers_end_stream);

  http::HeaderMap response_headers = MakeHeaders({{"content-type", "text/plain"}});
  ASSERT_TRUE(pair.server.SubmitResponse(1, ResponseHeaders{200, &response_headers}, false));
  EXPECT_EQ(pair.server.SubmitData(1, "hello ", false), SendResult::kOk);
  EXPECT_EQ(pair.server.SubmitData(1, "world", true), SendResult::kOk);
  pair.Pump();

  const StreamLog& response = pair.client_visitor.streams[1];
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers, (Headers{{"content-type", "text/plain"}}));
  EXPECT_FALSE(response.headers_end_stream);
  EXPECT_EQ(response.body, "hello world");
  EXPECT_TRUE(response.end_stream);
  // Both sides saw the stream complete, exactly once.
  EXPECT_TRUE(response.closed);
  EXPECT_EQ(response.final_events, 1);
  EXPECT_TRUE(pair.server_visitor.streams[1].closed);
  EXPECT_EQ(pair.server_visitor.streams[1].final_events, 1);
  EXPECT_EQ(pair.client.ActiveStreams(), 0u);
  EXPECT_EQ(pair.server.ActiveStreams(), 0u);
  EXPECT_TRUE(pair.client.status().ok);
  EXPECT_TRUE(pair.server.status().ok);
}

TEST(Http2SessionTest, RequestBodyAndTrailers) {
  SessionPair pair;
  const int32_t id = Open(pair, nullptr, /*end_stream=*/false, "POST");
  EXPECT_EQ(pair.client.SubmitData(id, "part1,", false), SendResult::kOk);
  EXPECT_EQ(pair.client.SubmitData(id, "part2", false), SendResult::kOk);
  http::HeaderMap trailers = MakeHeaders({{"x-checksum", "abc"}});
  EXPECT_TRUE(pair.client.SubmitTrailers(id, trailers));
  // The sending side has ended: nothing more may be queued.
  EXPECT_EQ(pair.client.SubmitData(id, "late", false), SendResult::kClosed);
  pair.Pump();

  const StreamLog& request = pair.server_visitor.streams[id];
  EXPECT_EQ(request.method, "POST");
  EXPECT_FALSE(request.headers_end_stream);
  EXPECT_EQ(request.body, "part1,part2");
  EXPECT_EQ(request.trailers, (Headers{{"x-checksum", "abc"}}));
  EXPECT_TRUE(request.end_stream);
  EXPECT_EQ(pair.server.stats().trailers, 1u);
}

TEST(Http2SessionTest, GrpcTrailersOnlyResponse) {
  SessionPair pair;
  http::HeaderMap request_headers =
      MakeHeaders({{"content-type", "application/grpc"}, {"te", "trailers"}});
  const int32_t id =
      pair.client
          .SubmitRequest(RequestHeaders{"POST", "http", "svc", "/pkg.Svc/Method", &request_headers},
                         false)
          .stream_id;
  pair.client.SubmitData(id, std::string("\0\0\0\0\0", 5), true);
  pair.Pump();
  EXPECT_EQ(pair.server_visitor.streams[id].headers,
            (Headers{{"content-type", "application/grpc"}, {"te", "trailers"}}));

  // HEADERS with :status 200, grpc-status and END_STREAM, no DATA, no trailers frame.
  http::HeaderMap response_headers = MakeHeaders(
      {{"content-type", "application/grpc"}, {"grpc-status", "14"}, {"grpc-message", "down"}});
  ASSERT_TRUE(pair.server.SubmitResponse(id, ResponseHeaders{200, &response_headers}, true));
  EXPECT_EQ(pair.server.SubmitData(id, "x", false), SendResult::kClosed);
  pair.Pump();

  const StreamLog& response = pair.client_visitor.streams[id];
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.headers_end_stream);
  EXPECT_EQ(response.headers[1], (std::pair<std::string, std::string>{"grpc-status", "14"}));
  EXPECT_TRUE(response.body.empty());
  EXPECT_TRUE(response.trailers.empty());
  EXPECT_TRUE(response.closed);
  EXPECT_EQ(pair.client.stats().trailers, 0u);
}

TEST(Http2SessionTest, GrpcResponseWithBodyAndTrailers) {
  SessionPair pair;
  const int32_t id = Open(pair, nullptr, true, "POST");
  pair.Pump();
  http::HeaderMap response_headers = MakeHeaders({{"content-type", "application/grpc"}});
  ASSERT_TRUE(pair.server.SubmitResponse(id, ResponseHeaders{200, &response_headers}, false));
  pair.server.SubmitData(id, "message", false);
  pair.Pump();  // the body goes out before the trailers exist
  http::HeaderMap trailers = MakeHeaders({{"grpc-status", "0"}});
  ASSERT_TRUE(pair.server.SubmitTrailers(id, trailers));
  pair.Pump();

  const StreamLog& response = pair.client_visitor.streams[id];
  EXPECT_EQ(response.body, "message");
  EXPECT_EQ(response.trailers, (Headers{{"grpc-status", "0"}}));
  EXPECT_TRUE(response.closed);
  EXPECT_EQ(pair.client.stats().trailers, 1u);
}

TEST(Http2SessionTest, TrailersRightAfterDataInOneBatch) {
  SessionPair pair;
  const int32_t id = Open(pair, nullptr, true);
  pair.Pump();
  ASSERT_TRUE(pair.server.SubmitResponse(id, ResponseHeaders{200, nullptr}, false));
  pair.server.SubmitData(id, "abc", false);
  http::HeaderMap trailers = MakeHeaders({{"grpc-status", "0"}});
  ASSERT_TRUE(pair.server.SubmitTrailers(id, trailers));
  // Capture the server's frames: DATA "abc" without END_STREAM, then HEADERS with END_STREAM.
  std::string out(pair.server.PendingOutput());
  std::vector<testing::ParsedFrame> frames = testing::ParseFrames(out);
  std::vector<uint8_t> types;
  for (const auto& f : frames) {
    if (f.stream_id == static_cast<uint32_t>(id)) types.push_back(f.type);
  }
  EXPECT_EQ(types, (std::vector<uint8_t>{testing::kHeaders, testing::kData, testing::kHeaders}));
  EXPECT_EQ(frames.back().flags & testing::kEndStream, testing::kEndStream);
  pair.Pump();
  EXPECT_EQ(pair.client_visitor.streams[id].body, "abc");
  EXPECT_TRUE(pair.client_visitor.streams[id].closed);
}

TEST(Http2SessionTest, InformationalThenFinalResponse) {
  SessionPair pair;
  http::HeaderMap request_headers = MakeHeaders({{"expect", "100-continue"}});
  const int32_t id = Open(pair, &request_headers, false, "PUT");
  pair.Pump();
  ASSERT_TRUE(pair.server.SubmitResponse(id, ResponseHeaders{100, nullptr}, false));
  pair.Pump();
  EXPECT_EQ(pair.client_visitor.streams[id].informational, std::vector<int>{100});
  pair.client.SubmitData(id, "body", true);
  pair.Pump();
  ASSERT_TRUE(pair.server.SubmitResponse(id, ResponseHeaders{201, nullptr}, true));
  pair.Pump();
  EXPECT_EQ(pair.client_visitor.streams[id].status, 201);
  EXPECT_TRUE(pair.client_visitor.streams[id].closed);
  EXPECT_EQ(pair.server_visitor.streams[id].body, "body");
}

TEST(Http2SessionTest, ManyConcurrentStreams) {
  SessionPair pair;
  std::vector<int32_t> ids;
  for (int i = 0; i < 90; ++i) {
    ASSERT_TRUE(pair.client.CanOpenStream());
    ids.push_back(Open(pair, nullptr, false, "POST"));
    pair.client.SubmitData(ids.back(), absl::StrCat("request ", i), true);
  }
  pair.Pump();
  ASSERT_EQ(pair.server_visitor.order.size(), ids.size());
  // Answer in reverse order, interleaved.
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    ASSERT_TRUE(pair.server.SubmitResponse(*it, ResponseHeaders{200, nullptr}, false));
    pair.server.SubmitData(*it, absl::StrCat("echo ", pair.server_visitor.streams[*it].body), true);
  }
  pair.Pump();
  for (int i = 0; i < 90; ++i) {
    const StreamLog& response = pair.client_visitor.streams[ids[i]];
    EXPECT_EQ(response.body, absl::StrCat("echo request ", i));
    EXPECT_TRUE(response.closed);
  }
  EXPECT_EQ(pair.client.ActiveStreams(), 0u);
  EXPECT_EQ(pair.server.ActiveStreams(), 0u);
}

// The receiver never consumes: the sender stops at the 64 KiB stream window; consuming resumes.
TEST(Http2SessionTest, FlowControlStopsAtWindowAndResumesOnConsume) {
  SessionPair pair;
  pair.client_visitor.auto_consume = false;
  const int32_t id = Open(pair, nullptr, true);
  pair.Pump();
  ASSERT_TRUE(pair.server.SubmitResponse(id, ResponseHeaders{200, nullptr}, false));

  const std::string chunk(16 * 1024, 'x');
  const size_t total = 1024 * 1024;
  size_t queued = 0;
  int full_results = 0;
  // The producer follows the backpressure contract: stop on kBufferFull.
  auto produce = [&] {
    while (queued < total) {
      const bool last = queued + chunk.size() == total;
      const SendResult result = pair.server.SubmitData(id, chunk, last);
      EXPECT_NE(result, SendResult::kClosed);
      queued += chunk.size();
      if (result == SendResult::kBufferFull) {
        ++full_results;
        break;
      }
    }
  };
  produce();
  pair.Pump();
  EXPECT_EQ(pair.client_visitor.received_bytes, 64u * 1024);  // exactly the stream window
  EXPECT_GT(full_results, 0);
  // Memory stays bounded: the send queue holds at most the limit plus one chunk.
  EXPECT_LE(pair.server.StreamSendBuffered(id), 64u * 1024 + chunk.size());

  // Consume and produce until done.
  for (int round = 0; round < 1000 && pair.client_visitor.received_bytes < total; ++round) {
    pair.client.ConsumeStreamData(id, pair.client_visitor.streams[id].body.size());
    pair.client_visitor.streams[id].body.clear();
    pair.Pump();
    if (pair.server_visitor.streams[id].writable_events > 0) {
      pair.server_visitor.streams[id].writable_events = 0;
      produce();
      pair.Pump();
    }
  }
  EXPECT_EQ(pair.client_visitor.received_bytes, total);
  EXPECT_TRUE(pair.client_visitor.streams[id].end_stream);
}

// Unconsumed streams together stop at the 1 MiB connection window. (The requests stay open: a
// stream that completes returns its unconsumed bytes to the connection window, as Envoy does.)
TEST(Http2SessionTest, ConnectionWindowBoundsAllStreams) {
  SessionPair pair;
  pair.client_visitor.auto_consume = false;
  std::vector<int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(Open(pair, nullptr, false, "POST"));
  pair.Pump();
  const std::string body(64 * 1024, 'y');
  for (int32_t id : ids) {
    pair.server.SubmitResponse(id, ResponseHeaders{200, nullptr}, false);
    pair.server.SubmitData(id, body, true);
  }
  pair.Pump();
  // 20 streams x 64 KiB would be 1.25 MiB; the connection window stops it at 1 MiB.
  EXPECT_EQ(pair.client_visitor.received_bytes, 1024u * 1024);
}

// Body bytes the owner never consumed come back to the connection window when the stream ends.
TEST(Http2SessionTest, UnconsumedBytesReturnToConnectionWindowOnClose) {
  SessionOptions client_options;
  client_options.initial_connection_window_size = 128 * 1024;
  SessionPair pair(client_options);
  pair.client_visitor.auto_consume = false;
  const std::string body(64 * 1024, 'z');
  for (int round = 0; round < 4; ++round) {
    const int32_t id = Open(pair, nullptr, true);
    pair.Pump();
    pair.server.SubmitResponse(id, ResponseHeaders{200, nullptr}, false);
    pair.server.SubmitData(id, body, true);
    pair.Pump();
    // Without the return, the third round would find the connection window empty.
    ASSERT_EQ(pair.client_visitor.streams[id].body.size(), body.size()) << "round " << round;
    ASSERT_TRUE(pair.client_visitor.streams[id].closed);
    pair.client.ConsumeStreamData(id, body.size());  // after close: ignored
  }
}

// A socket that takes little: serialized output stays under max_output_bytes plus one frame.
TEST(Http2SessionTest, OutputIsBoundedWhenTheSocketIsSlow) {
  SessionOptions server_options;
  server_options.max_output_bytes = 20000;
  server_options.stream_send_buffer_bytes = 4 * 1024 * 1024;
  SessionOptions client_options;
  client_options.initial_stream_window_size = 8 * 1024 * 1024;
  client_options.initial_connection_window_size = 8 * 1024 * 1024;
  SessionPair pair(client_options, server_options);
  const int32_t id = Open(pair, nullptr, true);
  pair.Pump();
  pair.server.SubmitResponse(id, ResponseHeaders{200, nullptr}, false);
  const std::string body(2 * 1024 * 1024, 'b');
  pair.server.SubmitData(id, body, true);
  size_t max_pending = 0;
  for (int i = 0; i < 100000 && !pair.client_visitor.streams[id].end_stream; ++i) {
    max_pending = std::max(max_pending, pair.server.PendingOutput().size());
    SessionPair::Move(&pair.server, &pair.client, 4096);
    SessionPair::Move(&pair.client, &pair.server, SIZE_MAX);
  }
  EXPECT_EQ(pair.client_visitor.streams[id].body.size(), body.size());
  EXPECT_LE(max_pending, 20000u + 16384 + 9);
}

TEST(Http2SessionTest, ClientResetReachesServer) {
  SessionPair pair;
  const int32_t id = Open(pair, nullptr, false, "POST");
  pair.Pump();
  pair.client.ResetStream(id, ErrorCode::kCancel);
  pair.Pump();
  const StreamLog& server_side = pair.server_visitor.streams[id];
  EXPECT_TRUE(server_side.reset);
  EXPECT_EQ(server_side.reset_code, ErrorCode::kCancel);
  EXPECT_TRUE(server_side.reset_remote);
  EXPECT_EQ(server_side.final_events, 1);
  const StreamLog& client_side = pair.client_visitor.streams[id];
  EXPECT_TRUE(client_side.reset);
  EXPECT_FALSE(client_side.reset_remote);
  EXPECT_EQ(client_side.final_events, 1);
  EXPECT_EQ(pair.client.stats().tx_reset, 1u);
  EXPECT_EQ(pair.server.stats().rx_reset, 1u);
  // Submitting on the dead stream fails cleanly.
  EXPECT_EQ(pair.client.SubmitData(id, "x", true), SendResult::kClosed);
  EXPECT_FALSE(pair.server.SubmitResponse(id, ResponseHeaders{200, nullptr}, true));
}

TEST(Http2SessionTest, ServerResetReachesClient) {
  SessionPair pair;
  const int32_t id = Open(pair, nullptr, true);
  pair.Pump();
  pair.server.ResetStream(id, ErrorCode::kInternalError);
  pair.Pump();
  EXPECT_TRUE(pair.client_visitor.streams[id].reset);
  EXPECT_EQ(pair.client_visitor.streams[id].reset_code, ErrorCode::kInternalError);
  EXPECT_TRUE(pair.client_visitor.streams[id].reset_remote);
  EXPECT_FALSE(pair.server_visitor.streams[id].reset_remote);
  // Resets the proxy asks for are not premature resets.
  EXPECT_EQ(pair.server.stats().downstream_rq_too_many_premature_resets, 0u);
}

TEST(Http2SessionTest, GracefulGoAwayLetsOpenStreamsFinish) {
  SessionPair pair;
  const int32_t id = Open(pair, nullptr, true);
  pair.Pump();

  pair.server.SubmitShutdownNotice();
  pair.Pump();
  ASSERT_EQ(pair.client_visitor.goaways.size(), 1u);
  EXPECT_EQ(pair.client_visitor.goaways[0].first, 0x7fffffff);
  EXPECT_EQ(pair.client_visitor.goaways[0].second, ErrorCode::kNoError);
  EXPECT_FALSE(pair.client.CanOpenStream());
  EXPECT_EQ(pair.client.SubmitRequest(Get(nullptr), true).error, OpenError::kGoingAway);

  pair.server.SubmitGoAway(ErrorCode::kNoError);
  pair.Pump();
  ASSERT_EQ(pair.client_visitor.goaways.size(), 2u);
  EXPECT_EQ(pair.client_visitor.goaways[1].first, id);
  EXPECT_FALSE(pair.server.WantsClose());  // stream 1 is still open

  pair.server.SubmitResponse(id, ResponseHeaders{200, nullptr}, true);
  pair.Pump();
  EXPECT_TRUE(pair.client_visitor.streams[id].closed);
  EXPECT_TRUE(pair.server.WantsClose());
  EXPECT_TRUE(pair.client.WantsClose());
  EXPECT_TRUE(pair.server.status().ok);
  EXPECT_EQ(pair.server.stats().goaway_graceful_sent, 1u);
  EXPECT_EQ(pair.server.stats().goaway_sent, 2u);
}

// Requests read in the same batch as the one that made the server send GOAWAY, but behind it:
// the GOAWAY says they were not processed (the client may retry them elsewhere), so they are
// refused and never reach the server's owner.
TEST(Http2SessionTest, RequestsBehindOurGoAwayInTheSameReadAreRefused) {
  SessionPair pair;
  pair.server_visitor.goaway_on_request = 1;
  const int32_t first = Open(pair, nullptr, true);
  const int32_t second = Open(pair, nullptr, true);
  const int32_t third = Open(pair, nullptr, true);
  pair.Pump();  // the three HEADERS frames arrive in one Receive
  EXPECT_EQ(pair.server_visitor.order, (std::vector<int32_t>{first}));
  ASSERT_EQ(pair.client_visitor.goaways.size(), 1u);
  EXPECT_EQ(pair.client_visitor.goaways[0].first, first);
  for (const int32_t id : {second, third}) {
    EXPECT_TRUE(pair.client_visitor.streams[id].reset) << id;
    EXPECT_EQ(pair.client_visitor.streams[id].reset_code, ErrorCode::kRefusedStream) << id;
  }
  EXPECT_TRUE(pair.server.status().ok);
}

TEST(Http2SessionTest, GoAwayRefusesStreamsTheServerNeverSaw) {
  SessionPair pair;
  pair.Pump();  // settings exchanged, no streams
  pair.server.SubmitGoAway(ErrorCode::kNoError);
  // The client opens streams before it reads the GOAWAY.
  const int32_t a = Open(pair, nullptr, true);
  const int32_t b = Open(pair, nullptr, true);
  SessionPair::Move(&pair.server, &pair.client, SIZE_MAX);  // GOAWAY(last 0) arrives first
  for (int32_t id : {a, b}) {
    const StreamLog& log = pair.client_visitor.streams[id];
    EXPECT_TRUE(log.reset) << id;
    EXPECT_EQ(log.reset_code, ErrorCode::kRefusedStream);
    EXPECT_TRUE(log.reset_remote);  // safe to retry elsewhere
  }
  EXPECT_EQ(pair.client.stats().stream_refused_errors, 2u);
  EXPECT_EQ(pair.client.SubmitRequest(Get(nullptr), true).error, OpenError::kGoingAway);
}

TEST(Http2SessionTest, ClientRespectsPeerMaxConcurrentStreams) {
  SessionOptions server_options;
  server_options.max_concurrent_streams = 2;
  SessionPair pair(SessionOptions(), server_options);
  // Before the server's SETTINGS nghttp2 assumes 100.
  EXPECT_EQ(pair.client.PeerMaxConcurrentStreams(), 100u);
  pair.Pump();
  EXPECT_EQ(pair.client.PeerMaxConcurrentStreams(), 2u);

  const int32_t a = Open(pair, nullptr, true);
  Open(pair, nullptr, true);
  EXPECT_FALSE(pair.client.CanOpenStream());
  OpenResult third = pair.client.SubmitRequest(Get(nullptr), true);
  EXPECT_EQ(third.error, OpenError::kTooManyStreams);
  pair.Pump();
  pair.server.SubmitResponse(a, ResponseHeaders{204, nullptr}, true);
  pair.Pump();
  EXPECT_TRUE(pair.client.CanOpenStream());
  EXPECT_EQ(pair.server.stats().stream_refused_errors, 0u);
}

TEST(Http2SessionTest, HeaderListOverTheLimitIsReportedFor431) {
  SessionOptions server_options;
  server_options.max_header_list_bytes = 1024;
  SessionPair pair(SessionOptions(), server_options);
  http::HeaderMap big = MakeHeaders({{"x-big", std::string(2000, 'v')}});
  const int32_t id = Open(pair, &big, false, "POST");
  pair.client.SubmitData(id, "body that is dropped", true);
  pair.Pump();

  const StreamLog& server_side = pair.server_visitor.streams[id];
  EXPECT_TRUE(server_side.headers_too_large);
  EXPECT_TRUE(server_side.method.empty());  // no request head delivered
  EXPECT_TRUE(server_side.body.empty());    // the body is dropped
  EXPECT_EQ(pair.server.stats().header_overflow, 1u);
  EXPECT_TRUE(pair.server.status().ok);  // a stream matter, not a connection error

  ASSERT_TRUE(pair.server.SubmitResponse(id, ResponseHeaders{431, nullptr}, true));
  pair.Pump();
  EXPECT_EQ(pair.client_visitor.streams[id].status, 431);
  EXPECT_TRUE(pair.server_visitor.streams[id].closed);
}

TEST(Http2SessionTest, HeaderCountOverTheLimit) {
  SessionOptions server_options;
  server_options.max_headers_count = 10;  // pseudo-headers count too (4 here)
  SessionPair pair(SessionOptions(), server_options);
  Headers pairs;
  for (int i = 0; i < 7; ++i) pairs.emplace_back(absl::StrCat("x-h", i), "v");
  http::HeaderMap headers = MakeHeaders(pairs);
  const int32_t id = Open(pair, &headers, true);
  pair.Pump();
  EXPECT_TRUE(pair.server_visitor.streams[id].headers_too_large);
  EXPECT_EQ(pair.server.stats().header_overflow, 1u);

  // Six regular + four pseudo = 10: accepted.
  pairs.pop_back();
  http::HeaderMap fits = MakeHeaders(pairs);
  const int32_t ok = Open(pair, &fits, true);
  pair.Pump();
  EXPECT_FALSE(pair.server_visitor.streams[ok].headers_too_large);
  EXPECT_EQ(pair.server_visitor.streams[ok].headers.size(), 6u);
}

TEST(Http2SessionTest, CookieCrumbsCountAgainstTheHeaderLimit) {
  SessionOptions server_options;
  server_options.max_headers_count = 20;
  SessionPair pair(SessionOptions(), server_options);
  Headers crumbs;
  for (int i = 0; i < 30; ++i) crumbs.emplace_back("cookie", absl::StrCat("c", i, "=1"));
  http::HeaderMap headers = MakeHeaders(crumbs);
  const int32_t id = Open(pair, &headers, true);
  pair.Pump();
  EXPECT_TRUE(pair.server_visitor.streams[id].headers_too_large);
}

TEST(Http2SessionTest, UnderscoreHeadersRejectedOrDropped) {
  {
    SessionOptions server_options;
    server_options.headers_with_underscores = UnderscoreHeaderAction::kRejectRequest;
    SessionPair pair(SessionOptions(), server_options);
    http::HeaderMap headers = MakeHeaders({{"x_user", "1"}});
    const int32_t id = Open(pair, &headers, true);
    pair.Pump();
    EXPECT_EQ(pair.server.stats().requests_rejected_with_underscores_in_headers, 1u);
    EXPECT_EQ(pair.server_visitor.streams.count(id), 0u);  // never announced to the owner
    EXPECT_TRUE(pair.client_visitor.streams[id].reset);
    EXPECT_TRUE(pair.client_visitor.streams[id].reset_remote);
    EXPECT_TRUE(pair.server.status().ok);
  }
  {
    SessionOptions server_options;
    server_options.headers_with_underscores = UnderscoreHeaderAction::kDropHeader;
    SessionPair pair(SessionOptions(), server_options);
    http::HeaderMap headers = MakeHeaders({{"x_user", "1"}, {"x-ok", "2"}});
    const int32_t id = Open(pair, &headers, true);
    pair.Pump();
    EXPECT_EQ(pair.server.stats().dropped_headers_with_underscores, 1u);
    EXPECT_EQ(pair.server_visitor.streams[id].headers, (Headers{{"x-ok", "2"}}));
  }
}

TEST(Http2SessionTest, PingAck) {
  SessionPair pair;
  pair.client.SubmitPing(0x0102030405060708ull);
  pair.Pump();
  EXPECT_EQ(pair.client_visitor.ping_acks, std::vector<uint64_t>{0x0102030405060708ull});
}

TEST(Http2SessionTest, KeepaliveTimeoutEndsTheConnection) {
  SessionPair pair;
  pair.Pump();
  pair.client.OnKeepaliveTimeout();
  EXPECT_EQ(pair.client.stats().keepalive_timeout, 1u);
  EXPECT_FALSE(pair.client.status().ok);
  EXPECT_TRUE(pair.client.WantsClose());
  EXPECT_FALSE(pair.client.CanOpenStream());
}

TEST(Http2SessionTest, ServerRoleCannotOpenStreams) {
  SessionPair pair;
  EXPECT_EQ(pair.server.SubmitRequest(Get(nullptr), true).error, OpenError::kRejected);
  EXPECT_FALSE(pair.server.CanOpenStream());
  EXPECT_FALSE(pair.client.SubmitResponse(1, ResponseHeaders{200, nullptr}, true));
}

TEST(Http2SessionTest, ServerSessionOptionsFromListenerConfig) {
  xds::HttpConnectionManagerConfig config;
  config.max_request_headers_kb = 32;
  config.max_headers_count = 50;
  config.http2.max_concurrent_streams = 7;
  config.http2.initial_stream_window_size = 1 << 20;
  config.http2.max_outbound_frames = 123;
  config.http2.max_consecutive_inbound_frames_with_empty_payload = 4;
  config.http2.max_inbound_priority_frames_per_stream = 5;
  config.http2.max_inbound_window_update_frames_per_data_frame_sent = 6;
  SessionOptions options = ServerSessionOptions(config);
  EXPECT_EQ(options.max_header_list_bytes, 32u * 1024);
  EXPECT_EQ(options.max_headers_count, 50u);
  EXPECT_EQ(options.max_concurrent_streams, 7u);
  EXPECT_EQ(options.initial_stream_window_size, 1u << 20);
  EXPECT_EQ(options.initial_connection_window_size, 1048576u);
  EXPECT_EQ(options.limits.max_outbound_frames, 123u);
  EXPECT_EQ(options.limits.max_outbound_control_frames, 1000u);
  EXPECT_EQ(options.limits.max_consecutive_inbound_frames_with_empty_payload, 4u);
  EXPECT_EQ(options.limits.max_inbound_priority_frames_per_stream, 5u);
  EXPECT_EQ(options.limits.max_inbound_window_update_frames_per_data_frame_sent, 6u);
}

}  // namespace
}  // namespace proxy::http2

namespace proxy::http2 {
namespace {

// The backpressure contract end to end, as the proxy will use it: client A ↔ [server session
// P1 | relay | client session P2] ↔ upstream B. Upstream body bytes are consumed on P2 only once
// P1 accepted them below its limit; the rest are consumed when P1 says the stream is writable.
class Relay {
 public:
  Relay()
      : p1_(Role::kServer, SessionOptions(), &down_), p2_(Role::kClient, SessionOptions(), &up_) {
    down_.relay = this;
    up_.relay = this;
  }

  Session& p1() { return p1_; }
  Session& p2() { return p2_; }
  size_t withheld() const { return withheld_; }

 private:
  struct Downstream : SessionVisitor {
    Relay* relay;
    void OnRequestHeaders(int32_t id, const RequestHeaders& request, bool end_stream) override {
      relay->down_id_ = id;
      relay->up_id_ = relay->p2_.SubmitRequest(request, end_stream).stream_id;
    }
    void OnStreamWritable(int32_t) override {
      relay->p2_.ConsumeStreamData(relay->up_id_, relay->withheld_);
      relay->withheld_ = 0;
    }
  };
  struct Upstream : SessionVisitor {
    Relay* relay;
    void OnResponseHeaders(int32_t, const ResponseHeaders& response, bool end_stream) override {
      relay->p1_.SubmitResponse(relay->down_id_, response, end_stream);
    }
    void OnData(int32_t id, absl::string_view data, bool end_stream) override {
      const SendResult result = relay->p1_.SubmitData(relay->down_id_, data, end_stream);
      if (result == SendResult::kOk) {
        relay->p2_.ConsumeStreamData(id, data.size());
      } else {
        relay->withheld_ += data.size();  // consumed on OnStreamWritable
      }
    }
  };

  Downstream down_;
  Upstream up_;
  Session p1_;
  Session p2_;
  int32_t down_id_ = 0;
  int32_t up_id_ = 0;
  size_t withheld_ = 0;
};

TEST(Http2SessionTest, RelayBackpressureKeepsTheProxyBounded) {
  testing::RecordingVisitor a_visitor, b_visitor;
  a_visitor.auto_consume = false;  // the downstream client reads slowly
  Session a(Role::kClient, SessionOptions(), &a_visitor);
  Session b(Role::kServer, SessionOptions(), &b_visitor);
  a_visitor.session = &a;
  b_visitor.session = &b;
  Relay relay;
  auto pump = [&] {
    for (int i = 0; i < 10000; ++i) {
      uint64_t moved = SessionPair::Move(&a, &relay.p1(), SIZE_MAX);
      moved += SessionPair::Move(&relay.p1(), &a, SIZE_MAX);
      moved += SessionPair::Move(&relay.p2(), &b, SIZE_MAX);
      moved += SessionPair::Move(&b, &relay.p2(), SIZE_MAX);
      if (moved == 0) break;
    }
  };

  const int32_t id = a.SubmitRequest(Get(nullptr), true).stream_id;
  pump();
  ASSERT_EQ(b_visitor.order.size(), 1u);
  const int32_t upstream_id = b_visitor.order[0];
  std::string body;
  for (int i = 0; body.size() < 4 * 1024 * 1024; ++i) body += absl::StrCat(i, ",");
  b.SubmitResponse(upstream_id, ResponseHeaders{200, nullptr}, false);
  b.SubmitData(upstream_id, body, true);
  pump();

  // A consumed nothing: it holds one stream window; the proxy holds at most its send queue limit
  // plus one upstream window; the rest waits at the origin.
  EXPECT_EQ(a_visitor.received_bytes, 64u * 1024);
  EXPECT_LE(relay.p1().StreamSendBuffered(1), 64u * 1024 + 64 * 1024);
  EXPECT_GT(b.StreamSendBuffered(upstream_id), body.size() - 256 * 1024);

  // A reads; everything arrives intact.
  for (int round = 0; round < 10000 && !a_visitor.streams[id].end_stream; ++round) {
    a.ConsumeStreamData(id, a_visitor.received_bytes);
    a_visitor.received_bytes = 0;
    pump();
    EXPECT_LE(relay.p1().StreamSendBuffered(1), 64u * 1024 + 64 * 1024);
  }
  EXPECT_EQ(a_visitor.streams[id].body, body);
  EXPECT_TRUE(a_visitor.streams[id].closed);
  EXPECT_EQ(relay.withheld(), 0u);
}

}  // namespace
}  // namespace proxy::http2
