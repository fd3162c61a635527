// How fast a weight change reaches traffic: an in-process xDS snapshot server (xds/server) and the
// real weir binary with two upstreams. Each update flips the route from 100% v1 to 100% v2 (or
// back); the time is from SetSnapshot to the first response from the new version on a keep-alive
// connection that sends requests back to back. Then a 10 000-route RouteConfiguration is pushed:
// time to ACK, time to the first request served by it, and weir's RSS before and after.
//
//   build/bench/xds_update_latency [--updates N] [--routes N]
//
// A benchmark, not a test: it prints numbers for bench/RESULTS.md and checks nothing but that
// each update arrived.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/test_upstream.h"
#include "tests/integration/harness/xds_server_process.h"
#include "xds/server/snapshot_cache.h"
#include "xds/server/snapshot_file.h"
#include "xds/server/xds_server.h"

namespace {

using weir_test::CanarySnapshot;

constexpr char kNode[] = "bench-node";


int Fail(const std::string& message) {
  std::fprintf(stderr, "xds_update_latency: %s\n", message.c_str());
  return 1;
}

xds::server::Snapshot Parse(const CanarySnapshot& canary) {
  absl::StatusOr<xds::server::SnapshotFile> file =
      xds::server::ParseSnapshotFile(weir_test::CanarySnapshotYaml(canary), /*json=*/false);
  if (!file.ok()) {
    std::fprintf(stderr, "snapshot: %s\n", file.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(file->snapshot);
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  int updates = 100;
  int routes = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--updates") == 0) updates = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--routes") == 0) routes = std::atoi(argv[i + 1]);
  }

  auto v1 = weir_test::TestUpstream::Start("v1");
  auto v2 = weir_test::TestUpstream::Start("v2");
  if (v1 == nullptr || v2 == nullptr) return Fail("upstreams did not start");
  auto server = xds::server::XdsServer::Start({});
  if (!server.ok()) return Fail(server.status().ToString());
  xds::server::SnapshotCache& cache = (*server)->cache();
  CanarySnapshot canary{.version = "0", .v1_ports = {v1->port()}, .v2_ports = {v2->port()}};
  cache.SetSnapshot(std::string(xds::server::kAnyNode), Parse(canary));

  weir_test::StartOptions options;
  options.wait_for_ready = false;
  auto proxy =
      weir_test::ProxyProcess::Start(weir_test::AdsBootstrapYaml(kNode, (*server)->port()), {},
                                     options);
  if (!proxy.ok()) return Fail(proxy.status().ToString());
  const bool ready = weir_test::WaitUntil([&] {
    weir_test::HttpResult r = (*proxy)->AdminGet("/ready");
    return r.ok() && r->status == 200;
  });
  if (!ready) return Fail("weir did not become ready:\n" + (*proxy)->Log());
  auto port = (*proxy)->ListenerPort("ingress");
  if (!port.ok()) return Fail(port.status().ToString());
  auto connection = weir_test::RawConnection::Connect(*port);
  if (!connection.ok()) return Fail(connection.status().ToString());
  auto get = [&](const std::string& path) -> std::string {
    if (!connection->Send(absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: bench\r\n\r\n")).ok()) {
      return "";
    }
    weir_test::HttpResult response = connection->ReadResponse();
    return response.ok() ? response->body : "";
  };

  // ---- weight flips ----
  std::vector<double> latencies_ms;
  uint64_t probes = 0;
  for (int i = 1; i <= updates; ++i) {
    const bool to_v2 = i % 2 == 1;
    canary.version = absl::StrCat(i);
    canary.v1_weight = to_v2 ? 0 : 100;
    canary.v2_weight = to_v2 ? 100 : 0;
    xds::server::Snapshot snapshot = Parse(canary);
    const std::string wanted = to_v2 ? "v2" : "v1";
    const absl::Time start = absl::Now();
    cache.SetSnapshot(std::string(xds::server::kAnyNode), std::move(snapshot));
    bool arrived = false;
    while (absl::Now() - start < absl::Seconds(10)) {
      ++probes;
      if (get("/") == wanted) {
        arrived = true;
        break;
      }
    }
    if (!arrived) return Fail(absl::StrCat("update ", i, " did not arrive in 10 s"));
    latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    // Let the whole update (every type) be ACKed before the next one.
    if (!cache.WaitForAck(kNode, xds::server::kRouteType, canary.version, absl::Seconds(10)).ok()) {
      return Fail(absl::StrCat("update ", i, " was not ACKed"));
    }
  }
  std::printf("weight flips: %d updates, %llu probe requests\n", updates,
              static_cast<unsigned long long>(probes));
  std::printf("  SetSnapshot -> first request on the new weights: p50 %.2f ms  p90 %.2f ms  "
              "p99 %.2f ms  max %.2f ms\n",
              Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.90),
              Percentile(latencies_ms, 0.99), Percentile(latencies_ms, 1.0));

  // ---- a large RouteConfiguration ----
  const int64_t rss_before = (*proxy)->RssKb();
  canary.version = "large";
  canary.exact_routes = routes;
  // "/" goes to v2, so only the new routes answer the last path with v1.
  canary.v1_weight = 0;
  canary.v2_weight = 100;
  xds::server::Snapshot large = Parse(canary);
  const std::string last_path = absl::StrCat("/r", routes - 1);
  const absl::Time start = absl::Now();
  cache.SetSnapshot(std::string(xds::server::kAnyNode), std::move(large));
  if (!cache.WaitForAck(kNode, xds::server::kRouteType, "large", absl::Seconds(60)).ok()) {
    return Fail("the large RouteConfiguration was not ACKed:\n" + (*proxy)->Log());
  }
  const absl::Duration to_ack = absl::Now() - start;
  while (get(last_path) != "v1" && absl::Now() - start < absl::Seconds(60)) {
  }
  const absl::Duration to_served = absl::Now() - start;
  const int64_t rss_after = (*proxy)->RssKb();
  std::printf("%d-route RouteConfiguration: SetSnapshot -> ACK %.1f ms, -> %s served %.1f ms; "
              "weir RSS %.1f MiB -> %.1f MiB (+%.1f MiB)\n",
              routes, absl::ToDoubleMilliseconds(to_ack), last_path.c_str(),
              absl::ToDoubleMilliseconds(to_served), rss_before / 1024.0, rss_after / 1024.0,
              (rss_after - rss_before) / 1024.0);
  return 0;
}
