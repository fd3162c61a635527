// The harness's self-test: TestUpstream driven directly by the raw client (every behaviour the
// data-plane tests rely on), the client's parser against hand-written responses, the small
// parsers (JSON, /stats text), and the ProxyProcess paths that need no serve mode (a stand-in
// script plays weir; `weir --mode validate` exits without publishing an admin address).

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/http_common.h"
#include "tests/integration/harness/json.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/test_upstream.h"

namespace weir_test {
namespace {

// ---- helpers ----

std::unique_ptr<TestUpstream> StartUpstream(const std::string& name) {
  std::unique_ptr<TestUpstream> upstream = TestUpstream::Start(name);
  EXPECT_NE(upstream, nullptr);
  return upstream;
}

RawConnection MustConnect(uint16_t port) {
  absl::StatusOr<RawConnection> conn = RawConnection::Connect(port);
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? std::move(*conn) : RawConnection();
}

// A connected socketpair: the test writes canned server bytes on `server`, reads with `client`.
struct Pair {
  RawConnection client;
  int server = -1;
  ~Pair() {
    if (server >= 0) ::close(server);
  }
  void Write(absl::string_view bytes) {
    ASSERT_EQ(::write(server, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  void CloseServer() {
    ::close(server);
    server = -1;
  }
};

std::unique_ptr<Pair> MakePair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto pair = std::make_unique<Pair>();
  pair->client = RawConnection::Adopt(fds[0]);
  pair->server = fds[1];
  return pair;
}

// A state letter from /proc/<pid>/stat, or 'X' when the process is gone.
char ProcessState(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 'X';
  return stat[paren + 2];
}
bool IsDead(pid_t pid) {
  char state = ProcessState(pid);
  return state == 'X' || state == 'Z';
}

// ---- http_common ----

TEST(HttpCommonTest, ParseHeadIsStrict) {
  absl::StatusOr<ParsedHead> ok = ParseHead("GET / HTTP/1.1\r\nHost: a\r\nX-A:  b c \t\r\nx-a: d");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->start_line, "GET / HTTP/1.1");
  EXPECT_EQ(ok->headers, (HeaderList{{"host", "a"}, {"x-a", "b c"}, {"x-a", "d"}}));
  EXPECT_EQ(FindHeaders(ok->headers, "X-A"), (std::vector<std::string>{"b c", "d"}));
  EXPECT_FALSE(ParseHead("GET / HTTP/1.1\r\nHost : a").ok());       // space before colon
  EXPECT_FALSE(ParseHead("GET / HTTP/1.1\r\nHost: a\r\n b").ok());  // obs-fold
  EXPECT_FALSE(ParseHead("GET / HTTP/1.1\nHost: a").ok());          // bare LF
  EXPECT_FALSE(ParseHead("GET / HTTP/1.1\r\nno-colon").ok());
}

TEST(HttpCommonTest, Framing) {
  auto kind = [](HeaderList h, bool request) {
    absl::StatusOr<BodyFraming> f = FramingFromHeaders(h, request);
    return f.ok() ? static_cast<int>(f->kind) : -1;
  };
  using K = BodyFraming::Kind;
  EXPECT_EQ(kind({}, true), static_cast<int>(K::kNone));
  EXPECT_EQ(kind({}, false), static_cast<int>(K::kUntilClose));
  EXPECT_EQ(kind({{"content-length", "5"}}, true), static_cast<int>(K::kContentLength));
  EXPECT_EQ(kind({{"content-length", "5, 5"}}, true), static_cast<int>(K::kContentLength));
  EXPECT_EQ(kind({{"content-length", "5"}, {"content-length", "6"}}, true), -1);
  EXPECT_EQ(kind({{"content-length", "-1"}}, true), -1);
  EXPECT_EQ(kind({{"transfer-encoding", "gzip, chunked"}, {"content-length", "3"}}, true),
            static_cast<int>(K::kChunked));
  EXPECT_EQ(kind({{"transfer-encoding", "gzip"}}, true), -1);
  EXPECT_EQ(kind({{"transfer-encoding", "gzip"}}, false), static_cast<int>(K::kUntilClose));
}

TEST(HttpCommonTest, ChunkedDecoderByteByByte) {
  const std::string wire = "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nx-t: 1\r\n\r\nNEXT";
  ChunkedDecoder decoder;
  std::string body, pending;
  size_t fed = 0;
  for (char c : wire) {
    if (decoder.done()) break;
    pending.push_back(c);
    ++fed;
    pending.erase(
        0, decoder.Feed(pending, [&](absl::string_view d) { body.append(d.data(), d.size()); }));
    ASSERT_FALSE(decoder.failed()) << decoder.error();
  }
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(body, "abc0123456789abcdef");
  EXPECT_EQ(decoder.chunk_count(), 2);
  EXPECT_EQ(decoder.trailers(), (HeaderList{{"x-t", "1"}}));
  EXPECT_EQ(wire.substr(fed), "NEXT");  // stops at the end of the message

  ChunkedDecoder bad;
  bad.Feed("zz\r\n", [](absl::string_view) {});
  EXPECT_TRUE(bad.failed());
  ChunkedDecoder no_crlf;
  no_crlf.Feed("2\r\nabX", [](absl::string_view) {});
  EXPECT_TRUE(no_crlf.failed());
}

TEST(HttpCommonTest, FnvAndPattern) {
  EXPECT_EQ(Fnv1a(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a("world", Fnv1a("hello ")), Fnv1a("hello world"));
  EXPECT_EQ(FnvHex(0xabcull), "0000000000000abc");
  std::string body = PatternBody(300000, 7);
  ASSERT_EQ(body.size(), 300000u);
  for (size_t i : {0u, 1u, 250u, 251u, 65535u, 299999u}) EXPECT_EQ(body[i], PatternByte(i + 7));
  EXPECT_TRUE(MatchesPattern(body, 7));
  EXPECT_FALSE(MatchesPattern(body, 8));
  body[123456] ^= 1;
  EXPECT_FALSE(MatchesPattern(body, 7));
}

// ---- json, /stats text, Substitute ----

TEST(ParsersTest, JsonAndListenerPort) {
  const std::string listeners = R"( {
    "listener_statuses" : [
      {"name": "admin-ish", "local_address": {"socket_address": {"address": "127.0.0.1",
                                                              "port_value": 9901}}},
      { "name" : "ingress\u0041",
        "local_address" : { "socket_address" : { "address" : "0.0.0.0" , "port_value" : 34567 } },
        "additional_local_addresses": [] }
    ]
  } )";
  absl::StatusOr<uint16_t> port = ListenerPortInJson(listeners, "ingressA");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(*port, 34567);
  absl::StatusOr<uint16_t> missing = ListenerPortInJson(listeners, "nope");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "admin-ish, ingressA"));
  EXPECT_FALSE(ListenerPortInJson("{\"listener_statuses\": [", "x").ok());

