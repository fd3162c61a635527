// The ADS service over real gRPC on 127.0.0.1: node and type checks, wildcard and named
// subscriptions, nonces, ACK/NACK, pushes, big responses and shutdown. "No response" is never
// asserted by waiting: the test sends a request that certainly gets an answer (another type) and
// checks that this answer comes next, since a stream answers in order.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "tests/unit/xds/server/ads_test_client.h"
#include "xds/server/xds_server.h"

namespace xds::server {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::AdsTestClient;
using testing::DiscoveryRequest;
using testing::DiscoveryResponse;
using testing::MakeSnapshot;
using testing::ResourceNames;

constexpr absl::Duration kWait = absl::Seconds(5);

class AdsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    absl::StatusOr<std::unique_ptr<XdsServer>> server = XdsServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<AdsTestClient> Connect(const std::string& node = "node-1") {
    return AdsTestClient::Connect(server_->address(), node);
  }
  SnapshotCache& cache() { return server_->cache(); }

  // Subscribes LDS and expects the next response to be that LDS response: everything sent
  // before it on this stream has been handled, and whatever was owed was sent before it.
  void ExpectNextIsListeners(AdsTestClient& client) {
    ASSERT_TRUE(client.Request(kListenerType, {}));
    std::optional<DiscoveryResponse> next = client.Next(kWait);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->type_url(), kListenerType);
  }

  std::unique_ptr<XdsServer> server_;
};

TEST_F(AdsServiceTest, FirstRequestWithoutNodeEndsTheStream) {
  auto client = Connect();
  DiscoveryRequest request;
  request.set_type_url(std::string(kClusterType));
  ASSERT_TRUE(client->Send(request, /*with_node=*/false));
  std::optional<grpc::Status> end = client->WaitForEnd(kWait);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(end->error_message(), ::testing::HasSubstr("node.id"));
}

TEST_F(AdsServiceTest, EmptyTypeUrlEndsTheStream) {
  auto client = Connect();
  ASSERT_TRUE(client->Request("", {}));
  std::optional<grpc::Status> end = client->WaitForEnd(kWait);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(end->error_message(), "type URL is required for ADS");
}

TEST_F(AdsServiceTest, DeltaIsUnimplemented) {
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  auto stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto stream = stub->DeltaAggregatedResources(&context);
  envoy::service::discovery::v3::DeltaDiscoveryResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(AdsServiceTest, WildcardClustersAreAllSentAndTheAckIsRecorded) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 3));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<DiscoveryResponse> response = client->Next(kWait);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->type_url(), kClusterType);
  EXPECT_EQ(response->version_info(), "v1");
  EXPECT_FALSE(response->nonce().empty());
  EXPECT_THAT(ResourceNames(*response), ElementsAre("c1", "c2", "c3"));

  ASSERT_TRUE(client->Ack(*response));
  EXPECT_TRUE(cache().WaitForAck("node-1", kClusterType, "v1", kWait).ok());
  NodeStatus status = cache().GetNodeStatus("node-1");
  EXPECT_EQ(status.connected_streams, 1);
  const TypeStatus& cds = status.types[std::string(kClusterType)];
  EXPECT_EQ(cds.last_nonce, response->nonce());
  EXPECT_EQ(cds.sent_version, "v1");
  EXPECT_EQ(cds.acks, 1u);
  EXPECT_EQ(cds.nacks, 0u);
  // An ACK of the current version asks for nothing more.
  ExpectNextIsListeners(*client);
}

TEST_F(AdsServiceTest, StarIsAWildcardAndExplicitNamesNarrowLdsAndCds) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 3));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {"*"}));
  std::optional<DiscoveryResponse> all = client->Next(kWait);
  ASSERT_TRUE(all.has_value());
  EXPECT_THAT(ResourceNames(*all), ElementsAre("c1", "c2", "c3"));

  // gRPC's xDS client names the clusters it wants, even for CDS.
  auto named = Connect();
  ASSERT_TRUE(named->Request(kClusterType, {"c2", "missing"}));
  std::optional<DiscoveryResponse> some = named->Next(kWait);
  ASSERT_TRUE(some.has_value());
  EXPECT_THAT(ResourceNames(*some), ElementsAre("c2"));
}

