// Bodies stream through weir in bounded memory both ways, and HTTP/1.1 connection semantics hold:
// keep-alive reuse on both sides, pipelining answered in order, 100-continue, HEAD, chunked
// passthrough, Connection: close and HTTP/1.0.

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/proxy_fixture.h"

namespace weir_test {
namespace {

using ::testing::HasSubstr;

// Peak resident memory of a process, from /proc/<pid>/status (VmHWM).
int64_t PeakRssKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      int64_t kb = 0;
      std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kb)) return kb;
    }
  }
  return -1;
}

// Memory weir may use beyond its idle footprint while moving a body of any size.
constexpr int64_t kStreamingBudgetKb = 48 * 1024;

TEST_P(ProxyTest, OneGibDownloadInConstantMemory) {
  StartProxy();
  const int64_t before = PeakRssKb(proxy_->pid());
  constexpr uint64_t kSize = uint64_t{1} << 30;
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection
                  ->Send(BuildRequest("GET", "/v1", {{"host", "a"},
                                                     {"x-test-body-size", absl::StrCat(kSize)}}))
                  .ok());
  uint64_t offset = 0;
  bool pattern_ok = true;
  ReadOptions options;
  options.timeout = absl::Seconds(120);
  options.body_sink = [&](absl::string_view data) {
    pattern_ok = pattern_ok && MatchesPattern(data, offset);
    offset += data.size();
    return true;
  };
  HttpResult response = connection->ReadResponse(options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body_size, kSize);
  EXPECT_TRUE(pattern_ok);
  EXPECT_LT(PeakRssKb(proxy_->pid()) - before, kStreamingBudgetKb);
}

TEST_P(ProxyTest, LargeUploadsInConstantMemory) {
  StartProxy();
  const int64_t before = PeakRssKb(proxy_->pid());
  for (bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "content-length");
    const uint64_t size = chunked ? uint64_t{128} << 20 : uint64_t{512} << 20;
    absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
    ASSERT_TRUE(connection.ok());
    std::string head = absl::StrCat("POST /v1 HTTP/1.1\r\nHost: a\r\nx-test-report-body: 1\r\n",
                                    chunked ? "Transfer-Encoding: chunked\r\n"
                                            : absl::StrCat("Content-Length: ", size, "\r\n"),
                                    "\r\n");
    ASSERT_TRUE(connection->Send(head).ok());
    uint64_t fnv = kFnvOffsetBasis;
    constexpr uint64_t kPiece = 1 << 20;
    for (uint64_t offset = 0; offset < size; offset += kPiece) {
      std::string piece = PatternBody(kPiece, offset);
      fnv = Fnv1a(piece, fnv);
      if (chunked) piece = absl::StrCat(absl::Hex(piece.size()), "\r\n", piece, "\r\n");
      ASSERT_TRUE(connection->Send(piece, absl::Seconds(30)).ok());
    }
    if (chunked) {
      ASSERT_TRUE(connection->Send("0\r\n\r\n").ok());
    }
    HttpResult response = connection->ReadResponse(absl::Seconds(60));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, absl::StrCat("received=", size, " fnv=", FnvHex(fnv)));
  }
  EXPECT_LT(PeakRssKb(proxy_->pid()) - before, kStreamingBudgetKb);
}

TEST_P(ProxyTest, SlowClientAppliesBackpressure) {
  StartProxy();
  const int64_t before = PeakRssKb(proxy_->pid());
  constexpr uint64_t kSize = 64 << 20;
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection
                  ->Send(BuildRequest("GET", "/v1", {{"host", "a"},
                                                     {"x-test-body-size", absl::StrCat(kSize)}}))
                  .ok());
  // Read the first 8 MiB slowly: weir must not buffer the rest of the 64 MiB meanwhile.
  uint64_t received = 0;
  ReadOptions options;
  options.timeout = absl::Seconds(60);
  options.body_sink = [&](absl::string_view data) {
    received += data.size();
    if (received < (8u << 20)) std::this_thread::sleep_for(std::chrono::microseconds(300));
    return true;
  };
  HttpResult response = connection->ReadResponse(options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body_size, kSize);
  EXPECT_LT(PeakRssKb(proxy_->pid()) - before, kStreamingBudgetKb);
}

