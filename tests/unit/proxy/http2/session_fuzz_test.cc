// Mutated peer traffic into a Session, both roles (a client's bytes into a server, a server's into
// a client), in the spirit of Envoy's codec fuzzing but bounded and seeded (every run is the same;
// a failure names its seed): whatever arrives, the session ends in a defined state (still OK, or
// failed with a reason) and never crashes, trips a sanitizer, reports a stream ended twice, or
// keeps output it cannot hand out. The server answers every request it is given, so the send path
// runs against the same garbage.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/http2/session.h"
#include "tests/unit/proxy/http2/http2_test_util.h"

namespace proxy::http2 {
namespace {

using testing::MakeHeaders;
using testing::RecordingVisitor;
using testing::SessionPair;

// What a busy client sends: its preface and SETTINGS, GETs with the usual headers and many
// cookie crumbs, POSTs with bodies and trailers, a reset, a PING, and window updates.
std::string ClientTraffic() {
  SessionPair pair;
  Session& client = pair.client;
  http::HeaderMap headers = MakeHeaders({{"user-agent", "fuzz/1.0"},
                                         {"accept", "*/*"},
                                         {"cookie", "a=1"},
                                         {"cookie", "b=2"},
                                         {"x-long", std::string(300, 'v')}});
  http::HeaderMap trailers = MakeHeaders({{"x-checksum", "abc"}});
  std::string bytes;
  auto take = [&] {
    absl::string_view out = client.PendingOutput();
    bytes.append(out.data(), out.size());
    client.ConsumeOutput(out.size());
  };
  for (int i = 0; i < 6; ++i) {
    const bool post = i % 2 == 1;
    OpenResult opened =
        client.SubmitRequest(RequestHeaders{post ? "POST" : "GET", "http", "example.com",
                                            "/p" + std::to_string(i), &headers},
                             /*end_stream=*/!post);
    if (!opened.ok()) continue;
    if (post) {
      client.SubmitData(opened.stream_id, std::string(700, 'b'), false);
      client.SubmitTrailers(opened.stream_id, trailers);
    }
    take();
    if (i == 4) {  // a request the client gives up on right after sending it
      client.ResetStream(opened.stream_id, ErrorCode::kCancel);
      take();
    }
  }
  client.SubmitPing(42);
  take();
  return bytes;
}

// Frames no well-behaved client sends, spliced in at random places.
std::vector<std::string> OddFrames() {
  auto frame = [](uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
    std::string f;
    const uint32_t length = static_cast<uint32_t>(payload.size());
    f.push_back(static_cast<char>(length >> 16));
    f.push_back(static_cast<char>(length >> 8));
    f.push_back(static_cast<char>(length));
    f.push_back(static_cast<char>(type));
    f.push_back(static_cast<char>(flags));
    for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>(stream >> shift));
    return f + payload;
  };
  return {
      frame(9, 0x4, 1, std::string("\x00\x01x\x01y", 5)),      // CONTINUATION out of nowhere
      frame(4, 0, 0, std::string(5, '\0')),                    // SETTINGS of a bad length
      frame(2, 0, 3, std::string("\x00\x00\x00\x03\x10", 5)),  // PRIORITY on itself
      frame(8, 0, 0, std::string(4, '\0')),                    // WINDOW_UPDATE of 0
      frame(8, 0, 1, std::string("\x7f\xff\xff\xff", 4)),      // window overflow
      frame(0, 0x1, 99, "data"),                               // DATA on an idle stream
      frame(1, 0x5, 2, std::string("\x82\x86\x84", 3)),        // HEADERS on an even stream
      frame(3, 0, 0, std::string(4, '\0')),                    // RST_STREAM on stream 0
      frame(7, 0, 0, std::string(8, '\0')),                    // GOAWAY from the client
      frame(1, 0x4, 101, std::string(40, '\xff')),             // HPACK garbage
      std::string("\x00\x40\x00\x00\x00\x00\x00\x00\x01", 9),  // a DATA header claiming 16 KiB
  };
}

// `protect`: leading bytes mutated only rarely (the client preface: mutating it only tests the
// magic check).
std::string Mutate(const std::string& base, std::mt19937& rng, size_t protect) {
  static const std::vector<std::string> odd = OddFrames();
  std::string bytes = base;
  const size_t keep = rng() % 16 == 0 ? 0 : protect;
  auto position = [&] { return keep + rng() % (bytes.size() - keep + 1); };
  const int mutations = 1 + static_cast<int>(rng() % 8);
  for (int m = 0; m < mutations && bytes.size() > keep; ++m) {
    const size_t at = position();
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (at < bytes.size()) bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
        break;
      case 1:  // an extreme byte
        if (at < bytes.size()) bytes[at] = static_cast<char>(rng() % 2 ? 0x00 : 0xff);
        break;
      case 2:  // delete a range
        bytes.erase(at, rng() % 64);
        break;
      case 3: {  // duplicate a range
        const std::string piece = bytes.substr(at, rng() % 128);
        bytes.insert(position(), piece);
        break;
      }
      case 4:  // splice in an odd frame
        bytes.insert(at, odd[rng() % odd.size()]);
        break;
      case 5:  // truncate
        bytes.resize(at);
        break;
    }
  }
  return bytes;
}