TEST_F(AdsServiceTest, NamedSubscriptionsGetExactlyTheirNames) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 3));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kEndpointType, {"c2"}));
  std::optional<DiscoveryResponse> first = client->Next(kWait);
  ASSERT_TRUE(first.has_value());
  EXPECT_THAT(ResourceNames(*first), ElementsAre("c2"));

  // Subscribing one more name resends the full subscribed set at the same version.
  ASSERT_TRUE(client->Ack(*first, {"c2", "c3"}));
  std::optional<DiscoveryResponse> second = client->Next(kWait);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->version_info(), "v1");
  EXPECT_NE(second->nonce(), first->nonce());
  EXPECT_THAT(ResourceNames(*second), ElementsAre("c2", "c3"));

  // Unsubscribing needs no response...
  ASSERT_TRUE(client->Ack(*second, {"c3"}));
  ExpectNextIsListeners(*client);
  // ...and subscribing again sends the dropped name again.
  ASSERT_TRUE(client->Ack(*second, {"c2", "c3"}));
  std::optional<DiscoveryResponse> third = client->Next(kWait);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->type_url(), kEndpointType);
  EXPECT_THAT(ResourceNames(*third), ElementsAre("c2", "c3"));
}

TEST_F(AdsServiceTest, AnEmptyEndpointListIsNotAWildcard) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 2));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kEndpointType, {}));
  // Nothing is subscribed, but the version is new to the client: an empty response.
  std::optional<DiscoveryResponse> response = client->Next(kWait);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->type_url(), kEndpointType);
  EXPECT_THAT(ResourceNames(*response), IsEmpty());
}

TEST_F(AdsServiceTest, EmptyClusterListAfterExplicitNamesUnsubscribesEverything) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 2));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {"c1"}));
  std::optional<DiscoveryResponse> first = client->Next(kWait);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(client->Ack(*first, {}));
  cache().SetSnapshot("node-1", MakeSnapshot("v2", 2));
  std::optional<DiscoveryResponse> second = client->Next(kWait);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->version_info(), "v2");
  EXPECT_THAT(ResourceNames(*second), IsEmpty());
}

TEST_F(AdsServiceTest, StaleNonceIsIgnored) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 3));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kEndpointType, {"c1"}));
  std::optional<DiscoveryResponse> first = client->Next(kWait);
  ASSERT_TRUE(first.has_value());
  // A new name under a nonce the server never sent: ignored, no response for c2.
  ASSERT_TRUE(client->Request(kEndpointType, {"c1", "c2"}, "v1", "not-a-nonce"));
  ExpectNextIsListeners(*client);
  EXPECT_EQ(cache().GetNodeStatus("node-1").types[std::string(kEndpointType)].acks, 0u);
  // The same request under the right nonce is answered.
  ASSERT_TRUE(client->Ack(*first, {"c1", "c2"}));
  std::optional<DiscoveryResponse> second = client->Next(kWait);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->type_url(), kEndpointType);
  EXPECT_THAT(ResourceNames(*second), ElementsAre("c1", "c2"));
}

TEST_F(AdsServiceTest, NackIsRecordedAndTheVersionIsNotResent) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 2));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<DiscoveryResponse> first = client->Next(kWait);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(client->Ack(*first));
  ASSERT_TRUE(cache().WaitForAck("node-1", kClusterType, "v1", kWait).ok());

  cache().SetSnapshot("node-1", MakeSnapshot("v2", 2));
  std::optional<DiscoveryResponse> second = client->Next(kWait);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->version_info(), "v2");
  ASSERT_TRUE(client->Nack(*second, "v1", "clusters[0]: bad weights"));
  absl::StatusOr<std::string> nack = cache().WaitForNack("node-1", kClusterType, "v2", kWait);
  ASSERT_TRUE(nack.ok()) << nack.status();
  EXPECT_EQ(*nack, "clusters[0]: bad weights");
  // go-control-plane would resend v2 here (the NACK carries v1); this server does not.
  ExpectNextIsListeners(*client);
  TypeStatus cds = cache().GetNodeStatus("node-1").types[std::string(kClusterType)];
  EXPECT_EQ(cds.acked_version, "v1");
  EXPECT_EQ(cds.nacked_version, "v2");
  EXPECT_EQ(cds.nacks, 1u);

  // A new version is sent, and a NACK does not stop later ACKs.
  cache().SetSnapshot("node-1", MakeSnapshot("v3", 2));
  std::optional<DiscoveryResponse> third = client->Next(kWait);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->type_url(), kClusterType);
  EXPECT_EQ(third->version_info(), "v3");
  ASSERT_TRUE(client->Ack(*third));
  EXPECT_TRUE(cache().WaitForAck("node-1", kClusterType, "v3", kWait).ok());
}

