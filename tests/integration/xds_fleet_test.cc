// weir driven by weir-xds-server, both as real processes, as an operator runs them: the snapshot
// file is edited while wrk keeps the proxy busy. A canary's weights move 100 times and after each
// ACK the split the two upstreams observe matches the weights; the control plane is SIGKILLed
// mid-load and restarted with a new snapshot; endpoints are added and removed under load. Not one
// request fails in any of it.

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/test_upstream.h"
#include "tests/integration/harness/xds_server_process.h"
#include "tests/integration/run_command.h"

namespace weir_test {
namespace {

using ::testing::HasSubstr;

constexpr char kNode[] = "fleet-node";


// wrk against the proxy in back-to-back runs of two seconds until Stop() (or a 120 s bound), so
// a test of any length is covered and every run's summary is kept.
class BackgroundLoad {
 public:
  explicit BackgroundLoad(uint16_t port) {
    thread_ = std::thread([this, port] {
      const absl::Time bound = absl::Now() + absl::Seconds(120);
      while (!stop_.load() && absl::Now() < bound) {
        CommandResult run = RunCommand(
            absl::StrCat("timeout 30 wrk -t1 -c8 -d2s http://127.0.0.1:", port, "/"));
        absl::MutexLock lock(&mu_);
        outputs_.push_back(std::move(run.output));
      }
    });
  }
  ~BackgroundLoad() { Stop(); }

  // Waits for the current run to end; returns every run's output.
  std::vector<std::string> Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    return outputs_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<std::string> outputs_;
};

// wrk prints "Socket errors: ..." and "Non-2xx or 3xx responses: N" only when there were any.
void ExpectNoFailedRequests(const std::vector<std::string>& wrk_outputs) {
  ASSERT_FALSE(wrk_outputs.empty());
  for (const std::string& output : wrk_outputs) {
    EXPECT_THAT(output, HasSubstr("requests in"));
    EXPECT_EQ(output.find("Socket errors"), std::string::npos) << output;
    EXPECT_EQ(output.find("Non-2xx"), std::string::npos) << output;
  }
}

class XdsFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1_ = TestUpstream::Start("v1");
    v2_ = TestUpstream::Start("v2");
    ASSERT_NE(v1_, nullptr);
    ASSERT_NE(v2_, nullptr);
    fleet_ = {.version = "s0", .v1_ports = {v1_->port()}, .v2_ports = {v2_->port()}};
    auto server = XdsServerProcess::Start(CanarySnapshotYaml(fleet_));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);

    StartOptions options;
    options.wait_for_ready = false;
    auto proxy = ProxyProcess::Start(AdsBootstrapYaml(kNode, server_->ads_port()), {}, options);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    ASSERT_TRUE(WaitUntil([&] {
      HttpResult ready = proxy_->AdminGet("/ready");
      return ready.ok() && ready->status == 200;
    })) << proxy_->Log() << server_->Log();
    auto port = proxy_->ListenerPort("ingress");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  // Writes the next version of the snapshot and waits until weir ACKed its routes.
  void Publish(const std::string& type_url = kRouteTypeUrl) {
    fleet_.version = absl::StrCat("s", ++published_);
    server_->Write(CanarySnapshotYaml(fleet_));
    ASSERT_TRUE(server_->WaitForAckedVersion(kNode, type_url, fleet_.version))
        << "acked: " << server_->AckedVersion(kNode, type_url) << "\n"
        << server_->Log() << proxy_->Log();
  }

  // The share of requests v2 received while the load ran for a while; at least `min_samples`.
  struct Split {
    uint64_t samples = 0;
    double v2_share = 0;
  };
  Split ObserveSplit(uint64_t min_samples) {
    const uint64_t v1_before = v1_->requests_received();
    const uint64_t v2_before = v2_->requests_received();
    Split split;
    WaitUntil(
        [&] {
          split.samples = v1_->requests_received() - v1_before + v2_->requests_received() - v2_before;
          return split.samples >= min_samples;
        },
        absl::Seconds(5), absl::Milliseconds(5));
    const uint64_t v2 = v2_->requests_received() - v2_before;
    const uint64_t v1 = v1_->requests_received() - v1_before;
    split.samples = v1 + v2;
    split.v2_share = split.samples == 0 ? 0 : static_cast<double>(v2) / split.samples;
    return split;
  }

  uint64_t Stat(const std::string& name) {
    auto value = proxy_->StatValue(name);
    return value.ok() ? *value : 0;
  }

  std::unique_ptr<TestUpstream> v1_;
  std::unique_ptr<TestUpstream> v2_;
  std::unique_ptr<XdsServerProcess> server_;
  std::unique_ptr<ProxyProcess> proxy_;
  CanarySnapshot fleet_;
  int published_ = 0;
  uint16_t port_ = 0;
};