// A session's state after any input: every stream ended at most once; a failure has a reason and
// closes; what is left to send (a GOAWAY) can be handed out, and then there is nothing.
void ExpectDefinedEnd(Session& session, const RecordingVisitor& visitor, uint32_t seed) {
  for (const auto& [id, log] : visitor.streams) {
    EXPECT_LE(log.final_events, 1) << "seed " << seed << ", stream " << id;
  }
  if (!session.status().ok) {
    EXPECT_FALSE(session.status().reason.empty()) << "seed " << seed;
    EXPECT_TRUE(session.WantsClose()) << "seed " << seed;
  }
  absl::string_view out = session.PendingOutput();
  session.ConsumeOutput(out.size());
  EXPECT_TRUE(session.PendingOutput().empty()) << "seed " << seed;
}

// Feeds `bytes` in random pieces, answering each new request, draining the output as a fast
// socket would.
void Serve(const std::string& bytes, std::mt19937& rng, uint32_t seed) {
  RecordingVisitor visitor;
  Session server(Role::kServer, SessionOptions(), &visitor);
  visitor.session = &server;
  size_t answered = 0;
  size_t offset = 0;
  while (offset < bytes.size() && server.status().ok) {
    const size_t piece = 1 + rng() % 2048;
    server.Receive(absl::string_view(bytes).substr(offset, piece));
    offset += piece;
    for (; answered < visitor.order.size(); ++answered) {
      const int32_t id = visitor.order[answered];
      if (server.SubmitResponse(id, ResponseHeaders{200, nullptr}, false)) {
        server.SubmitData(id, "answer", true);
      }
    }
    absl::string_view out = server.PendingOutput();
    server.ConsumeOutput(out.size());
  }
  ExpectDefinedEnd(server, visitor, seed);
}

// The requests a client has open when the server's bytes arrive (the same six every time, so the
// server's frames name streams it knows).
void OpenRequests(Session& client) {
  for (int i = 0; i < 6; ++i) {
    client.SubmitRequest(RequestHeaders{"GET", "http", "example.com", "/r", nullptr}, true);
  }
  absl::string_view out = client.PendingOutput();
  client.ConsumeOutput(out.size());
}

