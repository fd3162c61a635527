// Lifecycle: graceful drain on SIGTERM under load (wrk), /ready while draining, idle keep-alive
// connections closed, /drain_listeners, /quitquitquit, and the shipped configs served for real.

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/proxy_fixture.h"
#include "tests/integration/run_command.h"

namespace weir_test {
namespace {

using ::testing::HasSubstr;

// Runs a shell command, returning its output (stdout+stderr).
std::string RunShell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  pclose(pipe);
  return output;
}

TEST_P(ProxyTest, SigtermUnderLoadFailsNoRequest) {
  StartOptions options;
  options.drain_time_s = 15;
  StartProxy("", {}, options);
  // wrk for a bounded 4 s; SIGTERM arrives 1.5 s in, inside the drain grace period.
  std::string wrk_output;
  std::thread load([&] {
    wrk_output = RunShell(absl::StrCat("timeout 20 wrk -t1 -c16 -d4s http://127.0.0.1:", port_, "/v1"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  proxy_->Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  HttpResult ready = proxy_->AdminGet("/ready");
  if (ready.ok()) {
    EXPECT_EQ(ready->status, 503);
    EXPECT_EQ(ready->body, "DRAINING\n");
  }
  load.join();
  const absl::Time wrk_done = absl::Now();
  std::optional<int> exit_code = proxy_->WaitExit(absl::Seconds(15));
  ASSERT_TRUE(exit_code.has_value()) << "did not exit within the drain time\n" << proxy_->Log();
  EXPECT_EQ(*exit_code, 0) << proxy_->Log();
  EXPECT_LT(absl::Now() - wrk_done, absl::Seconds(5));
  // wrk prints "Socket errors: ..." and "Non-2xx or 3xx responses: N" only when there were any.
  EXPECT_THAT(wrk_output, HasSubstr("requests in"));
  EXPECT_EQ(wrk_output.find("Socket errors"), std::string::npos) << wrk_output;
  EXPECT_EQ(wrk_output.find("Non-2xx"), std::string::npos) << wrk_output;
}

TEST_P(ProxyTest, DrainClosesIdleConnectionsAndExits) {
  StartOptions options;
  options.drain_time_s = 10;
  StartProxy("", {}, options);
  absl::StatusOr<RawConnection> idle = RawConnection::Connect(port_);
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE(idle->Send(BuildRequest("GET", "/v1", {{"host", "a"}})).ok());
  ASSERT_TRUE(idle->ReadResponse().ok());
  const absl::Time start = absl::Now();
  proxy_->Signal(SIGTERM);
  // The idle keep-alive connection is closed within about a second.
  EXPECT_TRUE(idle->IsClosedByPeer(absl::Seconds(4)));
  std::optional<int> exit_code = proxy_->WaitExit(absl::Seconds(10));
  ASSERT_TRUE(exit_code.has_value()) << proxy_->Log();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
}

TEST_P(ProxyTest, InFlightRequestFinishesDuringDrain) {
  StartOptions options;
  options.drain_time_s = 10;
  StartProxy("", {}, options);
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection
                  ->Send(BuildRequest("GET", "/v1", {{"host", "a"}, {"x-test-delay-ms", "1500"}}))
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  proxy_->Signal(SIGTERM);
  HttpResult response = connection->ReadResponse(absl::Seconds(5));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("connection"), "close");  // drain-close
  std::optional<int> exit_code = proxy_->WaitExit(absl::Seconds(10));
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
}

TEST_P(ProxyTest, DrainTimeIsAnUpperBound) {
  StartOptions options;
  options.drain_time_s = 2;
  StartProxy("", {}, options);
  // A request that would outlive the drain time.
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port_);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection
                  ->Send(BuildRequest("GET", "/v1", {{"host", "a"}, {"x-test-delay-ms", "10000"}}))
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const absl::Time start = absl::Now();
  proxy_->Signal(SIGTERM);
  std::optional<int> exit_code = proxy_->WaitExit(absl::Seconds(8));
  ASSERT_TRUE(exit_code.has_value()) << proxy_->Log();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(3500));
}

TEST_P(ProxyTest, DrainListenersStopsAcceptingButKeepsAdmin) {
  StartProxy();
  HttpResult drain = proxy_->AdminPost("/drain_listeners");
  ASSERT_TRUE(drain.ok());
  EXPECT_EQ(drain->body, "OK\n");
  EXPECT_TRUE(WaitUntil([&] { return !RawConnection::Connect(port_, absl::Seconds(1)).ok(); }));
  EXPECT_EQ(proxy_->AdminGet("/ready")->status, 503);
  EXPECT_TRUE(proxy_->Running());
}

TEST_P(ProxyTest, QuitQuitQuit) {
  StartProxy();
  HttpResult quit = proxy_->AdminPost("/quitquitquit");
  ASSERT_TRUE(quit.ok());
  EXPECT_EQ(quit->body, "OK\n");
  std::optional<int> exit_code = proxy_->WaitExit(absl::Seconds(5));
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
}

// Context switches so far, summed over every thread of process `pid`: each wake-up of a thread
// sleeping in epoll_wait is one.
uint64_t ContextSwitches(pid_t pid) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), ec)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      uint64_t count = 0;
      for (const char* key : {"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"}) {
        if (absl::StartsWith(line, key) &&
            absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(strlen(key))), &count)) {
          total += count;
        }
      }
    }
  }
  return total;
}