TEST_F(XdsFleetTest, HundredWeightChangesUnderLoadEachObservedAfterItsAck) {
  // A canary's life, again and again: 1% → 10% → 25% → 50% → 75% → 90% → 99% → 100%, a rollback.
  constexpr uint32_t kSteps[] = {1, 10, 25, 50, 75, 90, 99, 100, 0, 50};
  constexpr uint64_t kMinSamples = 400;
  BackgroundLoad load(port_);
  for (int i = 0; i < 100; ++i) {
    fleet_.v2_weight = kSteps[i % std::size(kSteps)];
    fleet_.v1_weight = 100 - fleet_.v2_weight;
    ASSERT_NO_FATAL_FAILURE(Publish());
    // The ACK goes out as the new snapshot is posted to the workers; let the posts run.
    absl::SleepFor(absl::Milliseconds(20));
    const Split split = ObserveSplit(kMinSamples);
    ASSERT_GE(split.samples, kMinSamples) << "step " << i << ": wrk stalled";
    const double expected = fleet_.v2_weight / 100.0;
    // Four standard deviations of a binomial sample, plus 1 pp for requests that started on the
    // previous weights.
    const double tolerance = 4 * std::sqrt(expected * (1 - expected) / split.samples) + 0.01;
    EXPECT_NEAR(split.v2_share, expected, tolerance)
        << "step " << i << " (" << fleet_.v2_weight << "% to v2), " << split.samples << " samples";
  }
  ExpectNoFailedRequests(load.Stop());
  EXPECT_GE(Stat("http.ingress.rds.routes.update_success"), 101u);
  EXPECT_EQ(Stat("http.ingress.rds.routes.update_rejected"), 0u);
  EXPECT_EQ(Stat("http.ingress.downstream_rq_5xx"), 0u);
  EXPECT_EQ(Stat("control_plane.connected_state"), 1u);
}

TEST_F(XdsFleetTest, ControlPlaneKilledMidLoadThenRestartedWithANewSnapshot) {
  fleet_.v1_weight = 50;
  fleet_.v2_weight = 50;
  ASSERT_NO_FATAL_FAILURE(Publish());
  BackgroundLoad load(port_);
  absl::SleepFor(absl::Milliseconds(500));
  server_->Kill();
  ASSERT_TRUE(WaitUntil([&] { return Stat("control_plane.connected_state") == 0; }))
      << proxy_->Log();
  // The last good config keeps serving: both versions still take traffic.
  const Split kept = ObserveSplit(400);
  EXPECT_NEAR(kept.v2_share, 0.5, 0.15) << kept.samples << " samples";

  // While the control plane is down, the operator moves everything to v2; it restarts on the
  // same port and weir reconnects (backoff from 0.5 s) and converges.
  fleet_.v1_weight = 0;
  fleet_.v2_weight = 100;
  fleet_.version = absl::StrCat("s", ++published_);
  server_->Write(CanarySnapshotYaml(fleet_));
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(server_->Restart().ok()) << server_->Log();
  ASSERT_TRUE(server_->WaitForAckedVersion(kNode, kRouteTypeUrl, fleet_.version,
                                           absl::Seconds(20)))
      << server_->Log() << proxy_->Log();
  EXPECT_EQ(Stat("control_plane.connected_state"), 1u);
  absl::SleepFor(absl::Milliseconds(20));
  const Split converged = ObserveSplit(400);
  EXPECT_NEAR(converged.v2_share, 1.0, 0.01) << converged.samples << " samples";

  ExpectNoFailedRequests(load.Stop());
  EXPECT_EQ(Stat("http.ingress.downstream_rq_5xx"), 0u);
  EXPECT_EQ(Stat("cluster_manager.cds.update_rejected"), 0u);
}

TEST_F(XdsFleetTest, EndpointsAddedAndRemovedUnderLoad) {
  std::unique_ptr<TestUpstream> v1b = TestUpstream::Start("v1b");
  ASSERT_NE(v1b, nullptr);
  BackgroundLoad load(port_);
  absl::SleepFor(absl::Milliseconds(300));

  // Scale out: a second v1 endpoint takes a share of the traffic.
  fleet_.v1_ports = {v1_->port(), v1b->port()};
  ASSERT_NO_FATAL_FAILURE(Publish(kEndpointTypeUrl));
  const uint64_t v1b_before = v1b->requests_received();
  ASSERT_TRUE(WaitUntil([&] { return v1b->requests_received() > v1b_before + 100; }))
      << proxy_->Log();

  // Scale in: the first endpoint leaves; once in-flight requests finish it gets nothing more.
  fleet_.v1_ports = {v1b->port()};
  ASSERT_NO_FATAL_FAILURE(Publish(kEndpointTypeUrl));
  absl::SleepFor(absl::Milliseconds(100));
  const uint64_t v1_after_removal = v1_->requests_received();
  const uint64_t v1b_after_removal = v1b->requests_received();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(v1_->requests_received(), v1_after_removal);
  EXPECT_GT(v1b->requests_received(), v1b_after_removal + 100);

  ExpectNoFailedRequests(load.Stop());
  EXPECT_EQ(Stat("http.ingress.downstream_rq_5xx"), 0u);
  EXPECT_GE(Stat("cluster.v1.update_success"), 3u);
}

}  // namespace
}  // namespace weir_test