  absl::StatusOr<JsonValue> v = ParseJson(R"({"a": [1, -2.5e3, true, null, "\ud83d\ude00\n"]})");
  ASSERT_TRUE(v.ok()) << v.status();
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->array().size(), 5u);
  EXPECT_EQ(a->array()[0].AsUint64(), 1u);
  EXPECT_EQ(a->array()[1].string_value(), "-2.5e3");
  EXPECT_FALSE(a->array()[1].AsUint64().has_value());
  EXPECT_TRUE(a->array()[2].bool_value());
  EXPECT_TRUE(a->array()[3].is_null());
  EXPECT_EQ(a->array()[4].string_value(), "\xF0\x9F\x98\x80\n");
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "[1] 2", "tru"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseJson(std::string(10000, '[')).ok());  // bounded depth, no stack overflow
}

TEST(ParsersTest, StatsText) {
  const std::string stats =
      "cluster.v1.upstream_rq_200: 7\n"
      "cluster.v1.upstream_rq_2000: 0\n"
      "cluster.v1.upstream_rq_time: P0(nan,1) P25(nan,2.05) P50(nan,3.05)\n"
      "cluster.v2.upstream_rq_time: No recorded values\n"
      "http.ingress.downstream_rq_total: 12\r\n"
      "server.version: \"weir 0.1.0\"\n";
  EXPECT_EQ(FindStatInText(stats, "cluster.v1.upstream_rq_200").value_or(999), 7u);
  EXPECT_EQ(FindStatInText(stats, "cluster.v1.upstream_rq_2000").value_or(999), 0u);
  EXPECT_EQ(FindStatInText(stats, "http.ingress.downstream_rq_total").value_or(999), 12u);
  EXPECT_TRUE(absl::IsNotFound(FindStatInText(stats, "cluster.v1.upstream_rq_20").status()));
  EXPECT_TRUE(absl::IsNotFound(FindStatInText(stats, "cluster.v3.upstream_rq_200").status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(FindStatInText(stats, "cluster.v1.upstream_rq_time").status()));
  EXPECT_EQ(IntegerStatsInText(stats, "cluster."),
            (std::map<std::string, uint64_t>{{"cluster.v1.upstream_rq_200", 7},
                                             {"cluster.v1.upstream_rq_2000", 0}}));
  EXPECT_EQ(IntegerStatsInText(stats, "").size(), 3u);
}

TEST(ParsersTest, Substitute) {
  EXPECT_EQ(Substitute("a ${X} b ${Y}${X} ${UNSET} ${", {{"X", "1"}, {"Y", "${X}"}}),
            "a 1 b ${X}1 ${UNSET} ${");
  EXPECT_EQ(Substitute("port_value: ${V1_PORT}", {{"V1_PORT", "8080"}}), "port_value: 8080");
  EXPECT_EQ(Substitute("", {{"X", "1"}}), "");
}

// ---- RawConnection against canned responses ----

TEST(RawClientTest, ContentLengthChunkedAndPipelined) {
  auto p = MakePair();
  p->Write(
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
      "HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n"
      "2\r\nab\r\n1;x=y\r\nc\r\n0\r\ngrpc-status: 0\r\n\r\n"
      "HTTP/1.1 204 No Content\r\n\r\n"
      "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc");
  HttpResult r1 = p->client.ReadResponse();
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->reason, "OK");
  EXPECT_EQ(r1->body, "hello");
  EXPECT_EQ(r1->Header("x-a"), "1");
  EXPECT_EQ(r1->raw_head, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n");
  EXPECT_FALSE(r1->connection_closed_after);
  HttpResult r2 = p->client.ReadResponse();
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->status, 201);
  EXPECT_TRUE(r2->chunked);
  EXPECT_EQ(r2->chunk_count, 2);
  EXPECT_EQ(r2->body, "abc");
  EXPECT_EQ(r2->trailers, (HeaderList{{"grpc-status", "0"}}));
  HttpResult r3 = p->client.ReadResponse();
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(r3->status, 204);
  EXPECT_EQ(r3->body, "");
  HttpResult r4 = p->client.ReadResponse(kDefaultTimeout, /*head_request=*/true);
  ASSERT_TRUE(r4.ok()) << r4.status();
  EXPECT_EQ(r4->body, "");
  EXPECT_EQ(p->client.buffered(), "abc");  // a HEAD response has no body
}

