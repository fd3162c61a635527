// weir serving HTTP/1.1 for real: weighted splits, pinning, what is forwarded, local replies,
// and counters that agree exactly with what clients saw. Every test runs with 1 and 2 workers.

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/proxy_fixture.h"

namespace weir_test {
namespace {

using ::testing::HasSubstr;

TEST_P(ProxyTest, WeightedSplitMatchesTheWeights) {
  StartProxy();
  // 20 000 requests over a few keep-alive connections; each pick is an independent draw.
  constexpr int kRequests = 20000;
  std::map<std::string, int> seen;
  for (int c = 0; c < 4; ++c) {
    absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
    ASSERT_TRUE(connection.ok()) << connection.status();
    for (int i = 0; i < kRequests / 4; ++i) {
      ASSERT_TRUE(connection->Send(BuildRequest("GET", "/split", {{"host", "app"}})).ok());
      HttpResult response = connection->ReadResponse();
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->status, 200);
      ++seen[response->body];
    }
  }
  const double v2_share = 100.0 * seen["v2"] / kRequests;
  EXPECT_EQ(seen["v1"] + seen["v2"], kRequests);
  EXPECT_NEAR(v2_share, 10.0, 1.5) << "v1=" << seen["v1"] << " v2=" << seen["v2"];
  // The cluster counters say the same.
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_200", seen["v1"]), seen["v1"]);
  EXPECT_EQ(StatEventually("cluster.v2.upstream_rq_200", seen["v2"]), seen["v2"]);
}

TEST_P(ProxyTest, HeaderNamePinsTheVersion) {
  StartProxy();
  for (int value : {0, 1, 89, 90, 95, 99, 100, 189, 190, 12345}) {
    HttpResult response = HttpGet(port_, "/split", {{"x-canary-pin", absl::StrCat(value)}});
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, value % 100 < 90 ? "v1" : "v2") << "pin " << value;
  }
  // Not a single valid uint64: a random pick (both versions still answer 200).
  HttpResult garbage = HttpGet(port_, "/split", {{"x-canary-pin", "not-a-number"}});
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->status, 200);
}

TEST_P(ProxyTest, ForwardsTheRequestAsEnvoyDoes) {
  StartProxy();
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection
                  ->Send("GET /v1/path?q=1 HTTP/1.1\r\nHost: app.example:8080\r\n"
                         "Connection: keep-alive, x-hop\r\nX-Hop: secret\r\nKeep-Alive: 5\r\n"
                         "Proxy-Connection: keep-alive\r\nTE: gzip\r\nX-Custom: kept\r\n\r\n")
                  .ok());
  HttpResult response = connection->ReadResponse();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("server"), "envoy");
  EXPECT_TRUE(response->HasHeader("x-envoy-upstream-service-time"));
  EXPECT_TRUE(response->HasHeader("date"));
  EXPECT_EQ(response->Header("x-upstream"), "v1");

  UpstreamRequest seen = v1_->LastRequest();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/v1/path?q=1");
  EXPECT_EQ(seen.Header("host"), "app.example:8080");  // Host is kept
  EXPECT_EQ(seen.Header("x-custom"), "kept");
  EXPECT_EQ(seen.Header("x-forwarded-proto"), "http");
  EXPECT_EQ(seen.Header("x-envoy-expected-rq-timeout-ms"), "15000");
  ASSERT_TRUE(seen.Header("x-request-id").has_value());
  // A generated UUID version 4 (RFC 4122 text form, variant bits 10).
  EXPECT_THAT(std::string(*seen.Header("x-request-id")),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                      "[0-9a-f]{12}"));
  for (const char* hop : {"connection", "x-hop", "keep-alive", "proxy-connection", "te"}) {
    EXPECT_FALSE(seen.Header(hop).has_value()) << hop << " was forwarded";
  }
  EXPECT_FALSE(seen.Header("x-forwarded-for").has_value());  // use_remote_address is off

  // An x-request-id from the client is kept.
  HttpResult second = HttpGet(port_, "/v1", {{"x-request-id", "client-id"}});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(v1_->LastRequest().Header("x-request-id"), "client-id");

  // Every request gets its own.
  ASSERT_TRUE(HttpGet(port_, "/v1").ok());
  EXPECT_NE(v1_->LastRequest().Header("x-request-id"), seen.Header("x-request-id"));
}

