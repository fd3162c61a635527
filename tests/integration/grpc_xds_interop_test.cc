// Interop with an xDS client no one here wrote: grpc++'s own (Debian's libgrpc 1.51) resolves
// `xds:///echo` through our xDS server and must split RPCs across two Echo backends by the
// weights we serve, and follow a weight change. gRPC reads GRPC_XDS_BOOTSTRAP once per process,
// hence a test executable of its own.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "spdlog/spdlog.h"
#include "tests/grpc_testing/echo_server.h"
#include "xds/server/snapshot_file.h"
#include "xds/server/status_server.h"
#include "xds/server/xds_server.h"

namespace {

using weir_test::EchoServer;
using xds::server::XdsServer;

constexpr char kNode[] = "grpc-interop-client";
constexpr int kRpcs = 2000;
// 4 percentage points is more than 4.4 standard deviations of a 2000-RPC binomial at p = 0.8.
constexpr double kTolerance = 0.04;

class GrpcXdsInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    for (const char* name : {"v1", "v2"}) {
      absl::StatusOr<std::unique_ptr<EchoServer>> backend = EchoServer::Start(name);
      ASSERT_TRUE(backend.ok()) << backend.status();
      backends_[name] = *std::move(backend);
    }
    absl::StatusOr<std::unique_ptr<XdsServer>> server = XdsServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);

    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("weir-grpc-xds-", ::getpid());
    std::filesystem::create_directories(dir_);
    const std::string bootstrap = (dir_ / "bootstrap.json").string();
    std::ofstream(bootstrap) << absl::StrCat(
        R"({"xds_servers": [{"server_uri": ")", server_->address(),
        R"(", "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],)",
        R"( "node": {"id": ")", kNode, R"(", "cluster": "interop"}})");
    // Read by gRPC when the first xds: channel is created, i.e. below.
    ::setenv("GRPC_XDS_BOOTSTRAP", bootstrap.c_str(), 1);
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Serve(const std::string& version, int weight_v1, int weight_v2) {
    std::ifstream in(std::string(WEIR_SOURCE_DIR) + "/tests/grpc_testing/echo-xds-snapshot.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    yaml = absl::StrReplaceAll(yaml, {{"${VERSION}", version},
                                      {"${NODE}", kNode},
                                      {"${WEIGHT_V1}", absl::StrCat(weight_v1)},
                                      {"${WEIGHT_V2}", absl::StrCat(weight_v2)},
                                      {"${PORT_V1}", absl::StrCat(backends_["v1"]->port())},
                                      {"${PORT_V2}", absl::StrCat(backends_["v2"]->port())}});
    absl::StatusOr<xds::server::SnapshotFile> file =
        xds::server::ParseSnapshotFile(yaml, /*json=*/false);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE(file->snapshot.Validate().ok()) << file->snapshot.Validate();
    server_->cache().SetSnapshot(kNode, std::move(file->snapshot));
  }

  // Sends `count` unary RPCs; returns how many each backend answered (failures under "error").
  std::map<std::string, int> Split(weir::test::Echo::Stub& stub, int count) {
    std::map<std::string, int> counts;
    for (int i = 0; i < count; ++i) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      weir::test::EchoRequest request;
      request.set_message(absl::StrCat(i));
      weir::test::EchoReply reply;
      grpc::Status status = stub.Echo(&context, request, &reply);
      ++counts[status.ok() ? reply.backend() : absl::StrCat("error: ", status.error_message())];
    }
    return counts;
  }

  // Sends kRpcs RPCs: all succeed and v1 answers `expected` of them, within kTolerance.
  void ExpectV1Share(weir::test::Echo::Stub& stub, double expected) {
    std::map<std::string, int> counts = Split(stub, kRpcs);
    const double share = static_cast<double>(counts["v1"]) / kRpcs;
    std::printf("expected v1 share %.2f: %s(observed %.3f)\n", expected,
                Describe(counts).c_str(), share);
    EXPECT_EQ(counts["v1"] + counts["v2"], kRpcs) << Describe(counts);
    EXPECT_NEAR(share, expected, kTolerance) << Describe(counts);
  }

  static std::string Describe(const std::map<std::string, int>& counts) {
    std::string out;
    for (const auto& [name, n] : counts) absl::StrAppend(&out, name, "=", n, " ");
    return out;
  }

  std::map<std::string, std::unique_ptr<EchoServer>> backends_;
  std::unique_ptr<XdsServer> server_;
  std::filesystem::path dir_;
};

TEST_F(GrpcXdsInteropTest, GrpcSplitsRpcsByTheServedWeightsAndFollowsChanges) {
  Serve("1", 80, 20);
  auto channel = grpc::CreateChannel("xds:///echo", grpc::InsecureChannelCredentials());
  auto stub = weir::test::Echo::NewStub(channel);

  // The first RPC waits for the whole LDS → RDS → CDS → EDS chain.
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    context.set_wait_for_ready(true);
    weir::test::EchoReply reply;
    grpc::Status status = stub->Echo(&context, weir::test::EchoRequest(), &reply);
    ASSERT_TRUE(status.ok()) << status.error_message() << "\n"
                             << xds::server::RenderStatusJson(server_->cache());
  }
  for (absl::string_view type : {xds::server::kListenerType, xds::server::kRouteType,
                                 xds::server::kClusterType, xds::server::kEndpointType}) {
    EXPECT_TRUE(server_->cache().WaitForAck(kNode, type, "1", absl::Seconds(5)).ok()) << type;
  }

  ExpectV1Share(*stub, 0.80);

  // Turn the canary around.
  Serve("2", 20, 80);
  ASSERT_TRUE(server_->cache().WaitForAck(kNode, xds::server::kRouteType, "2", absl::Seconds(5))
                  .ok());
  // gRPC applies a route update shortly after ACKing it: wait until the split has moved.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Split(*stub, 50)["v2"] < 25) {
    ASSERT_LT(absl::Now(), deadline) << "the split never moved to v2";
  }
  ExpectV1Share(*stub, 0.20);

  // Weights summing to 0: gRPC NACKs the route configuration ("incorrect total weight": 1.51
  // still requires the weights to sum to total_weight, 100 by default) and keeps routing by the
  // last good one; the server records the NACK and does not resend version 3.
  Serve("3", 0, 0);
  absl::StatusOr<std::string> nack =
      server_->cache().WaitForNack(kNode, xds::server::kRouteType, "3", absl::Seconds(5));
  ASSERT_TRUE(nack.ok()) << nack.status();
  std::printf("gRPC's NACK of weights 0/0: %s\n", nack->c_str());
  EXPECT_FALSE(nack->empty());
  std::map<std::string, int> kept = Split(*stub, 200);
  EXPECT_EQ(kept["v1"] + kept["v2"], 200) << Describe(kept);
  EXPECT_GT(kept["v2"], kept["v1"]) << Describe(kept);
  xds::server::TypeStatus rds =
      server_->cache().GetNodeStatus(kNode).types[std::string(xds::server::kRouteType)];
  EXPECT_EQ(rds.nacks, 1u);
  EXPECT_EQ(rds.acked_version, "2");
  EXPECT_EQ(rds.sent_version, "3");
}

}  // namespace
