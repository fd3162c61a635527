// Each failure maps to the status, body and counters Envoy gives it; malformed requests get a
// 400 (or 431/414/408) and a closed connection, with nothing forwarded upstream.

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/proxy_fixture.h"

namespace weir_test {
namespace {

using ::testing::HasSubstr;

TEST_P(ProxyTest, ConnectRefusedIs503) {
  StartProxy();
  HttpResult response = HttpGet(port_, "/refused");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body,
            "upstream connect error or disconnect/reset before headers. reset reason: connection "
            "failure\n");
  EXPECT_EQ(StatEventually("cluster.refused.upstream_cx_connect_fail", 1), 1u);
  EXPECT_EQ(StatEventually("cluster.refused.upstream_rq_503", 1), 1u);
  EXPECT_EQ(StatEventually("cluster.refused.upstream_rq_5xx", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_5xx", 1), 1u);
}

TEST_P(ProxyTest, ConnectTimeoutIs503AfterConnectTimeout) {
  StartProxy();
  const absl::Time start = absl::Now();
  HttpResult response = HttpGet(port_, "/blackhole");
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_THAT(response->body, HasSubstr("connection timeout"));
  EXPECT_GE(took, absl::Milliseconds(280));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_EQ(StatEventually("cluster.blackhole.upstream_cx_connect_timeout", 1), 1u);
  EXPECT_EQ(StatEventually("cluster.blackhole.upstream_rq_503", 1), 1u);
}

TEST_P(ProxyTest, UpstreamResetOrCloseBeforeHeadersIs503) {
  StartProxy();
  for (const char* how : {"x-test-reset-before-headers", "x-test-close-before-headers"}) {
    HttpResult response = HttpGet(port_, "/v1", {{how, "1"}});
    ASSERT_TRUE(response.ok()) << how << ": " << response.status();
    EXPECT_EQ(response->status, 503) << how;
    EXPECT_EQ(response->body,
              "upstream connect error or disconnect/reset before headers. reset reason: "
              "connection termination\n")
        << how;
  }
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_503", 2), 2u);
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_rx_reset", 2), 2u);
}

TEST_P(ProxyTest, RouteTimeoutIs504) {
  StartProxy();
  const absl::Time start = absl::Now();
  HttpResult response = HttpGet(port_, "/slow", {{"x-test-delay-ms", "3000"}});
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 504);
  EXPECT_EQ(response->body, "upstream request timeout\n");
  EXPECT_GE(took, absl::Milliseconds(480));
  EXPECT_LT(took, absl::Milliseconds(1500));
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_timeout", 1), 1u);
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_504", 1), 1u);
  // A response inside the timeout is fine.
  HttpResult fast = HttpGet(port_, "/slow", {{"x-test-delay-ms", "50"}});
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(fast->status, 200);
}

TEST_P(ProxyTest, UpstreamResetAfterHeadersBreaksTheDownstreamResponse) {
  StartProxy();
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection
                  ->Send(BuildRequest("GET", "/v1", {{"host", "a"},
                                                     {"x-test-body-size", "1000000"},
                                                     {"x-test-reset-after-headers", "1"}}))
                  .ok());
  HttpResult response = connection->ReadResponse();
  // Never a complete-looking response: the connection ends mid-body.
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(IsClosedMidResponse(response.status()) || IsResetError(response.status()))
      << response.status();
  EXPECT_EQ(StatEventually("http.ingress.rq_reset_after_downstream_response_started", 1), 1u);
  // The status was charged when the headers arrived, as Envoy does.
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_200", 1), 1u);
}

TEST_P(ProxyTest, HostileUpstreamResponseIs503) {
  StartProxy();
  // The upstream sends Content-Length together with Transfer-Encoding: chunked.
  HttpResult response =
      HttpGet(port_, "/v1", {{"x-test-response-header", "transfer-encoding: chunked"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_THAT(response->body, HasSubstr("protocol error"));
  EXPECT_EQ(StatEventually("cluster.v1.upstream_cx_protocol_error", 1), 1u);
}

struct BadRequest {
  const char* name;
  std::string bytes;
  int status;
};

std::vector<BadRequest> BadRequests() {
  return {
      {"ContentLengthAndChunked",
       "POST /v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\nGET /v1/smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
       400},
      {"ChunkedAndContentLength",
       "POST /v1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n"
       "0\r\n\r\n",
       400},
      {"UnknownTransferCoding", "POST /v1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
       400},
      {"DoubleChunked",
       "POST /v1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
      {"TwoContentLengths",
       "POST /v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
      {"BareLf", "GET /v1 HTTP/1.1\nHost: a\n\n", 400},
      {"NulInHeader", std::string("GET /v1 HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 34), 400},
      {"BadVersion", "GET /v1 HTTP/9.9\r\nHost: a\r\n\r\n", 400},
      {"MissingHost", "GET /v1 HTTP/1.1\r\n\r\n", 400},
      {"TwoHosts", "GET /v1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"RelativeGarbageTarget", "GET v1 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"NotHttp", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n", 400},
      {"HeaderTooLarge",
       absl::StrCat("GET /v1 HTTP/1.1\r\nHost: a\r\nX-Big: ", std::string(70 * 1024, 'x'),
                    "\r\n\r\n"),
       431},
      {"TooManyHeaders",
       [] {
         std::string request = "GET /v1 HTTP/1.1\r\nHost: a\r\n";
         for (int i = 0; i < 120; ++i) absl::StrAppend(&request, "X-H", i, ": v\r\n");
         return request + "\r\n";
       }(),
       431},
      {"UriTooLong",
       absl::StrCat("GET /v1/", std::string(20 * 1024, 'a'), " HTTP/1.1\r\nHost: a\r\n\r\n"), 414},
  };
}

TEST_P(ProxyTest, MalformedRequestsAreRefusedAndNothingIsForwarded) {
  StartProxy();
  for (const BadRequest& bad : BadRequests()) {
    SCOPED_TRACE(bad.name);
    const uint64_t before = v1_->requests_received();
    absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
    ASSERT_TRUE(connection.ok());
    (void)connection->Send(bad.bytes);  // may fail midway for huge requests once we answered
    HttpResult response = connection->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, bad.status) << absl::CEscape(response->raw_head);
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(connection->IsClosedByPeer(absl::Seconds(3)));
    EXPECT_EQ(v1_->requests_received(), before) << "forwarded upstream";
  }
  // The listener still serves normal requests.
  HttpResult ok = HttpGet(port_, "/v1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  EXPECT_GE(Stat("http.ingress.downstream_cx_protocol_error"), 10u);
}

TEST_P(ProxyTest, SlowRequestHeadersGet408) {
  StartProxy("request_headers_timeout: 0.3s");
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection->Send("GET /v1 HTTP/1.1\r\nHost: a\r\n").ok());  // never finished
  HttpResult response = connection->ReadResponse(absl::Seconds(3));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(connection->IsClosedByPeer(absl::Seconds(3)));
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_header_timeout", 1), 1u);
}

TEST_P(ProxyTest, ClientGoneMidRequestCancelsTheUpstream) {
  StartProxy();
  {
    absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection->Send("POST /v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"
                                 "partial")
                    .ok());
    ASSERT_TRUE(WaitUntil([&] { return v1_->requests_received() == 1; }));
  }  // closed with the body unfinished
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_cancelled", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_rx_reset", 1), 1u);
  // Not charged as an upstream failure of the version.
  EXPECT_EQ(Stat("cluster.v1.upstream_rq_5xx"), 0u);
  // And the proxy is fine.
  HttpResult ok = HttpGet(port_, "/v1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_P(ProxyTest, NoConnectionOrDescriptorIsLeaked) {
  StartProxy();
  ASSERT_TRUE(HttpGet(port_, "/v1").ok());
  // Idle pooled upstream connections are part of the baseline.
  ASSERT_TRUE(WaitUntil([&] { return proxy_->OpenFdCount() > 0; }));
  const int baseline = proxy_->OpenFdCount();
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(HttpGet(port_, "/v1").ok());
    ASSERT_TRUE(HttpGet(port_, "/v2", {{"x-test-status", "503"}}).ok());
    ASSERT_TRUE(HttpGet(port_, "/refused").ok());
    ASSERT_TRUE(HttpGet(port_, "/nowhere").ok());
    ASSERT_TRUE(HttpGet(port_, "/slow", {{"x-test-reset-before-headers", "1"}}).ok());
    absl::StatusOr<RawConnection> bad = RawConnection::Connect(port_);
    ASSERT_TRUE(bad.ok());
    (void)bad->Send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n");
    (void)bad->ReadResponse();
    absl::StatusOr<RawConnection> gone = RawConnection::Connect(port_);
    ASSERT_TRUE(gone.ok());
    (void)gone->Send("POST /v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab");
  }
  // Every client connection is closed; weir is back to its baseline descriptors (the pool may
  // hold at most one more idle upstream connection per worker and version).
  EXPECT_TRUE(WaitUntil([&] { return proxy_->OpenFdCount() <= baseline + 2 * GetParam(); },
                        absl::Seconds(10)))
      << "baseline " << baseline << ", now " << proxy_->OpenFdCount();
  EXPECT_TRUE(WaitUntil([&] { return Stat("http.ingress.downstream_cx_active") == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Workers, ProxyTest, ::testing::Values(1, 2),
                         [](const auto& info) { return absl::StrCat(info.param, "_workers"); });

}  // namespace
}  // namespace weir_test