TEST_P(ProxyTest, IdleProxySleepsAndItsTimeoutsStillFire) {
  StartProxy(
      "request_headers_timeout: 0.5s\n"
      "          common_http_protocol_options: {idle_timeout: 1.5s}");
  // A request leaves an idle pooled upstream connection and this idle keep-alive connection,
  // whose idle timeout is armed.
  absl::StatusOr<RawConnection> idle = RawConnection::Connect(port_);
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE(idle->Send(BuildRequest("GET", "/v1", {{"host", "a"}})).ok());
  ASSERT_TRUE(idle->ReadResponse().ok());
  const absl::Time idle_since = absl::Now();

  // Nothing is due for the next second: no worker wakes up. (A 20 ms tick would be 50 wake-ups
  // per worker; the bound leaves room for stray wake-ups of the main thread.)
  absl::SleepFor(absl::Milliseconds(200));
  const uint64_t before = ContextSwitches(proxy_->pid());
  absl::SleepFor(absl::Seconds(1));
  EXPECT_LE(ContextSwitches(proxy_->pid()) - before, 6u);

  // The sleeping worker still closes the connection at its idle timeout.
  EXPECT_TRUE(idle->IsClosedByPeer(absl::Seconds(4)));
  const absl::Duration idle_for = absl::Now() - idle_since;
  EXPECT_GE(idle_for, absl::Milliseconds(1450));
  EXPECT_LT(idle_for, absl::Milliseconds(2500));
  EXPECT_EQ(StatEventually("http.ingress.downstream_cx_idle_timeout", 1), 1u);

  // Woken by a new connection after sleeping, the worker arms deadlines from a fresh clock: the
  // request headers timeout takes its 500 ms, not less.
  absl::SleepFor(absl::Milliseconds(500));
  absl::StatusOr<RawConnection> slow = RawConnection::Connect(port_);
  ASSERT_TRUE(slow.ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(slow->Send("GET /v1 HTTP/1.1\r\nHost: a\r\n").ok());  // never finished
  HttpResult response = slow->ReadResponse(absl::Seconds(3));
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 408);
  EXPECT_GE(took, absl::Milliseconds(480));
  EXPECT_LT(took, absl::Milliseconds(1500));
}

// A cluster's idle_timeout closes its pooled upstream connections on time, also when the worker
// sleeps in between: with nothing else due it sleeps until the first one expires.
TEST_P(ProxyTest, PooledUpstreamConnectionsCloseAtIdleTimeoutWhileTheWorkerSleeps) {
  v1_cluster_extra_ =
      "typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: "
      "{\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
      "common_http_protocol_options: {idle_timeout: 1s}, "
      "explicit_http_config: {http_protocol_options: {}}}}";
  StartProxy();
  HttpResult response = HttpGet(port_, "/v1");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  const absl::Time parked = absl::Now();
  EXPECT_EQ(Stat("cluster.v1.upstream_cx_active"), 1u);
  ASSERT_TRUE(WaitUntil([&] { return Stat("cluster.v1.upstream_cx_destroy_local") == 1; },
                        absl::Seconds(4)));
  const absl::Duration idle_for = absl::Now() - parked;
  EXPECT_GE(idle_for, absl::Milliseconds(950));
  EXPECT_LT(idle_for, absl::Milliseconds(2000));
  EXPECT_EQ(Stat("cluster.v1.upstream_cx_active"), 0u);
  EXPECT_EQ(Stat("cluster.v1.upstream_cx_idle_timeout"), 1u);
}

