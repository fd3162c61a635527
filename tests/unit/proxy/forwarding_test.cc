// What the proxy sends upstream and downstream: hop-by-hop headers dropped, framing regenerated,
// Envoy's x-forwarded-* / x-request-id / x-envoy-* headers, local replies.

#include "proxy/http1/forwarding.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace proxy::http1 {
namespace {

http::HeaderMap Headers(std::initializer_list<std::pair<const char*, const char*>> list) {
  http::HeaderMap headers;
  for (const auto& [name, value] : list) headers.Add(name, value);
  return headers;
}

TEST(ForwardingTest, UpstreamRequestDropsHopByHopAndRegeneratesFraming) {
  http::HeaderMap headers =
      Headers({{"host", "example.com"},
               {"connection", "keep-alive, X-Secret, Host"},
               {"keep-alive", "timeout=5"},
               {"x-secret", "named by Connection"},
               {"transfer-encoding", "chunked"},
               {"te", "gzip"},
               {"upgrade", "websocket"},
               {"proxy-connection", "keep-alive"},
               {"expect", "100-continue"},
               {"content-length", "999"},
               {"accept", "*/*"},
               {"x-forwarded-proto", "https"}});
  UpstreamRequest request{.method = "POST",
                          .path = "/rewritten",
                          .authority = "backend.local",
                          .framing = BodyFraming::kContentLength,
                          .content_length = 5};
  std::string out;
  AppendUpstreamRequestHead(request, headers, &out);
  EXPECT_EQ(out,
            "POST /rewritten HTTP/1.1\r\n"
            "host: backend.local\r\n"
            "accept: */*\r\n"
            "x-forwarded-proto: http\r\n"
            "content-length: 5\r\n"
            "\r\n");
}

TEST(ForwardingTest, TeTrailersIsKeptForGrpc) {
  http::HeaderMap headers = Headers({{"te", "trailers"}});
  std::string out;
  AppendUpstreamRequestHead({.method = "GET", .path = "/", .authority = "a"}, headers, &out);
  EXPECT_NE(out.find("te: trailers\r\n"), std::string::npos) << out;
}

TEST(ForwardingTest, ForwardedForRequestIdAndExpectedTimeout) {
  http::HeaderMap headers = Headers({{"x-forwarded-for", "203.0.113.7"},
                                     {"x-request-id", "client-chosen"},
                                     {"x-envoy-expected-rq-timeout-ms", "1"}});
  UpstreamRequest request{.method = "GET",
                          .path = "/",
                          .authority = "a",
                          .append_forwarded_for = "10.0.0.1",
                          .request_id = "0b6d2a4e-0000-4000-8000-000000000000",
                          .expected_timeout = absl::Seconds(15)};
  std::string out;
  AppendUpstreamRequestHead(request, headers, &out);
  EXPECT_EQ(out,
            "GET / HTTP/1.1\r\n"
            "host: a\r\n"
            "x-forwarded-for: 203.0.113.7, 10.0.0.1\r\n"
            "x-forwarded-proto: http\r\n"
            "x-request-id: 0b6d2a4e-0000-4000-8000-000000000000\r\n"
            "x-envoy-expected-rq-timeout-ms: 15000\r\n"
            "\r\n");
}

TEST(ForwardingTest, DownstreamResponseHead) {
  http::HeaderMap headers = Headers({{"content-type", "text/plain"},
                                     {"content-length", "3"},
                                     {"server", "upstream"},
                                     {"connection", "close"},
                                     {"transfer-encoding", "chunked"},
                                     {"set-cookie", "a=1"},
                                     {"set-cookie", "b=2"}});
  DownstreamResponse response{.status = 200,
                              .framing = BodyFraming::kChunked,
                              .date = "Mon, 23 Nov 2026 08:00:00 GMT",
                              .upstream_service_time_ms = 7};
  std::string out;
  AppendDownstreamResponseHead(response, headers, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "content-type: text/plain\r\n"
            "set-cookie: a=1\r\n"
            "set-cookie: b=2\r\n"
            "date: Mon, 23 Nov 2026 08:00:00 GMT\r\n"
            "server: envoy\r\n"
            "x-envoy-upstream-service-time: 7\r\n"
            "transfer-encoding: chunked\r\n"
            "\r\n");
}

TEST(ForwardingTest, InPlaceRewriteGivesTheSameFieldsAsTheCopy) {
  // The HTTP/2 response path rewrites the upstream's map; the HTTP/1.1 one copies while
  // serializing. Both must give the client the same fields in the same order.
  const std::vector<std::pair<std::string, std::string>> upstream = {
      {"content-type", "text/plain"}, {"content-length", "3"},
      {"server", "upstream"},         {"connection", "x-private"},
      {"x-private", "secret"},        {"keep-alive", "timeout=5"},
      {"set-cookie", "a=1"},          {"x-envoy-upstream-service-time", "1"},
      {"set-cookie", "b=2"}};
  for (bool with_date : {false, true}) {
    http::HeaderMap headers;
    for (const auto& [name, value] : upstream) headers.Add(name, value);
    if (with_date) headers.Add("date", "Sun, 22 Nov 2026 08:00:00 GMT");
    DownstreamResponse response{.status = 200,
                                .framing = BodyFraming::kContentLength,
                                .content_length = 3,
                                .date = "Mon, 23 Nov 2026 08:00:00 GMT",
                                .upstream_service_time_ms = 7};
    std::vector<std::string> copied;
    ForEachDownstreamHeader(response, headers,
                            [&](absl::string_view name, absl::string_view value) {
                              copied.push_back(absl::StrCat(name, ": ", value));
                            });
    RewriteDownstreamHeaders(response, &headers);
    std::vector<std::string> rewritten;
    headers.ForEach([&](absl::string_view name, absl::string_view value) {
      rewritten.push_back(absl::StrCat(name, ": ", value));
    });
    EXPECT_EQ(rewritten, copied);
    EXPECT_EQ(rewritten.front(), "content-type: text/plain");
    EXPECT_EQ(headers.Get("date"),
              with_date ? "Sun, 22 Nov 2026 08:00:00 GMT" : "Mon, 23 Nov 2026 08:00:00 GMT");
    EXPECT_EQ(headers.Get("server"), "envoy");
    EXPECT_EQ(headers.Get("content-length"), "3");
    EXPECT_EQ(headers.Get("x-envoy-upstream-service-time"), "7");
    EXPECT_FALSE(headers.Has("x-private"));
    EXPECT_FALSE(headers.Has("keep-alive"));
    EXPECT_EQ(headers.Count("set-cookie"), 2u);
  }
}

TEST(ForwardingTest, LocalReplies) {
  std::string out;
  AppendLocalReply(503, "no healthy upstream", /*head_request=*/false, /*close_connection=*/true,
                   "D", "envoy", nullptr, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 503 Service Unavailable\r\n"
            "content-type: text/plain\r\n"
            "content-length: 19\r\n"
            "date: D\r\n"
            "server: envoy\r\n"
            "connection: close\r\n"
            "\r\n"
            "no healthy upstream");
  out.clear();
  AppendLocalReply(200, "body", /*head_request=*/true, false, "", "weir", nullptr, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nserver: "
            "weir\r\n\r\n");
  out.clear();
  AppendLocalReply(204, "", false, false, "", "envoy", nullptr, &out);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nserver: envoy\r\n\r\n");
}

TEST(ForwardingTest, AbsoluteFormTargets) {
  absl::string_view authority, path;
  ASSERT_TRUE(SplitAbsoluteTarget("http://example.com:8080/a/b?c=d", &authority, &path));
  EXPECT_EQ(authority, "example.com:8080");
  EXPECT_EQ(path, "/a/b?c=d");
  ASSERT_TRUE(SplitAbsoluteTarget("HTTP://example.com", &authority, &path));
  EXPECT_EQ(authority, "example.com");
  EXPECT_EQ(path, "/");
  EXPECT_FALSE(SplitAbsoluteTarget("/relative", &authority, &path));
}

TEST(ForwardingTest, ChunkHeadersAndDates) {
  std::string out;
  AppendChunkHeader(255, &out);
  EXPECT_EQ(out, "ff\r\n");
  EXPECT_EQ(HttpDate(absl::FromUnixSeconds(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace proxy::http1