// What a server says to those six: SETTINGS (and the ACK of the client's), a response with a
// body, a 1xx then a response with trailers, a gRPC trailers-only response, a reset, a 20 KB
// body, and for the last stream a PING, the shutdown notice and the final GOAWAY.
std::string ServerTraffic() {
  RecordingVisitor client_visitor;
  RecordingVisitor visitor;
  Session client(Role::kClient, SessionOptions(), &client_visitor);
  Session server(Role::kServer, SessionOptions(), &visitor);
  for (int i = 0; i < 6; ++i) {
    client.SubmitRequest(RequestHeaders{"GET", "http", "example.com", "/r", nullptr}, true);
  }
  server.Receive(client.PendingOutput());
  http::HeaderMap trailers = MakeHeaders({{"grpc-status", "0"}});
  http::HeaderMap grpc_error = MakeHeaders({{"grpc-status", "14"}, {"grpc-message", "down"}});
  server.SubmitResponse(1, ResponseHeaders{200, nullptr}, false);
  server.SubmitData(1, "hello", true);
  server.SubmitResponse(3, ResponseHeaders{100, nullptr}, false);
  server.SubmitResponse(3, ResponseHeaders{200, nullptr}, false);
  server.SubmitData(3, "with trailers", false);
  server.SubmitTrailers(3, trailers);
  server.SubmitResponse(5, ResponseHeaders{200, &grpc_error}, true);
  server.ResetStream(7, ErrorCode::kInternalError);
  server.SubmitResponse(9, ResponseHeaders{200, nullptr}, false);
  server.SubmitData(9, std::string(20000, 'd'), true);
  server.SubmitPing(7);
  server.SubmitShutdownNotice();
  server.SubmitGoAway(ErrorCode::kNoError);
  absl::string_view out = server.PendingOutput();
  return std::string(out);
}

// Feeds a server's `bytes` in random pieces to a client with OpenRequests() open.
void Fetch(const std::string& bytes, std::mt19937& rng, uint32_t seed) {
  RecordingVisitor visitor;
  Session client(Role::kClient, SessionOptions(), &visitor);
  visitor.session = &client;
  OpenRequests(client);
  size_t offset = 0;
  while (offset < bytes.size() && client.status().ok) {
    const size_t piece = 1 + rng() % 2048;
    client.Receive(absl::string_view(bytes).substr(offset, piece));
    offset += piece;
    absl::string_view out = client.PendingOutput();
    client.ConsumeOutput(out.size());
  }
  ExpectDefinedEnd(client, visitor, seed);
}

TEST(Http2SessionFuzzTest, MutatedClientTrafficNeverBreaksTheServer) {
  const std::string traffic = ClientTraffic();
  ASSERT_GT(traffic.size(), 2000u);
  // Unmutated, every request is served and the session stays OK.
  {
    std::mt19937 rng(0);
    RecordingVisitor visitor;
    Session server(Role::kServer, SessionOptions(), &visitor);
    visitor.session = &server;
    EXPECT_TRUE(server.Receive(traffic).ok);
    EXPECT_EQ(visitor.order.size(), 6u);
  }
  constexpr uint32_t kSeeds = 20000;
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937 rng(seed);
    Serve(Mutate(traffic, rng, /*protect=*/24), rng, seed);
    if (HasFailure()) break;  // one seed's report is enough
  }
}

TEST(Http2SessionFuzzTest, MutatedServerTrafficNeverBreaksTheClient) {
  const std::string traffic = ServerTraffic();
  ASSERT_GT(traffic.size(), 20000u);
  {  // unmutated: the five answered streams end, the session stays OK
    RecordingVisitor visitor;
    Session client(Role::kClient, SessionOptions(), &visitor);
    visitor.session = &client;
    OpenRequests(client);
    EXPECT_TRUE(client.Receive(traffic).ok);
    EXPECT_EQ(visitor.streams.at(1).body, "hello");
    EXPECT_EQ(visitor.streams.at(9).body.size(), 20000u);
    EXPECT_TRUE(visitor.streams.at(7).reset);
  }
  constexpr uint32_t kSeeds = 20000;
  for (uint32_t seed = 1; seed <= kSeeds && !HasFailure(); ++seed) {
    std::mt19937 rng(seed);
    Fetch(Mutate(traffic, rng, /*protect=*/0), rng, seed);
  }
}

}  // namespace
}  // namespace proxy::http2