TEST_P(ProxyTest, ClusterMaxRequestsPerConnectionOpensFreshUpstreamConnections) {
  v1_cluster_extra_ =
      "typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: "
      "{\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
      "common_http_protocol_options: {max_requests_per_connection: 2}, "
      "explicit_http_config: {http_protocol_options: {}}}}";
  // Five requests on one client connection, HTTP/1.1 and then HTTP/2 (two code paths upstream).
  for (const bool http2 : {false, true}) {
    SCOPED_TRACE(http2 ? "HTTP/2 client" : "HTTP/1.1 client");
    StartProxy();
    if (http2) {
      // One stream after another on one connection (curl 7.88 cannot reuse an h2c connection).
      CommandResult run =
          RunCommand(absl::StrCat("timeout 60 /usr/bin/python3 ", WEIR_SOURCE_DIR,
                                  "/tests/integration/h2_abuse.py ", port_, " sequential 5 /v1"));
      EXPECT_THAT(run.output, HasSubstr("\"responses\": 5,"));
      EXPECT_EQ(Stat("http.ingress.downstream_rq_2xx"), 5u);
    } else {
      absl::StatusOr<RawConnection> client = RawConnection::Connect(port_);
      ASSERT_TRUE(client.ok()) << client.status();
      for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(client->Send(BuildRequest("GET", "/v1", {{"host", "x"}})).ok());
        HttpResult response = client->ReadResponse();
        ASSERT_TRUE(response.ok()) << response.status();
        EXPECT_EQ(response->status, 200);
        EXPECT_FALSE(response->connection_closed_after);  // the client's connection stays up
      }
    }
    // Requests 1-2, 3-4 and 5 on three upstream connections; the first two retired at the limit.
    EXPECT_EQ(v1_->connections_accepted(), 3u);
    EXPECT_EQ(Stat("cluster.v1.upstream_cx_total"), 3u);
    EXPECT_EQ(Stat("cluster.v1.upstream_cx_max_requests"), 2u);
    EXPECT_EQ(StatEventually("cluster.v1.upstream_cx_destroy_local", 2), 2u);
    proxy_.reset();
  }
}

TEST_P(ProxyTest, ListenerMaxRequestsPerConnectionClosesAfterTheLastResponse) {
  StartProxy("common_http_protocol_options: {max_requests_per_connection: 2}");
  absl::StatusOr<RawConnection> client = RawConnection::Connect(port_);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(client->Send(BuildRequest("GET", "/v1", {{"host", "x"}})).ok());
    HttpResult response = client->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    // The last response says so, then the connection closes (Envoy's behaviour).
    EXPECT_EQ(FindHeader(response->headers, "connection"),
              i == 2 ? std::optional<std::string>("close") : std::nullopt);
    EXPECT_EQ(response->connection_closed_after, i == 2);
  }
  EXPECT_EQ(Stat("http.ingress.downstream_cx_max_requests_reached"), 1u);
  // 0 means no limit.
  proxy_.reset();
  StartProxy("common_http_protocol_options: {max_requests_per_connection: 0}");
  absl::StatusOr<RawConnection> unlimited = RawConnection::Connect(port_);
  ASSERT_TRUE(unlimited.ok()) << unlimited.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(unlimited->Send(BuildRequest("GET", "/v1", {{"host", "x"}})).ok());
    HttpResult response = unlimited->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_FALSE(response->connection_closed_after);
  }
  EXPECT_EQ(Stat("http.ingress.downstream_cx_max_requests_reached"), 0u);
}