TEST(RawClientTest, InterimUntilCloseAndErrors) {
  {
    auto p = MakePair();
    p->Write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close");
    HttpResult interim = p->client.ReadResponse();
    ASSERT_TRUE(interim.ok()) << interim.status();
    EXPECT_EQ(interim->status, 100);
    p->CloseServer();
    HttpResult final_response = p->client.ReadResponse();
    ASSERT_TRUE(final_response.ok()) << final_response.status();
    EXPECT_EQ(final_response->body, "until close");
    EXPECT_TRUE(final_response->connection_closed_after);
  }
  {
    auto p = MakePair();
    p->Write("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\nx");
    std::thread closer([&] {
      absl::SleepFor(absl::Milliseconds(50));
      p->CloseServer();
    });
    HttpResult r = p->client.ReadResponse();  // waits for the announced close
    closer.join();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->connection_closed_after);
  }
  {
    auto p = MakePair();
    p->Write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    p->CloseServer();
    HttpResult r = p->client.ReadResponse();
    EXPECT_TRUE(IsClosedMidResponse(r.status())) << r.status();
  }
  {
    auto p = MakePair();
    p->CloseServer();
    EXPECT_TRUE(IsClosedBeforeResponse(p->client.ReadResponse().status()));
  }
  {
    auto p = MakePair();
    p->Write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    absl::Time start = absl::Now();
    HttpResult r = p->client.ReadResponse(absl::Milliseconds(100));
    EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
    EXPECT_LT(absl::Now() - start, absl::Seconds(2));
    EXPECT_FALSE(p->client.IsClosedByPeer(absl::Milliseconds(20)));
  }
  for (const char* bad : {"HTTP/1.1 2000 OK\r\n\r\n", "ICY 200 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
                          "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nq\r\n"}) {
    auto p = MakePair();
    p->Write(bad);
    HttpResult r = p->client.ReadResponse(absl::Milliseconds(500));
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << bad << " -> " << r.status();
  }
}