TEST_F(AdsServiceTest, WaitForAckTimesOutNamingWhatHappened) {
  absl::Status status = cache().WaitForAck("nobody", kClusterType, "v1", absl::Milliseconds(10));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(), ::testing::HasSubstr("never requested"));
}

TEST_F(AdsServiceTest, SetSnapshotPushesToEveryStreamOfTheNodeInClusterFirstOrder) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 1));
  cache().SetSnapshot("node-2", MakeSnapshot("v1", 1));
  std::vector<std::unique_ptr<AdsTestClient>> clients;
  for (const char* node : {"node-1", "node-1", "node-2"}) {
    auto client = Connect(node);
    // Subscribed in the reverse of the push order.
    ASSERT_TRUE(client->Request(kRouteType, {"r1"}));
    ASSERT_TRUE(client->Request(kListenerType, {}));
    ASSERT_TRUE(client->Request(kEndpointType, {"c1"}));
    ASSERT_TRUE(client->Request(kClusterType, {}));
    for (int i = 0; i < 4; ++i) {
      std::optional<DiscoveryResponse> response = client->Next(kWait);
      ASSERT_TRUE(response.has_value());
      const bool wildcard = response->type_url() == kClusterType ||
                            response->type_url() == kListenerType;
      ASSERT_TRUE(client->Ack(*response, wildcard ? std::vector<std::string>{}
                                                  : ResourceNames(*response)));
    }
    clients.push_back(std::move(client));
  }
  ASSERT_TRUE(cache().WaitForNode("node-1", [](const NodeStatus& s) {
    return s.connected_streams == 2 && s.types.size() == 4 && s.types.at(std::string(kClusterType)).acks == 2;
  }, kWait));

  cache().SetSnapshot("node-1", MakeSnapshot("v2", 1));
  for (int c = 0; c < 2; ++c) {
    std::vector<std::string> order;
    for (int i = 0; i < 4; ++i) {
      std::optional<DiscoveryResponse> response = clients[c]->Next(kWait);
      ASSERT_TRUE(response.has_value());
      EXPECT_EQ(response->version_info(), "v2");
      order.push_back(response->type_url());
    }
    EXPECT_THAT(order, ElementsAre(kClusterType, kEndpointType, kListenerType, kRouteType));
  }
  // node-2 is not pushed v2: its next response is the one its own new snapshot brings.
  cache().SetSnapshot("node-2", MakeSnapshot("v3", 1));
  std::optional<DiscoveryResponse> other = clients[2]->Next(kWait);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->version_info(), "v3");
}

TEST_F(AdsServiceTest, ANodeWithoutSnapshotWaitsForOne) {
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {}));
  ASSERT_TRUE(cache().WaitForNode(
      "node-1", [](const NodeStatus& s) { return s.connected_streams == 1; }, kWait));
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 1));
  std::optional<DiscoveryResponse> response = client->Next(kWait);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->version_info(), "v1");
}

TEST_F(AdsServiceTest, TheAnyNodeSnapshotServesNodesWithoutTheirOwn) {
  cache().SetSnapshot(std::string(kAnyNode), MakeSnapshot("shared-1", 1));
  cache().SetSnapshot("special", MakeSnapshot("own-1", 2));
  auto plain = Connect("plain");
  auto special = Connect("special");
  for (auto* client : {plain.get(), special.get()}) ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<DiscoveryResponse> a = plain->Next(kWait);
  std::optional<DiscoveryResponse> b = special->Next(kWait);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->version_info(), "shared-1");
  EXPECT_EQ(b->version_info(), "own-1");
  ASSERT_TRUE(plain->Ack(*a));
  ASSERT_TRUE(special->Ack(*b));

  // A new shared snapshot reaches "plain" only; clearing "special" falls back to it.
  cache().SetSnapshot(std::string(kAnyNode), MakeSnapshot("shared-2", 1));
  std::optional<DiscoveryResponse> c = plain->Next(kWait);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->version_info(), "shared-2");
  cache().ClearSnapshot("special");
  std::optional<DiscoveryResponse> d = special->Next(kWait);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->version_info(), "shared-2");
}