TEST_P(ProxyTest, MaxConnectionDurationClosesIdleConnectionsAndEndsBusyOnes) {
  StartProxy("common_http_protocol_options: {max_connection_duration: 0.5s}");
  // Idle when the time is up: closed then, not at the idle timeout (1 h).
  absl::StatusOr<RawConnection> idle = RawConnection::Connect(port_);
  ASSERT_TRUE(idle.ok()) << idle.status();
  const absl::Time opened = absl::Now();
  ASSERT_TRUE(idle->Send(BuildRequest("GET", "/v1", {{"host", "x"}})).ok());
  HttpResult first = idle->ReadResponse();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->connection_closed_after);
  EXPECT_TRUE(idle->IsClosedByPeer(absl::Seconds(3)));
  const absl::Duration lived = absl::Now() - opened;
  EXPECT_GE(lived, absl::Milliseconds(450));
  EXPECT_LT(lived, absl::Milliseconds(1500));
  EXPECT_EQ(Stat("http.ingress.downstream_cx_max_duration_reached"), 1u);
  EXPECT_EQ(Stat("http.ingress.downstream_cx_idle_timeout"), 0u);
  // Busy when the time is up: the response finishes, says `connection: close`, and the
  // connection closes.
  absl::StatusOr<RawConnection> busy = RawConnection::Connect(port_);
  ASSERT_TRUE(busy.ok()) << busy.status();
  ASSERT_TRUE(
      busy->Send(BuildRequest("GET", "/v1", {{"host", "x"}, {"x-test-delay-ms", "800"}})).ok());
  HttpResult late = busy->ReadResponse();
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->status, 200);
  EXPECT_EQ(FindHeader(late->headers, "connection"), std::optional<std::string>("close"));
  EXPECT_TRUE(late->connection_closed_after);
  EXPECT_EQ(StatEventually("http.ingress.downstream_cx_max_duration_reached", 2), 2u);
}

INSTANTIATE_TEST_SUITE_P(Workers, ProxyTest, ::testing::Values(1, 2),
                         [](const auto& info) { return absl::StrCat(info.param, "_workers"); });

// --- The shipped configs, served for real (ports and host names pointed at test upstreams). ---

std::string ReadConfig(const std::string& name) {
  std::ifstream in(std::string(WEIR_SOURCE_DIR) + "/configs/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ShippedConfigTest, QuickstartSplitsNinetyTen) {
  // Its listeners refer to each other by port, so move all three to free ports together.
  std::string config = ReadConfig("quickstart.yaml");
  const uint16_t gateway = ClosedPort(), v1 = ClosedPort(), v2 = ClosedPort();
  config = absl::StrReplaceAll(config, {{"port_value: 9080", absl::StrCat("port_value: ", gateway)},
                                        {"port_value: 9081", absl::StrCat("port_value: ", v1)},
                                        {"port_value: 9082", absl::StrCat("port_value: ", v2)},
                                        {"port_value: 9901", "port_value: 0"}});
  auto proxy = ProxyProcess::Start(config);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  int v2_count = 0;
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(gateway);
  ASSERT_TRUE(connection.ok());
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(connection->Send(BuildRequest("GET", "/", {{"host", "x"}})).ok());
    HttpResult response = connection->ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status();
    v2_count += response->body == "v2\n";
  }
  EXPECT_NEAR(v2_count / 20.0, 10.0, 3.0);
  HttpResult pinned = HttpGet(gateway, "/", {{"x-canary-pin", "95"}});
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->body, "v2\n");
  HttpResult prometheus = (*proxy)->AdminGet("/stats/prometheus");
  ASSERT_TRUE(prometheus.ok());
  EXPECT_THAT(prometheus->body, HasSubstr("envoy_cluster_upstream_rq{envoy_response_code=\"200\","
                                          "envoy_cluster_name=\"v2\"}"));
}