// ---- TestUpstream through the raw client ----

TEST(TestUpstreamTest, DefaultResponseAndLastRequest) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  EXPECT_NE(up->port(), 0);
  HttpResult r = HttpGet(up->port(), "/path?q=1", {{"x-request-id", "abc"}, {"Foo", "bar"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "v1");
  EXPECT_EQ(r->Header("content-type"), "text/plain");
  EXPECT_EQ(r->Header("content-length"), "2");
  EXPECT_EQ(r->Header("x-upstream"), "v1");
  UpstreamRequest last = up->LastRequest();
  EXPECT_EQ(last.method, "GET");
  EXPECT_EQ(last.target, "/path?q=1");
  EXPECT_EQ(last.version, "HTTP/1.1");
  EXPECT_EQ(last.Header("host"), "localhost");
  EXPECT_EQ(last.Header("x-request-id"), "abc");
  EXPECT_EQ(last.Header("foo"), "bar");
  EXPECT_EQ(last.raw_head,
            "GET /path?q=1 HTTP/1.1\r\nhost: localhost\r\nx-request-id: abc\r\nFoo: bar\r\n\r\n");
  EXPECT_TRUE(last.body_complete);
  EXPECT_EQ(last.body_size, 0u);
  EXPECT_EQ(up->connections_accepted(), 1u);
  EXPECT_EQ(up->requests_received(), 1u);
  EXPECT_EQ(up->requests_served(), 1u);
}

TEST(TestUpstreamTest, KeepAliveAndPipeliningInOrder) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection conn = MustConnect(up->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn.Send(BuildRequest("GET", absl::StrCat("/", i))).ok());
    HttpResult r = conn.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "v1");
    EXPECT_FALSE(r->connection_closed_after);
  }
  // Three requests in one write; the first is slow, yet responses come back in request order.
  std::string batch =
      BuildRequest("GET", "/a", {{"x-test-delay-ms", "100"}, {"x-test-status", "201"}}) +
      BuildRequest("GET", "/b", {{"x-test-status", "202"}}) +
      BuildRequest("POST", "/c", {{"x-test-status", "203"}, {"x-test-report-body", "1"}}, "body!");
  ASSERT_TRUE(conn.Send(batch).ok());
  for (int status : {201, 202, 203}) {
    HttpResult r = conn.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, status);
  }
  EXPECT_EQ(conn.buffered(), "");
  EXPECT_EQ(up->connections_accepted(), 1u);
  EXPECT_EQ(up->requests_served(), 6u);
  std::vector<UpstreamRequest> recent = up->RecentRequests();
  ASSERT_EQ(recent.size(), 6u);
  EXPECT_EQ(recent[5].target, "/c");
  EXPECT_EQ(recent[5].body_size, 5u);
  EXPECT_EQ(recent[0].connection_id, recent[5].connection_id);
}

TEST(TestUpstreamTest, StatusesAndResponseHeaders) {
  auto up = StartUpstream("v2");
  ASSERT_NE(up, nullptr);
  HttpResult r = HttpGet(up->port(), "/",
                         {{"x-test-status", "503"},
                          {"x-test-response-header", "x-a: 1"},
                          {"x-test-response-header", "keep-alive: timeout=5"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->reason, "Service Unavailable");
  EXPECT_EQ(r->body, "v2");
  EXPECT_EQ(r->Header("x-a"), "1");
  EXPECT_EQ(r->Header("keep-alive"), "timeout=5");
  HttpResult no_content = HttpGet(up->port(), "/", {{"x-test-status", "204"}});
  ASSERT_TRUE(no_content.ok()) << no_content.status();
  EXPECT_EQ(no_content->status, 204);
  EXPECT_FALSE(no_content->HasHeader("content-length"));
  EXPECT_EQ(no_content->body, "");
}

TEST(TestUpstreamTest, PatternBodiesPlainAndChunked) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/", {{"x-test-body-size", "1000000"}})).ok());
  HttpResult plain = conn.ReadResponse();
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->Header("content-length"), "1000000");
  EXPECT_EQ(plain->body.size(), 1000000u);
  EXPECT_TRUE(MatchesPattern(plain->body, 0));

  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/",
                                     {{"x-test-body-size", "200000"},
                                      {"x-test-chunked", "1"},
                                      {"x-test-trailers", "1"}}))
                  .ok());
  HttpResult chunked = conn.ReadResponse();
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_FALSE(chunked->HasHeader("content-length"));
  EXPECT_TRUE(chunked->chunked);
  EXPECT_GE(chunked->chunk_count, 3);
  EXPECT_TRUE(MatchesPattern(chunked->body, 0));
  EXPECT_EQ(chunked->body.size(), 200000u);
  EXPECT_EQ(chunked->trailers, (HeaderList{{"x-test-trailer", "done"}}));

  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/", {{"x-test-chunked", "1"}})).ok());
  HttpResult small = conn.ReadResponse();
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->body, "v1");
  EXPECT_EQ(small->chunk_count, 2);  // several chunks even for a tiny body

  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/", {{"x-test-body-size", "0"}})).ok());
  HttpResult empty = conn.ReadResponse();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->Header("content-length"), "0");
  EXPECT_EQ(empty->body, "");
  EXPECT_EQ(up->connections_accepted(), 1u);
}