TEST_F(AdsServiceTest, AReconnectingClientGetsItsResourcesAgainAtTheSameVersion) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 2));
  auto client = Connect();
  // As after a reconnect: the client already holds v1.
  ASSERT_TRUE(client->Request(kClusterType, {}, "v1"));
  std::optional<DiscoveryResponse> response = client->Next(kWait);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->version_info(), "v1");
  EXPECT_THAT(ResourceNames(*response), ElementsAre("c1", "c2"));
}

TEST_F(AdsServiceTest, UnknownTypesAreNeverAnswered) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 1));
  auto client = Connect();
  ASSERT_TRUE(client->Request("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", {}));
  ExpectNextIsListeners(*client);
}

TEST_F(AdsServiceTest, ResponsesLargerThanGrpcsDefaultLimitGoThrough) {
  Snapshot snapshot;
  snapshot.version = "big";
  const std::string padding(1000, 'x');
  for (int i = 0; i < 12'000; ++i) {  // ~12 MiB, three times gRPC's default 4 MiB
    ASSERT_TRUE(snapshot.Add(testing::Cluster(absl::StrCat("cluster-", i, "-", padding))).ok());
  }
  cache().SetSnapshot("node-1", std::move(snapshot));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<DiscoveryResponse> response = client->Next(absl::Seconds(30));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->resources_size(), 12'000);
  EXPECT_GT(response->ByteSizeLong(), 12'000'000u);
}

TEST_F(AdsServiceTest, ClientDisappearanceIsNoticed) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 1));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {}));
  ASSERT_TRUE(client->Next(kWait).has_value());
  ASSERT_TRUE(cache().WaitForNode(
      "node-1", [](const NodeStatus& s) { return s.connected_streams == 1; }, kWait));
  client.reset();  // cancels the stream
  EXPECT_TRUE(cache().WaitForNode(
      "node-1", [](const NodeStatus& s) { return s.connected_streams == 0; }, kWait));
  // Pushing to a node whose streams are gone is harmless.
  cache().SetSnapshot("node-1", MakeSnapshot("v2", 1));
}

TEST_F(AdsServiceTest, ShutdownEndsOpenStreams) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 1));
  std::vector<std::unique_ptr<AdsTestClient>> clients;
  for (int i = 0; i < 3; ++i) {
    auto client = Connect();
    ASSERT_TRUE(client->Request(kClusterType, {}));
    ASSERT_TRUE(client->Next(kWait).has_value());
    clients.push_back(std::move(client));
  }
  // One stream has a response in flight that the client never reads to the end.
  ASSERT_TRUE(clients[0]->Request(kListenerType, {}));
  const absl::Time start = absl::Now();
  server_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  for (auto& client : clients) {
    std::optional<grpc::Status> end = client->WaitForEnd(kWait);
    ASSERT_TRUE(end.has_value());
    EXPECT_FALSE(end->ok());
  }
  server_->Shutdown();  // idempotent
  EXPECT_EQ(cache().GetNodeStatus("node-1").connected_streams, 0);
}

TEST_F(AdsServiceTest, AServerRestartedOnTheSamePortServesAgain) {
  cache().SetSnapshot("node-1", MakeSnapshot("v1", 1));
  auto client = Connect();
  ASSERT_TRUE(client->Request(kClusterType, {}));
  ASSERT_TRUE(client->Next(kWait).has_value());
  const uint16_t port = server_->port();
  server_.reset();
  ASSERT_TRUE(client->WaitForEnd(kWait).has_value());

  absl::StatusOr<std::unique_ptr<XdsServer>> restarted = XdsServer::Start({.port = port});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = *std::move(restarted);
  cache().SetSnapshot("node-1", MakeSnapshot("v2", 1));
  auto again = Connect();
  ASSERT_TRUE(again->Request(kClusterType, {}, "v1"));
  std::optional<DiscoveryResponse> response = again->Next(kWait);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->version_info(), "v2");
}

TEST_F(AdsServiceTest, ASecondServerOnAPortInUseFails) {
  absl::StatusOr<std::unique_ptr<XdsServer>> second =
      XdsServer::Start({.port = server_->port()});
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace xds::server