TEST(ShippedConfigTest, GatewayServesRoutesAndHealthChecks) {
  auto v1 = TestUpstream::Start("colorteller-v1");
  auto v2 = TestUpstream::Start("colorteller-v2");
  auto front = TestUpstream::Start("frontend");
  ASSERT_TRUE(v1 && v2 && front);
  std::string config = absl::StrReplaceAll(
      ReadConfig("gateway.yaml"),
      {{"address: 0.0.0.0, port_value: 8080", "address: 127.0.0.1, port_value: 0"},
       {"address: 0.0.0.0, port_value: 9901", "address: 127.0.0.1, port_value: 0"},
       {"colorteller-v1.demo.local, port_value: 8080",
        absl::StrCat("127.0.0.1, port_value: ", v1->port())},
       {"colorteller-v2.demo.local, port_value: 8080",
        absl::StrCat("127.0.0.1, port_value: ", v2->port())},
       {"frontend-v1.demo.local, port_value: 8080",
        absl::StrCat("127.0.0.1, port_value: ", front->port())},
       {"colorgrpc-v1.demo.local", "127.0.0.1"}});
  auto proxy = ProxyProcess::Start(config);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  absl::StatusOr<uint16_t> port = (*proxy)->ListenerPort("lds_ingress_0.0.0.0_8080");
  ASSERT_TRUE(port.ok()) << port.status();
  int canary = 0;
  for (int i = 0; i < 500; ++i) {
    HttpResult response = HttpGet(*port, "/color");
    ASSERT_TRUE(response.ok()) << response.status();
    canary += response->body == "colorteller-v2";
  }
  EXPECT_NEAR(canary / 5.0, 10.0, 5.0);
  HttpResult home = HttpGet(*port, "/");
  ASSERT_TRUE(home.ok());
  EXPECT_EQ(home->body, "frontend");
  // The load balancer's health check is answered by weir, and fails once asked to.
  HttpResult ping = HttpGet(*port, "/ping");
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->status, 200);
  EXPECT_EQ(front->requests_served(), 1u);  // /ping never reached an upstream
  ASSERT_TRUE((*proxy)->AdminPost("/healthcheck/fail").ok());
  HttpResult failing = HttpGet(*port, "/ping");
  ASSERT_TRUE(failing.ok());
  EXPECT_EQ(failing->status, 503);
  EXPECT_EQ(failing->Header("x-envoy-immediate-health-check-fail"), "true");
  // use_remote_address: the client address is appended to x-forwarded-for.
  ASSERT_TRUE(HttpGet(*port, "/").ok());
  EXPECT_EQ(front->LastRequest().Header("x-forwarded-for"), "127.0.0.1");
}

TEST(ShippedConfigTest, SidecarIngressAndEgress) {
  auto app = TestUpstream::Start("local-app");
  auto store_v1 = TestUpstream::Start("colorstore-v1");
  auto store_v2 = TestUpstream::Start("colorstore-v2");
  ASSERT_TRUE(app && store_v1 && store_v2);
  std::string config = absl::StrReplaceAll(
      ReadConfig("sidecar.yaml"),
      {{"address: 0.0.0.0, port_value: 15000", "address: 127.0.0.1, port_value: 0"},
       {"address: 127.0.0.1, port_value: 15001", "address: 127.0.0.1, port_value: 0"},
       {"address: 0.0.0.0, port_value: 9901", "address: 127.0.0.1, port_value: 0"},
       {"address: 127.0.0.1, port_value: 8080",
        absl::StrCat("address: 127.0.0.1, port_value: ", app->port())},
       {"colorstore-v1.demo.local, port_value: 8080",
        absl::StrCat("127.0.0.1, port_value: ", store_v1->port())},
       {"colorstore-v2.demo.local, port_value: 8080",
        absl::StrCat("127.0.0.1, port_value: ", store_v2->port())}});
  auto proxy = ProxyProcess::Start(config);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  absl::StatusOr<uint16_t> ingress = (*proxy)->ListenerPort("lds_ingress_0.0.0.0_15000");
  absl::StatusOr<uint16_t> egress = (*proxy)->ListenerPort("lds_egress_127.0.0.1_15001");
  ASSERT_TRUE(ingress.ok() && egress.ok());
  HttpResult in = HttpGet(*ingress, "/hello");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->body, "local-app");
  // Counted once the response is written: poll rather than race it.
  EXPECT_TRUE((*proxy)->WaitForStat("http.ingress.downstream_rq_2xx", 1).ok());
  for (int i = 0; i < 20; ++i) {
    HttpResult out = HttpGet(*egress, "/colors", {{"host", "colorstore.demo.local:8080"}});
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->body, "colorstore-v1");  // weight 100 / 0
  }
  HttpResult unknown = HttpGet(*egress, "/", {{"host", "elsewhere.example"}});
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(unknown->body, "no such backend in this mesh\n");
}

}  // namespace
}  // namespace weir_test
