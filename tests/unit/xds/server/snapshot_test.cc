// Snapshot (Add, Validate), the status JSON and the /status HTTP endpoint.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/unit/xds/server/ads_test_client.h"
#include "xds/server/status_server.h"

namespace xds::server {
namespace {

using ::testing::HasSubstr;
using testing::Cluster;
using testing::Endpoints;
using testing::Listener;
using testing::MakeSnapshot;
using testing::Route;

TEST(SnapshotTest, AddKeysResourcesByNameAndType) {
  Snapshot snapshot;
  ASSERT_TRUE(snapshot.Add(Cluster("a")).ok());
  ASSERT_TRUE(snapshot.Add(Endpoints("a")).ok());  // keyed by cluster_name
  ASSERT_TRUE(snapshot.Add(Route("a", "a")).ok());  // same name, another type
  EXPECT_EQ(snapshot.Of(ResourceType::kCluster).size(), 1u);
  EXPECT_EQ(snapshot.Of(ResourceType::kEndpoint).count("a"), 1u);
  EXPECT_EQ(snapshot.Of(ResourceType::kRoute).at("a").type_url(), kRouteType);
}

TEST(SnapshotTest, AddRejectsDuplicatesEmptyNamesAndOtherMessages) {
  Snapshot snapshot;
  ASSERT_TRUE(snapshot.Add(Cluster("a")).ok());
  EXPECT_EQ(snapshot.Add(Cluster("a")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(snapshot.Add(Cluster("")).message()), HasSubstr("has no name"));
  google::protobuf::Struct other;
  EXPECT_THAT(std::string(snapshot.Add(other).message()),
              HasSubstr("google.protobuf.Struct is not an xDS resource type"));
}

TEST(SnapshotTest, TypeUrlsRoundTrip) {
  for (ResourceType type : kResourceTypes) {
    EXPECT_EQ(ResourceTypeFromUrl(TypeUrl(type)), type);
  }
  EXPECT_FALSE(ResourceTypeFromUrl("type.googleapis.com/other").has_value());
  EXPECT_EQ(ShortName(ResourceType::kEndpoint), "EDS");
}

TEST(SnapshotTest, ValidateAcceptsAConsistentSnapshot) {
  EXPECT_TRUE(MakeSnapshot("v1", 3).Validate().ok());
}

TEST(SnapshotTest, ValidateListsMissingAndUnreferencedResources) {
  Snapshot snapshot = MakeSnapshot("v1", 1);
  ASSERT_TRUE(snapshot.Add(Listener("l2", "r-missing")).ok());
  ASSERT_TRUE(snapshot.Add(Route("r-extra", "c1")).ok());
  ASSERT_TRUE(snapshot.Add(Cluster("c-no-endpoints")).ok());
  auto service_named = Cluster("c-service");
  service_named.mutable_eds_cluster_config()->set_service_name("svc");
  ASSERT_TRUE(snapshot.Add(service_named).ok());
  ASSERT_TRUE(snapshot.Add(Endpoints("svc")).ok());
  ASSERT_TRUE(snapshot.Add(Endpoints("orphan")).ok());
  absl::Status status = snapshot.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(status.message()),
            "snapshot v1 is inconsistent:\n"
            "route configurations referenced by listeners but missing: r-missing\n"
            "route configurations not referenced by any of the listeners: r-extra\n"
            "cluster load assignments referenced by EDS clusters but missing: c-no-endpoints\n"
            "cluster load assignments not referenced by any of the EDS clusters: orphan");
}

TEST(SnapshotTest, ValidateFollowsApiListenerRds) {
  using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
  Snapshot snapshot;
  HttpConnectionManager hcm;
  hcm.mutable_rds()->set_route_config_name("grpc-routes");
  envoy::config::listener::v3::Listener listener;
  listener.set_name("echo");
  listener.mutable_api_listener()->mutable_api_listener()->PackFrom(hcm);
  ASSERT_TRUE(snapshot.Add(listener).ok());
  EXPECT_THAT(std::string(snapshot.Validate().message()), HasSubstr("missing: grpc-routes"));
  ASSERT_TRUE(snapshot.Add(Route("grpc-routes", "c")).ok());
  EXPECT_TRUE(snapshot.Validate().ok());
}

// Reads the JSON back through protobuf's parser: it must be valid JSON of the documented shape.
google::protobuf::Struct ParseStatus(const std::string& json) {
  google::protobuf::Struct status;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &status).ok()) << json;
  return status;
}