TEST_P(ProxyTest, UseRemoteAddressAppendsForwardedFor) {
  StartProxy("use_remote_address: true");
  HttpResult response = HttpGet(port_, "/v1", {{"x-forwarded-for", "203.0.113.9"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(v1_->LastRequest().Header("x-forwarded-for"), "203.0.113.9, 127.0.0.1");
}

TEST_P(ProxyTest, RewritesPathAndHost) {
  StartProxy();
  HttpResult response = HttpGet(port_, "/rewrite/a/b?c=d", {{"host", "public.example"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(v1_->LastRequest().target, "/rewritten/a/b?c=d");
  EXPECT_EQ(v1_->LastRequest().Header("host"), "backend.internal");
}

TEST_P(ProxyTest, LocalRepliesAndTheirCounters) {
  StartProxy();
  HttpResult direct = HttpGet(port_, "/direct");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->status, 200);
  EXPECT_EQ(direct->body, "hello");

  HttpResult redirect = HttpGet(port_, "/redirect/x?y=1", {{"host", "site.example"}});
  ASSERT_TRUE(redirect.ok());
  EXPECT_EQ(redirect->status, 301);
  EXPECT_EQ(redirect->Header("location"), "https://site.example/redirect/x?y=1");

  HttpResult no_route = HttpGet(port_, "/nowhere");
  ASSERT_TRUE(no_route.ok());
  EXPECT_EQ(no_route->status, 404);

  HttpResult no_cluster = HttpGet(port_, "/unknown");
  ASSERT_TRUE(no_cluster.ok());
  EXPECT_EQ(no_cluster->status, 503);
  EXPECT_THAT(no_cluster->body, HasSubstr("cluster not found"));

  EXPECT_EQ(StatEventually("http.ingress.rq_direct_response", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.rq_redirect", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.no_route", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.no_cluster", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_2xx", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_3xx", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_4xx", 1), 1u);
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_5xx", 1), 1u);
}

// Every outcome a client can see, tallied client-side and compared with the counters exactly.
TEST_P(ProxyTest, CountersEqualTheClientLedger) {
  StartProxy();
  std::map<std::string, int> cluster_codes;  // "v1:200" -> n
  std::map<int, int> downstream_classes;     // 2 -> n
  int total = 0;
  auto record = [&](const HttpResult& response, const std::string& cluster) {
    ASSERT_TRUE(response.ok()) << response.status();
    ++total;
    ++downstream_classes[response->status / 100];
    if (!cluster.empty()) ++cluster_codes[absl::StrCat(cluster, ":", response->status)];
  };
  for (int i = 0; i < 50; ++i) {
    record(HttpGet(port_, "/split", {{"x-canary-pin", absl::StrCat(i)}}), i % 100 < 90 ? "v1" : "v2");
    record(HttpGet(port_, "/split", {{"x-canary-pin", "95"}}), "v2");
    if (i % 5 == 0) {
      record(HttpGet(port_, "/v2", {{"x-test-status", "503"}}), "v2");
      record(HttpGet(port_, "/v1", {{"x-test-status", "404"}}), "v1");
      record(HttpGet(port_, "/refused"), "refused");
      record(HttpGet(port_, "/nowhere"), "");
    }
  }
  record(HttpGet(port_, "/slow", {{"x-test-delay-ms", "1500"}}), "v1");  // 504
  for (const auto& [key, count] : cluster_codes) {
    std::vector<std::string> parts = absl::StrSplit(key, ':');
    const std::string name = absl::StrCat("cluster.", parts[0], ".upstream_rq_", parts[1]);
    EXPECT_EQ(StatEventually(name, count), static_cast<uint64_t>(count)) << name;
  }
  EXPECT_EQ(cluster_codes["v1:504"], 1);
  EXPECT_EQ(cluster_codes["refused:503"], 10);
  for (const auto& [cls, count] : downstream_classes) {
    const std::string name = absl::StrCat("http.ingress.downstream_rq_", cls, "xx");
    EXPECT_EQ(StatEventually(name, count), static_cast<uint64_t>(count)) << name;
  }
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_total", total), static_cast<uint64_t>(total));
  EXPECT_EQ(StatEventually("http.ingress.downstream_rq_completed", total),
            static_cast<uint64_t>(total));
}

TEST_P(ProxyTest, AdminEndpoints) {
  StartProxy();
  ASSERT_TRUE(HttpGet(port_, "/v1").ok());
  HttpResult ready = proxy_->AdminGet("/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "LIVE\n");

  HttpResult prometheus = proxy_->AdminGet("/stats/prometheus");
  ASSERT_TRUE(prometheus.ok());
  EXPECT_THAT(prometheus->body, HasSubstr("# TYPE envoy_cluster_upstream_rq counter\n"));
  EXPECT_THAT(prometheus->body,
              HasSubstr("envoy_cluster_upstream_rq{envoy_response_code=\"200\","
                        "envoy_cluster_name=\"v1\"} 1\n"));
  EXPECT_THAT(prometheus->body, HasSubstr("envoy_cluster_upstream_rq_time_bucket{"
                                          "envoy_cluster_name=\"v1\",le=\"0.5\"}"));
  EXPECT_THAT(prometheus->body,
              HasSubstr("envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\","
                        "envoy_http_conn_manager_prefix=\"ingress\"} 1\n"));
  EXPECT_THAT(prometheus->body, HasSubstr(absl::StrCat("envoy_server_concurrency{} ", GetParam())));

  HttpResult stats = proxy_->AdminGet("/stats?filter=^cluster\\.v1\\.upstream_rq_200$");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->body, "cluster.v1.upstream_rq_200: 1\n");
  HttpResult bad_filter = proxy_->AdminGet("/stats?filter=(");
  ASSERT_TRUE(bad_filter.ok());
  EXPECT_EQ(bad_filter->status, 400);

  HttpResult clusters = proxy_->AdminGet("/clusters");
  ASSERT_TRUE(clusters.ok());
  EXPECT_THAT(clusters->body, HasSubstr(absl::StrCat("v1::127.0.0.1:", v1_->port(),
                                                     "::health_flags::healthy\n")));
  HttpResult listeners = proxy_->AdminGet("/listeners");
  ASSERT_TRUE(listeners.ok());
  EXPECT_EQ(listeners->body, absl::StrCat("ingress::127.0.0.1:", port_, "\n"));

  HttpResult dump = proxy_->AdminGet("/config_dump");
  ASSERT_TRUE(dump.ok());
  EXPECT_EQ(dump->Header("content-type"), "application/json");
  EXPECT_THAT(dump->body, HasSubstr("type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"));
  EXPECT_THAT(dump->body, HasSubstr("type.googleapis.com/envoy.admin.v3.ClustersConfigDump"));
  EXPECT_THAT(dump->body, HasSubstr("\"name\": \"test_routes\""));

  HttpResult info = proxy_->AdminGet("/server_info");
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(info->body, HasSubstr("\"state\": \"LIVE\""));

  // Mutations are POST-only.
  HttpResult get_fail = proxy_->AdminGet("/healthcheck/fail");
  ASSERT_TRUE(get_fail.ok());
  EXPECT_EQ(get_fail->status, 400);
  EXPECT_EQ(proxy_->AdminGet("/ready")->status, 200);
  HttpResult post_fail = proxy_->AdminPost("/healthcheck/fail");
  ASSERT_TRUE(post_fail.ok());
  EXPECT_EQ(post_fail->body, "OK\n");
  EXPECT_EQ(proxy_->AdminGet("/ready")->status, 503);
  EXPECT_EQ(proxy_->AdminGet("/ready")->body, "DRAINING\n");
  // While failed, responses close their connections (drain-close), but traffic still flows.
  HttpResult during = HttpGet(port_, "/v1");
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->status, 200);
  EXPECT_EQ(during->Header("connection"), "close");
  ASSERT_TRUE(proxy_->AdminPost("/healthcheck/ok").ok());
  EXPECT_EQ(proxy_->AdminGet("/ready")->status, 200);
}

INSTANTIATE_TEST_SUITE_P(Workers, ProxyTest, ::testing::Values(1, 2),
                         [](const auto& info) { return absl::StrCat(info.param, "_workers"); });

}  // namespace
}  // namespace weir_test
