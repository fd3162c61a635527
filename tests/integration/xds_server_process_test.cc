// weir-xds-server as a process: started like an operator would (a snapshot file, address files,
// the /status endpoint), driven over real gRPC, edited while running, stopped by signals.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/xds_server_process.h"
#include "tests/integration/run_command.h"
#include "tests/unit/xds/server/ads_test_client.h"

namespace {

using ::testing::HasSubstr;
using weir_test::WaitUntil;
using weir_test::XdsServerProcess;
using xds::server::kClusterType;
using xds::server::testing::AdsTestClient;
using xds::server::testing::ResourceNames;

constexpr absl::Duration kWait = absl::Seconds(10);

std::string Snapshot(const std::string& version, const std::vector<std::string>& clusters) {
  std::string yaml = absl::StrCat("version: \"", version, "\"\nresources:\n  clusters:\n");
  for (const std::string& cluster : clusters) {
    absl::StrAppend(&yaml, "  - {name: ", cluster,
                    ", type: EDS, eds_cluster_config: {eds_config: {ads: {}}}}\n");
  }
  return yaml;
}

TEST(XdsServerProcessTest, ServesTheFileReportsAcksAndPushesEdits) {
  auto server = XdsServerProcess::Start(Snapshot("v1", {"a", "b"}));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->ads_address(), ::testing::StartsWith("127.0.0.1:"));

  auto client = AdsTestClient::Connect((*server)->ads_address(), "proxy-1");
  ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<xds::server::testing::DiscoveryResponse> first = client->Next(kWait);
  ASSERT_TRUE(first.has_value()) << (*server)->Log();
  EXPECT_EQ(first->version_info(), "v1");
  EXPECT_THAT(ResourceNames(*first), ::testing::ElementsAre("a", "b"));
  ASSERT_TRUE(client->Ack(*first));
  EXPECT_TRUE((*server)->WaitForAckedVersion("proxy-1", weir_test::kClusterTypeUrl, "v1")) << (*server)->Log();

  (*server)->Write(Snapshot("v2", {"b", "c"}));
  std::optional<xds::server::testing::DiscoveryResponse> second = client->Next(kWait);
  ASSERT_TRUE(second.has_value()) << (*server)->Log();
  EXPECT_EQ(second->version_info(), "v2");
  EXPECT_THAT(ResourceNames(*second), ::testing::ElementsAre("b", "c"));
  ASSERT_TRUE(client->Ack(*second));
  EXPECT_TRUE((*server)->WaitForAckedVersion("proxy-1", weir_test::kClusterTypeUrl, "v2"));
  EXPECT_THAT((*server)->Log(), HasSubstr("xds: node \"proxy-1\" ACK " + std::string(kClusterType) +
                                          " version \"v2\""));
}

TEST(XdsServerProcessTest, AnInvalidEditIsLoggedAndTheLastGoodSnapshotKeepsServing) {
  auto server = XdsServerProcess::Start(Snapshot("v1", {"a"}));
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Write("version: v2\nresources:\n  clusters: [{name: a, connect_timeout: soon}]\n");
  EXPECT_TRUE(WaitUntil([&] {
    return absl::StrContains((*server)->Log(), "still serving version \"v1\"");
  }, kWait)) << (*server)->Log();
  EXPECT_THAT((*server)->Log(), HasSubstr("resources.clusters[0].connect_timeout: invalid duration"));

  auto client = AdsTestClient::Connect((*server)->ads_address(), "late");
  ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<xds::server::testing::DiscoveryResponse> response = client->Next(kWait);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->version_info(), "v1");
}

TEST(XdsServerProcessTest, SigtermWithOpenStreamsExitsCleanly) {
  auto server = XdsServerProcess::Start(Snapshot("v1", {"a"}));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = AdsTestClient::Connect((*server)->ads_address(), "proxy-1");
  ASSERT_TRUE(client->Request(kClusterType, {}));
  ASSERT_TRUE(client->Next(kWait).has_value());
  (*server)->child().Signal(SIGTERM);
  EXPECT_EQ((*server)->child().WaitExit(kWait), 0) << (*server)->Log();
  std::optional<grpc::Status> end = client->WaitForEnd(kWait);
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->ok());
  EXPECT_THAT((*server)->Log(), HasSubstr("SIGTERM: shutting down"));
}

TEST(XdsServerProcessTest, AnInvalidFileAtStartupIsFatal) {
  absl::StatusOr<std::string> made = weir_test::MakeTempDir("weir-xds-bad");
  ASSERT_TRUE(made.ok()) << made.status();
  const std::string dir = *made;
  const std::string file = dir + "/bad.yaml";
  weir_test::WriteFileByRename(file, "resources: {routes: [{name: r, virtual_hosts: 7}]}\n");
  weir_test::CommandResult result =
      weir_test::RunCommand(absl::StrCat(WEIR_XDS_SERVER_BINARY, " --snapshot-file ", file));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr("resources.routes[0].virtual_hosts: expected a list"));
}

}  // namespace