TEST(TestUpstreamTest, DelayUsesTimersNotTheThread) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection slow = MustConnect(up->port());
  absl::Time start = absl::Now();
  ASSERT_TRUE(slow.Send(BuildRequest("GET", "/", {{"x-test-delay-ms", "800"}})).ok());
  HttpResult fast = HttpGet(up->port(), "/");
  ASSERT_TRUE(fast.ok()) << fast.status();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(700));
  HttpResult delayed = slow.ReadResponse();
  ASSERT_TRUE(delayed.ok()) << delayed.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(800));
}

TEST(TestUpstreamTest, CloseAndResetBehaviours) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  HttpResult closed = HttpGet(up->port(), "/", {{"x-test-close-before-headers", "1"}});
  EXPECT_TRUE(IsClosedBeforeResponse(closed.status())) << closed.status();
  HttpResult reset = HttpGet(up->port(), "/", {{"x-test-reset-before-headers", "1"}});
  EXPECT_TRUE(IsResetError(reset.status())) << reset.status();

  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(
      conn.Send(BuildRequest("GET", "/",
                             {{"x-test-reset-after-headers", "1"}, {"x-test-body-size", "100000"}}))
          .ok());
  uint64_t received = 0;
  ReadOptions options;
  options.body_sink = [&](absl::string_view data) {
    received += data.size();
    return true;
  };
  HttpResult partial = conn.ReadResponse(options);
  EXPECT_TRUE(IsResetError(partial.status())) << partial.status();
  // The head and part of the body arrived before the reset.
  EXPECT_TRUE(absl::StrContains(partial.status().message(), "during the body")) << partial.status();
  EXPECT_EQ(received, 32768u);
  EXPECT_EQ(up->requests_received(), 3u);
  EXPECT_EQ(up->requests_served(), 1u);
}

TEST(TestUpstreamTest, StallBody) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(
      conn.Send(BuildRequest("GET", "/",
                             {{"x-test-stall-body-ms", "600"}, {"x-test-body-size", "10000"}}))
          .ok());
  absl::Time start = absl::Now();
  std::optional<absl::Duration> first_half_at, second_half_at;
  uint64_t received = 0;
  ReadOptions options;
  options.body_sink = [&](absl::string_view data) {
    received += data.size();
    if (received >= 5000 && !first_half_at) first_half_at = absl::Now() - start;
    if (received == 10000) second_half_at = absl::Now() - start;
    return true;
  };
  HttpResult r = conn.ReadResponse(options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body_size, 10000u);
  ASSERT_TRUE(first_half_at && second_half_at);
  EXPECT_LT(*first_half_at, absl::Milliseconds(500));
  EXPECT_GE(*second_half_at, absl::Milliseconds(600));
}