TEST(StatusJsonTest, ListsNodesWithSnapshotsAndStreams) {
  SnapshotCache cache;
  cache.SetSnapshot("idle", MakeSnapshot("v1"));
  SnapshotCache::Registration registration = cache.OpenStream("busy", [](auto, auto) {});
  cache.RecordResponse("busy", kClusterType, "v2", "7");
  cache.RecordAck("busy", kClusterType, "v1");
  cache.RecordNack("busy", kClusterType, "v2", "bad \"weights\"\n");
  google::protobuf::Struct status = ParseStatus(RenderStatusJson(cache));
  const auto& nodes = status.fields().at("nodes").struct_value().fields();
  ASSERT_EQ(nodes.size(), 2u);
  const auto& idle = nodes.at("idle").struct_value().fields();
  EXPECT_EQ(idle.at("connected").number_value(), 0);
  EXPECT_EQ(idle.at("snapshot_version").string_value(), "v1");
  const auto& busy = nodes.at("busy").struct_value().fields();
  EXPECT_EQ(busy.at("connected").number_value(), 1);
  const auto& cds =
      busy.at("types").struct_value().fields().at(std::string(kClusterType)).struct_value().fields();
  EXPECT_EQ(cds.at("acked_version").string_value(), "v1");
  EXPECT_EQ(cds.at("nacked_version").string_value(), "v2");
  EXPECT_EQ(cds.at("error_detail").string_value(), "bad \"weights\"\n");
  EXPECT_EQ(cds.at("last_nonce").string_value(), "7");
  EXPECT_EQ(cds.at("sent_version").string_value(), "v2");
  EXPECT_EQ(cds.at("acks").number_value(), 1);
  EXPECT_EQ(cds.at("nacks").number_value(), 1);
  cache.CloseStream("busy", registration.stream_id);
  EXPECT_EQ(cache.GetNodeStatus("busy").connected_streams, 0);
}

// One HTTP/1.1 request on a fresh connection; the whole response (the server closes).
std::string HttpRequest(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    ::shutdown(fd, SHUT_WR);  // the request is complete
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  }
  ::close(fd);
  return response;
}

TEST(StatusServerTest, ServesStatusAndNothingElse) {
  SnapshotCache cache;
  cache.SetSnapshot("n", MakeSnapshot("v9"));
  absl::StatusOr<std::unique_ptr<StatusServer>> server = StatusServer::Start("127.0.0.1", 0, &cache);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->address(), absl::StrCat("127.0.0.1:", (*server)->port()));

  std::string ok = HttpRequest((*server)->port(), "GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_THAT(ok, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(ok, HasSubstr("Content-Type: application/json\r\n"));
  google::protobuf::Struct status = ParseStatus(ok.substr(ok.find("\r\n\r\n") + 4));
  EXPECT_EQ(status.fields().at("nodes").struct_value().fields().at("n").struct_value().fields().at(
                "snapshot_version").string_value(),
            "v9");

  EXPECT_THAT(HttpRequest((*server)->port(), "GET /nope HTTP/1.1\r\n\r\n"),
              ::testing::StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(HttpRequest((*server)->port(), "POST /status HTTP/1.1\r\n\r\n"),
              ::testing::StartsWith("HTTP/1.1 405 "));
  // A client that sends nothing, or 8 KiB without a line end, does not stop the server.
  EXPECT_EQ(HttpRequest((*server)->port(), ""), "");
  EXPECT_THAT(HttpRequest((*server)->port(), std::string(8192, 'G')),
              ::testing::StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(HttpRequest((*server)->port(), "GET /status?pretty HTTP/1.0\r\n\r\n"),
              ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace xds::server