TEST_P(ProxyTest, SlowUpstreamBodyStillCompletes) {
  StartProxy();
  HttpResult response =
      HttpGet(port_, "/v1", {{"x-test-body-size", "200000"}, {"x-test-stall-body-ms", "300"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body_size, 200000u);
  EXPECT_TRUE(MatchesPattern(response->body, 0));
}

TEST_P(ProxyTest, ChunkedResponsesAndTrailersPassThrough) {
  StartProxy();
  HttpResult response = HttpGet(port_, "/v1", {{"x-test-body-size", "100000"},
                                               {"x-test-chunked", "1"},
                                               {"x-test-trailers", "1"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->chunked);
  EXPECT_EQ(response->body_size, 100000u);
  EXPECT_TRUE(MatchesPattern(response->body, 0));
}

TEST_P(ProxyTest, KeepAliveReusesConnectionsOnBothSides) {
  StartProxy();
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(connection->Send(BuildRequest("GET", "/v1", {{"host", "a"}})).ok());
    HttpResult response = connection->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200);
    EXPECT_FALSE(response->connection_closed_after);
  }
  EXPECT_EQ(v1_->requests_served(), 200u);
  EXPECT_LE(v1_->connections_accepted(), 2u);  // one per worker at most
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_total", 200), 200u);
  EXPECT_LE(Stat("cluster.v1.upstream_cx_total"), 2u);
}

TEST_P(ProxyTest, PipelinedRequestsAreAnsweredInOrder) {
  StartProxy();
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  std::string pipeline = absl::StrCat(
      BuildRequest("GET", "/v1", {{"host", "a"}, {"x-test-delay-ms", "100"}}),
      BuildRequest("GET", "/v2", {{"host", "a"}}), BuildRequest("GET", "/direct", {{"host", "a"}}),
      BuildRequest("POST", "/v2", {{"host", "a"}, {"x-test-report-body", "1"}}, "abc"));
  ASSERT_TRUE(connection->Send(pipeline).ok());
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    HttpResult response = connection->ReadResponse();
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    bodies.push_back(response->body);
  }
  EXPECT_EQ(bodies[0], "v1");
  EXPECT_EQ(bodies[1], "v2");
  EXPECT_EQ(bodies[2], "hello");
  EXPECT_EQ(bodies[3], absl::StrCat("received=3 fnv=", FnvHex(Fnv1a("abc"))));
}

TEST_P(ProxyTest, ExpectContinue) {
  StartProxy();
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection
                  ->Send("POST /v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                         "Expect: 100-continue\r\nx-test-report-body: 1\r\n\r\n")
                  .ok());
  HttpResult interim = connection->ReadResponse();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection->Send("hello").ok());
  HttpResult response = connection->ReadResponse();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, absl::StrCat("received=5 fnv=", FnvHex(Fnv1a("hello"))));
  EXPECT_FALSE(v1_->LastRequest().Header("expect").has_value());
}

TEST_P(ProxyTest, HeadRequests) {
  StartProxy();
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection->Send(BuildRequest("HEAD", "/v1", {{"host", "a"},
                                                            {"x-test-body-size", "5000"}}))
                  .ok());
  HttpResult head = connection->ReadResponse(kDefaultTimeout, /*head_request=*/true);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "5000");
  EXPECT_EQ(head->body_size, 0u);
  // The connection is still in step: the next request works.
  ASSERT_TRUE(connection->Send(BuildRequest("GET", "/v1", {{"host", "a"}})).ok());
  HttpResult next = connection->ReadResponse();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->body, "v1");
}

TEST_P(ProxyTest, ConnectionCloseAndHttp10) {
  StartProxy();
  absl::StatusOr<RawConnection> close = RawConnection::Connect(port_);
  ASSERT_TRUE(close.ok());
  ASSERT_TRUE(close->Send("GET /v1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").ok());
  HttpResult response = close->ReadResponse();
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(close->IsClosedByPeer(absl::Seconds(3)));

  // HTTP/1.0 without Host: routed by the "*" virtual host; a chunked upstream response is sent
  // close-delimited, since HTTP/1.0 has no chunked coding.
  absl::StatusOr<RawConnection> old = RawConnection::Connect(port_);
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(old->Send("GET /v1 HTTP/1.0\r\nx-test-chunked: 1\r\nx-test-body-size: 3000\r\n\r\n")
                  .ok());
  HttpResult old_response = old->ReadResponse();
  ASSERT_TRUE(old_response.ok()) << old_response.status();
  EXPECT_EQ(old_response->status, 200);
  EXPECT_FALSE(old_response->chunked);
  EXPECT_EQ(old_response->body_size, 3000u);
  EXPECT_TRUE(old_response->connection_closed_after);
}

INSTANTIATE_TEST_SUITE_P(Workers, ProxyTest, ::testing::Values(1, 2),
                         [](const auto& info) { return absl::StrCat(info.param, "_workers"); });

}  // namespace
}  // namespace weir_test