TEST(TestUpstreamTest, RequestBodiesEchoAndReport) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection conn = MustConnect(up->port());
  // content-length body, echoed.
  std::string request = BuildRequest("POST", "/echo", {{"x-test-echo", "1"}}, "hello body");
  ASSERT_TRUE(conn.Send(request).ok());
  HttpResult echo = conn.ReadResponse();
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->body, request);
  // chunked body, reported.
  ASSERT_TRUE(conn.Send("POST /r HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n"
                        "x-test-report-body: 1\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                  .ok());
  HttpResult report = conn.ReadResponse();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->body, absl::StrCat("received=11 fnv=", FnvHex(Fnv1a("hello world"))));
  EXPECT_EQ(up->LastRequestBodySize(), 11u);
  EXPECT_EQ(up->LastRequestBodyChecksum(), Fnv1a("hello world"));
  // A big body streamed in pieces: counted and checksummed, not buffered.
  const uint64_t kSize = 8 << 20;
  ASSERT_TRUE(conn.Send(absl::StrCat("PUT /big HTTP/1.1\r\nhost: x\r\ncontent-length: ", kSize,
                                     "\r\nx-test-report-body: 1\r\n\r\n"))
                  .ok());
  uint64_t fnv = kFnvOffsetBasis;
  for (uint64_t sent = 0; sent < kSize;) {
    std::string piece = PatternBody(std::min<uint64_t>(kSize - sent, 1 << 20), sent);
    fnv = Fnv1a(piece, fnv);
    ASSERT_TRUE(conn.Send(piece).ok());
    sent += piece.size();
  }
  HttpResult big = conn.ReadResponse();
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->body, absl::StrCat("received=", kSize, " fnv=", FnvHex(fnv)));
  UpstreamRequest last = up->LastRequest();
  EXPECT_EQ(last.method, "PUT");
  EXPECT_TRUE(last.body_complete);
  EXPECT_EQ(last.body_fnv, fnv);
}

TEST(TestUpstreamTest, ExpectContinue) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(conn.Send("POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n"
                        "content-length: 4\r\nx-test-report-body: 1\r\n\r\n")
                  .ok());
  HttpResult interim = conn.ReadResponse();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->status, 100);
  EXPECT_EQ(interim->raw_head, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(conn.Send("abcd").ok());
  HttpResult final_response = conn.ReadResponse();
  ASSERT_TRUE(final_response.ok()) << final_response.status();
  EXPECT_EQ(final_response->status, 200);
  EXPECT_EQ(final_response->body, absl::StrCat("received=4 fnv=", FnvHex(Fnv1a("abcd"))));
}

TEST(TestUpstreamTest, Head) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(conn.Send(BuildRequest("HEAD", "/", {{"x-test-body-size", "12345"}})).ok());
  HttpResult head = conn.ReadResponse(kDefaultTimeout, /*head_request=*/true);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->Header("content-length"), "12345");
  EXPECT_EQ(head->body, "");
  // No body bytes followed: the next response on the connection parses.
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/")).ok());
  HttpResult get = conn.ReadResponse();
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->body, "v1");
  EXPECT_EQ(up->LastRequest().method, "GET");
}

TEST(TestUpstreamTest, ConnectionCloseAndHttp10) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  for (const HeaderList& headers :
       {HeaderList{{"x-test-connection-close", "1"}}, HeaderList{{"connection", "close"}}}) {
    RawConnection conn = MustConnect(up->port());
    ASSERT_TRUE(conn.Send(BuildRequest("GET", "/", headers)).ok());
    HttpResult r = conn.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(r->connection_closed_after);
  }
  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(conn.Send("GET / HTTP/1.0\r\n\r\n").ok());
  HttpResult r = conn.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "v1");
  EXPECT_TRUE(r->connection_closed_after);
  conn.Close();  // the upstream's lingering close ends with our FIN
  EXPECT_TRUE(WaitUntil([&] { return up->active_connections() == 0; }));
}

TEST(TestUpstreamTest, MalformedRequestGets400AndClose) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(conn.Send("GARBAGE\r\n\r\nGET / HTTP/1.1\r\n\r\n").ok());
  HttpResult r = conn.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(r->connection_closed_after);
}

TEST(TestUpstreamTest, StopClosesEverythingAndIsIdempotent) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  uint16_t port = up->port();
  RawConnection idle = MustConnect(port);
  RawConnection waiting = MustConnect(port);
  ASSERT_TRUE(waiting.Send(BuildRequest("GET", "/", {{"x-test-delay-ms", "5000"}})).ok());
  ASSERT_TRUE(WaitUntil([&] { return up->requests_received() == 1; }));
  absl::Time start = absl::Now();
  up->Stop();
  up->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(idle.IsClosedByPeer(absl::Seconds(1)));
  EXPECT_FALSE(waiting.ReadResponse(absl::Seconds(1)).ok());
  EXPECT_EQ(up->active_connections(), 0u);
  absl::StatusOr<RawConnection> refused = RawConnection::Connect(port, absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  // The port can be served again (an upstream that "comes back").
  auto again = TestUpstream::Start("v1-again", port);
  ASSERT_NE(again, nullptr);
  HttpResult r = HttpGet(port, "/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "v1-again");
}

// 200 MB through a reader that first does not read at all, then reads slowly: the upstream must
// only write when the socket is writable, so this process's memory stays far below the body.
TEST(TestUpstreamTest, HugeBodyWithSlowReaderInBoundedMemory) {
  auto up = StartUpstream("v1");
  ASSERT_NE(up, nullptr);
  const uint64_t kSize = 200ull << 20;
  const int64_t kBudgetKb = 40 << 10;
  const int64_t rss_before = SelfRssKb();
  ASSERT_GT(rss_before, 0);
  RawConnection conn = MustConnect(up->port());
  ASSERT_TRUE(
      conn.Send(BuildRequest("GET", "/", {{"x-test-body-size", absl::StrCat(kSize)}})).ok());
  absl::SleepFor(
      absl::Milliseconds(300));  // not reading: the upstream must be stuck, not buffering
  int64_t peak = SelfRssKb();
  uint64_t offset = 0;
  uint64_t next_pause = 0;
  bool pattern_ok = true;
  ReadOptions options;
  options.timeout = absl::Seconds(60);
  options.body_sink = [&](absl::string_view data) {
    pattern_ok = pattern_ok && MatchesPattern(data, offset);
    offset += data.size();
    if (offset >= next_pause) {  // slow: a pause every 4 MiB
      next_pause += 4 << 20;
      absl::SleepFor(absl::Milliseconds(3));
      peak = std::max(peak, SelfRssKb());
    }
    return true;
  };
  HttpResult r = conn.ReadResponse(options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body_size, kSize);
  EXPECT_EQ(r->Header("content-length"), absl::StrCat(kSize));
  EXPECT_TRUE(pattern_ok);
  EXPECT_LT(peak - rss_before, kBudgetKb) << "RSS grew from " << rss_before << " KiB to " << peak;
}

// ---- ProxyProcess ----

constexpr char kValidConfig[] = R"(
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
static_resources:
  listeners:
  - name: ingress
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: v1 }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: v1
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: v1
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${V1_PORT} }
)";

TEST(ProxyProcessTest, ExitBeforeAdminAddressFailsWithOutput) {
  // Validate mode checks the config, prints OK and exits without an admin listener.
  std::string config = Substitute(kValidConfig, {{"V1_PORT", "8080"}});
  StartOptions options;
  options.timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<ProxyProcess>> p =
      ProxyProcess::Start(config, {"--mode", "validate"}, options);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::IsAborted(p.status())) << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), "exited before writing its admin address"))
      << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), "exit code 0")) << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), "--- weir output ---\nOK\n")) << p.status();

  absl::StatusOr<std::unique_ptr<ProxyProcess>> bad = ProxyProcess::Start(
      "static_resources: {clusters: [{name: a, lb_policy: FASTEST}]}\n", {"--mode", "validate"});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "exit code 1")) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "FASTEST")) << bad.status();

  options.binary = "/nonexistent/weir";
  absl::StatusOr<std::unique_ptr<ProxyProcess>> missing = ProxyProcess::Start(config, {}, options);
  EXPECT_TRUE(absl::IsFailedPrecondition(missing.status())) << missing.status();
}

// A stand-in for weir (the lifecycle paths before serve mode exists): publishes ${ADMIN_PORT}
// as its admin address unless ${ADMIN_PORT} is "none", records its pid and its background
// child's pid, and exits 0 on SIGTERM, leaving the child behind for the process-group kill.
constexpr char kFakeWeir[] = R"(#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    --admin-address-path) out="$2"; shift ;;
  esac
  shift
done
echo "fake weir: args parsed"
sleep 30 &
echo "$$ $!" > "${PID_FILE}"
trap 'echo "fake weir: SIGTERM"; exit 0' TERM
if [ "${ADMIN_PORT}" != none ]; then
  printf '127.0.0.1:%s\n' "${ADMIN_PORT}" > "$out.tmp" && mv "$out.tmp" "$out"
fi
wait
)";

class FakeWeirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/fake-weir-" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0755);
    pid_file_ = dir_ + "/pids";
    ::unlink(pid_file_.c_str());
  }
  void TearDown() override {
    ::unlink(pid_file_.c_str());
    ::unlink(script_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string WriteScript(const std::string& admin_port) {
    script_ = dir_ + "/fake-weir.sh";
    std::ofstream(script_) << Substitute(kFakeWeir,
                                         {{"PID_FILE", pid_file_}, {"ADMIN_PORT", admin_port}});
    ::chmod(script_.c_str(), 0755);
    return script_;
  }
  // The script's pid and its background child's pid, once written.
  std::pair<pid_t, pid_t> Pids() {
    std::pair<pid_t, pid_t> pids{-1, -1};
    WaitUntil([&] {
      std::ifstream in(pid_file_);
      return static_cast<bool>(in >> pids.first >> pids.second);
    });
    return pids;
  }

  std::string dir_, pid_file_, script_;
};

TEST_F(FakeWeirTest, LifecycleSignalsAndProcessGroupKill) {
  auto admin = StartUpstream("LIVE");  // answers GET /ready with 200 "LIVE"
  ASSERT_NE(admin, nullptr);
  StartOptions options;
  options.binary = WriteScript(absl::StrCat(admin->port()));
  absl::StatusOr<std::unique_ptr<ProxyProcess>> p = ProxyProcess::Start("{}\n", {}, options);
  ASSERT_TRUE(p.ok()) << p.status();
  ProxyProcess& proc = **p;
  EXPECT_EQ(proc.admin_port(), admin->port());
  EXPECT_GE(admin->requests_received(), 1u);  // waited for /ready
  EXPECT_EQ(admin->LastRequest().target, "/ready");
  auto [script_pid, child_pid] = Pids();
  EXPECT_EQ(script_pid, proc.pid());
  EXPECT_EQ(::getpgid(child_pid), proc.pid());  // its own process group

  HttpResult ready = proc.AdminGet("/ready");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->body, "LIVE");
  HttpResult post = proc.AdminPost("/healthcheck/fail");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(admin->LastRequest().method, "POST");
  EXPECT_EQ(admin->LastRequest().Header("content-length"), "0");
  EXPECT_GT(proc.RssKb(), 0);
  // stdin/out/err and maybe the script itself: nothing of the test (sockets) leaked into it.
  EXPECT_GE(proc.OpenFdCount(), 3);
  EXPECT_LE(proc.OpenFdCount(), 5);
  EXPECT_TRUE(proc.Running());
  EXPECT_EQ(proc.WaitExit(absl::Milliseconds(50)), std::nullopt);

  proc.Signal(SIGTERM);
  EXPECT_EQ(proc.WaitExit(absl::Seconds(5)), 0);
  EXPECT_EQ(proc.WaitExit(absl::ZeroDuration()), 0);
  EXPECT_FALSE(proc.Running());
  EXPECT_EQ(proc.RssKb(), -1);
  EXPECT_TRUE(absl::StrContains(proc.Log(), "fake weir: SIGTERM")) << proc.Log();
  EXPECT_FALSE(IsDead(child_pid));  // the orphaned child lives on...
  const std::string dir = proc.temp_dir();
  p->reset();
  EXPECT_TRUE(WaitUntil([&] { return IsDead(child_pid); }));  // ...until the group is killed
  EXPECT_NE(::access(dir.c_str(), F_OK), 0);                  // temp dir removed
}

TEST_F(FakeWeirTest, NoAdminAddressTimesOutAndKills) {
  StartOptions options;
  options.binary = WriteScript("none");
  options.timeout = absl::Seconds(1);
  absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<ProxyProcess>> p = ProxyProcess::Start("{}\n", {}, options);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(p.status())) << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), "fake weir: args parsed")) << p.status();
  auto [script_pid, child_pid] = Pids();
  EXPECT_TRUE(WaitUntil([&] { return IsDead(script_pid) && IsDead(child_pid); }));
}

TEST_F(FakeWeirTest, NeverReadyTimesOut) {
  // An admin address nobody listens on: /ready is refused until the timeout.
  uint16_t dead_port;
  {
    auto gone = StartUpstream("gone");
    ASSERT_NE(gone, nullptr);
    dead_port = gone->port();
  }
  StartOptions options;
  options.binary = WriteScript(absl::StrCat(dead_port));
  options.timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<ProxyProcess>> p = ProxyProcess::Start("{}\n", {}, options);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(p.status())) << p.status();
  EXPECT_TRUE(absl::StrContains(p.status().message(), "not ready")) << p.status();
  options.wait_for_ready = false;
  absl::StatusOr<std::unique_ptr<ProxyProcess>> q = ProxyProcess::Start("{}\n", {}, options);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ((*q)->admin_port(), dead_port);
  EXPECT_FALSE((*q)->AdminGet("/ready").ok());
}

}  // namespace
}  // namespace weir_test
