// weir's xDS client against a scripted ADS server: the real weir binary, every DiscoveryRequest
// it sends checked field by field (versions, nonces, names, node, error_detail), the start-up
// order, ACK/NACK for each kind of invalid update with the old config still serving, stream loss
// and resubscription, initial_fetch_timeout, and LDS adding and removing listeners.

#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/scripted_ads_server.h"
#include "tests/integration/harness/test_upstream.h"
#include "tests/integration/harness/xds_resources.h"

namespace weir_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kBootstrap[] = R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
node: {id: test-node, cluster: test-cluster, metadata: {team: canary}}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]
  cds_config: {ads: {}, resource_api_version: V3, initial_fetch_timeout: ${FETCH_TIMEOUT}}
  lds_config: {ads: {}, resource_api_version: V3, initial_fetch_timeout: ${FETCH_TIMEOUT}}
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    load_assignment:
      cluster_name: xds_cluster
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${XDS_PORT}}}}}]}]
)";

class XdsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1_ = TestUpstream::Start("v1");
    v2_ = TestUpstream::Start("v2");
    ASSERT_NE(v1_, nullptr);
    ASSERT_NE(v2_, nullptr);
    auto ads = ScriptedAdsServer::Start();
    ASSERT_TRUE(ads.ok()) << ads.status();
    ads_ = *std::move(ads);
  }

  void StartProxy(const std::string& fetch_timeout = "0s", uint16_t xds_port = 0) {
    StartOptions options;
    options.wait_for_ready = false;  // not ready until the initial fetch is done
    options.log_level = "debug";
    auto proxy = ProxyProcess::Start(
        Substitute(kBootstrap, {{"XDS_PORT", absl::StrCat(xds_port != 0 ? xds_port : ads_->port())},
                                {"FETCH_TIMEOUT", fetch_timeout}}),
        {}, options);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
  }

  // Reads the next request of `type` and checks it is an ACK of `version` with `nonce`.
  void ExpectAck(const std::string& type, const std::string& version, const std::string& nonce) {
    auto request = ads_->NextRequestFor(type);
    ASSERT_TRUE(request.ok()) << request.status() << "\n" << proxy_->Log();
    EXPECT_EQ(request->version_info(), version) << type;
    EXPECT_EQ(request->response_nonce(), nonce) << type;
    EXPECT_FALSE(request->has_error_detail()) << request->error_detail().message();
  }

  // Sends a response and expects its ACK.
  void SendAndAck(const std::string& type, const std::string& version,
                  const std::vector<std::string>& resources) {
    auto nonce = ads_->Send(MakeResponse(type, version, resources));
    ASSERT_TRUE(nonce.ok()) << nonce.status();
    ExpectAck(type, version, *nonce);
  }

  // Sends a response and expects a NACK that keeps `kept_version` and whose message contains
  // `error`; returns the message.
  std::string SendAndExpectNack(DiscoveryResponse response, const std::string& kept_version,
                                const std::string& error) {
    const std::string type = response.type_url();
    auto nonce = ads_->Send(std::move(response));
    EXPECT_TRUE(nonce.ok()) << nonce.status();
    auto request = ads_->NextRequestFor(type);
    EXPECT_TRUE(request.ok()) << request.status() << "\n" << proxy_->Log();
    if (!request.ok()) return "";
    EXPECT_EQ(request->version_info(), kept_version);
    EXPECT_EQ(request->response_nonce(), *nonce);
    EXPECT_TRUE(request->has_error_detail());
    EXPECT_EQ(request->error_detail().code(), 3);  // INVALID_ARGUMENT
    EXPECT_THAT(request->error_detail().message(), HasSubstr(error));
    return request->error_detail().message();
  }

  // The whole initial fetch, as Envoy does it: CDS, EDS for its clusters, LDS, RDS.
  void InitialFetch() {
    auto cds = ads_->NextRequestFor(kClusterType);
    ASSERT_TRUE(cds.ok()) << cds.status() << "\n" << proxy_->Log();
    EXPECT_EQ(cds->node().id(), "test-node");
    EXPECT_EQ(cds->node().cluster(), "test-cluster");
    EXPECT_EQ(cds->node().metadata().fields().at("team").string_value(), "canary");
    EXPECT_EQ(cds->node().user_agent_name(), "weir");
    EXPECT_EQ(cds->version_info(), "");
    EXPECT_EQ(cds->response_nonce(), "");
    EXPECT_THAT(cds->resource_names(), IsEmpty());  // wildcard
    // Nothing else before clusters are known.
    EXPECT_FALSE(ads_->NextRequestFor(kListenerType, absl::Milliseconds(200)).ok());
    EXPECT_EQ(Ready(), 503);

    SendAndAck(kClusterType, "c1", {EdsCluster("v1"), EdsCluster("v2")});
    auto eds = ads_->NextRequestFor(kEndpointType);
    ASSERT_TRUE(eds.ok()) << eds.status();
    EXPECT_THAT(eds->resource_names(), ElementsAre("v1", "v2"));
    EXPECT_EQ(eds->version_info(), "");
    // Listeners wait for the clusters' endpoints.
    EXPECT_FALSE(ads_->NextRequestFor(kListenerType, absl::Milliseconds(200)).ok());
    SendAndAck(kEndpointType, "e1", {Endpoints("v1", {v1_->port()}), Endpoints("v2", {v2_->port()})});

    auto lds = ads_->NextRequestFor(kListenerType);
    ASSERT_TRUE(lds.ok()) << lds.status();
    EXPECT_THAT(lds->resource_names(), IsEmpty());
    EXPECT_TRUE(lds->has_node());  // set_node_on_first_message_only is false
    SendAndAck(kListenerType, "l1", {RdsListener("ingress", 0, "routes")});
    auto rds = ads_->NextRequestFor(kRouteType);
    ASSERT_TRUE(rds.ok()) << rds.status();
    EXPECT_THAT(rds->resource_names(), ElementsAre("routes"));
    EXPECT_EQ(Ready(), 503);  // the listener warms until its routes arrive
    SendAndAck(kRouteType, "r1", {WeightedRoute("routes", {{"v1", 100}, {"v2", 0}})});

    ASSERT_TRUE(WaitUntil([&] { return Ready() == 200; })) << proxy_->Log();
    auto port = proxy_->ListenerPort("ingress");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  int Ready() {
    HttpResult ready = proxy_->AdminGet("/ready");
    return ready.ok() ? ready->status : -1;
  }

  // Sends `count` requests; returns responses per body ("v1", "v2", "503"...).
  std::map<std::string, int> Traffic(int count, const HeaderList& headers = {}) {
    std::map<std::string, int> seen;
    for (int i = 0; i < count; ++i) {
      HttpResult r = HttpGet(port_, "/", headers);
      if (!r.ok()) {
        ++seen[std::string(r.status().message())];
      } else if (r->status != 200) {
        ++seen[absl::StrCat(r->status)];
      } else {
        ++seen[r->body];
      }
    }
    return seen;
  }

  uint64_t Stat(const std::string& name) {
    auto value = proxy_->StatValue(name);
    return value.ok() ? *value : 0;
  }

  std::unique_ptr<TestUpstream> v1_;
  std::unique_ptr<TestUpstream> v2_;
  std::unique_ptr<ScriptedAdsServer> ads_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(XdsClientTest, InitialFetchFollowsEnvoysOrderThenServes) {
  StartProxy();
  InitialFetch();
  EXPECT_THAT(Traffic(20), ElementsAre(std::pair<const std::string, int>("v1", 20)));
  EXPECT_EQ(Stat("control_plane.connected_state"), 1u);
  EXPECT_EQ(Stat("cluster_manager.cds.update_success"), 1u);
  EXPECT_EQ(Stat("listener_manager.lds.update_success"), 1u);
  EXPECT_EQ(Stat("cluster.v1.update_success"), 1u);
  EXPECT_EQ(Stat("http.ingress.rds.routes.update_success"), 1u);
  EXPECT_EQ(Stat("http.ingress.rds.routes.config_reload"), 1u);
  EXPECT_EQ(Stat("cluster_manager.active_clusters"), 3u);
  EXPECT_EQ(Stat("listener_manager.total_listeners_active"), 1u);
  HttpResult clusters = proxy_->AdminGet("/clusters");
  ASSERT_TRUE(clusters.ok());
  EXPECT_THAT(clusters->body, HasSubstr("v1::added_via_api::true"));
  EXPECT_THAT(clusters->body, HasSubstr("xds_cluster::added_via_api::false"));

  HttpResult dump = proxy_->AdminGet("/config_dump");
  ASSERT_TRUE(dump.ok());
  EXPECT_THAT(dump->body, HasSubstr("\"dynamic_active_clusters\""));
  EXPECT_THAT(dump->body, HasSubstr("\"version_info\": \"c1\""));
  EXPECT_THAT(dump->body, HasSubstr("\"dynamic_listeners\""));
  EXPECT_THAT(dump->body, HasSubstr("\"dynamic_route_configs\""));
  EXPECT_THAT(dump->body, HasSubstr("\"version_info\": \"r1\""));
  EXPECT_THAT(dump->body, HasSubstr("\"last_updated\""));
}

TEST_F(XdsClientTest, RouteWeightsChangeLive) {
  StartProxy();
  InitialFetch();
  SendAndAck(kRouteType, "r2", {WeightedRoute("routes", {{"v1", 0}, {"v2", 100}})});
  // ACKed means applied to the snapshot; the workers pick it up between requests.
  EXPECT_THAT(Traffic(20), ElementsAre(std::pair<const std::string, int>("v2", 20)));
  SendAndAck(kRouteType, "r3", {WeightedRoute("routes", {{"v1", 50}, {"v2", 50}})});
  std::map<std::string, int> split = Traffic(400);
  EXPECT_EQ(split["v1"] + split["v2"], 400);
  EXPECT_GT(split["v1"], 140);  // 200 ± 3σ (σ = 10)
  EXPECT_GT(split["v2"], 140);
  EXPECT_EQ(Stat("http.ingress.rds.routes.config_reload"), 3u);
}

TEST_F(XdsClientTest, APushOfTensOfMebibytesIsApplied) {
  // 2 000 routes, each matching a 10 KiB header value: a 20 MiB RouteConfiguration, five times
  // gRPC's default 4 MiB receive limit.
  StartProxy();
  InitialFetch();
  const std::string big_value(10 * 1024, 'x');
  std::string routes;
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&routes, R"({"match":{"prefix":"/big/)", i, R"(","headers":[{"name":"x-big",)",
                    R"("string_match":{"exact":")", big_value, R"("}}]},"route":{"cluster":"v2"}},)");
  }
  const std::string large = Serialize(
      "envoy.config.route.v3.RouteConfiguration",
      absl::StrCat(R"({"name":"routes","virtual_hosts":[{"name":"all","domains":["*"],"routes":[)",
                   routes, R"({"match":{"prefix":"/"},"route":{"cluster":"v1"}}]}]})"));
  ASSERT_GT(large.size(), 19u << 20);
  SendAndAck(kRouteType, "big", {large});
  HttpResult matched = HttpGet(port_, "/big/1999", {{"x-big", big_value}});
  ASSERT_TRUE(matched.ok()) << matched.status();
  EXPECT_EQ(matched->body, "v2");
  HttpResult other = HttpGet(port_, "/big/1999");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->body, "v1");
}

TEST_F(XdsClientTest, EndpointsChangeLive) {
  StartProxy();
  InitialFetch();
  auto v1b = TestUpstream::Start("v1b");
  ASSERT_NE(v1b, nullptr);
  // v1 moves to a new host: the old one must not see traffic afterwards.
  SendAndAck(kEndpointType, "e2", {Endpoints("v1", {v1b->port()}), Endpoints("v2", {v2_->port()})});
  EXPECT_THAT(Traffic(10), ElementsAre(std::pair<const std::string, int>("v1b", 10)));
  EXPECT_EQ(Stat("cluster.v1.membership_total"), 1u);
  EXPECT_EQ(Stat("cluster.v1.update_success"), 2u);
}

TEST_F(XdsClientTest, InvalidUpdatesAreNackedAndTheOldConfigKeepsServing) {
  StartProxy();
  InitialFetch();
  // Weights summing to zero.
  SendAndExpectNack(MakeResponse(kRouteType, "bad1", {WeightedRoute("routes", {{"v1", 0}, {"v2", 0}})}),
                    "r1", "route configuration \"routes\": virtual_hosts[0].routes[0].route."
                          "weighted_clusters");
  // A bad regex.
  SendAndExpectNack(
      MakeResponse(kRouteType, "bad2",
                   {Serialize("envoy.config.route.v3.RouteConfiguration",
                              R"({"name":"routes","virtual_hosts":[{"name":"a","domains":["*"],)"
                              R"("routes":[{"match":{"safe_regex":{"regex":"(unclosed"}},)"
                              R"("route":{"cluster":"v1"}}]}]})")}),
      "r1", "virtual_hosts[0].routes[0].match.safe_regex");
  // Bytes that do not parse.
  SendAndExpectNack(MakeResponse(kClusterType, "bad3", {std::string("\xff\xff\xff", 3)}), "c1",
                    "resources[0]: malformed envoy.config.cluster.v3.Cluster");
  // An Any weir cannot run (an HTTP filter type it lacks).
  SendAndExpectNack(
      MakeResponse(
          kListenerType, "bad4",
          {Serialize(
              "envoy.config.listener.v3.Listener",
              R"({"name":"ingress","address":{"socket_address":{"address":"127.0.0.1","port_value":0}},)"
              R"("filter_chains":[{"filters":[{"name":"envoy.filters.network.http_connection_manager",)"
              R"("typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",)"
              R"("stat_prefix":"ingress","rds":{"route_config_name":"routes","config_source":{"ads":{}}},)"
              R"("http_filters":[{"name":"lua","typed_config":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s"}},)"
              R"({"name":"envoy.filters.http.router","typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]})")}),
      "l1",
      "listener \"ingress\": filter_chains[0].filters[0].typed_config.http_filters[0]."
      "typed_config: extension type \"google.protobuf.Duration\" is not supported by weir");
  // Duplicate names.
  SendAndExpectNack(MakeResponse(kClusterType, "bad5", {EdsCluster("v1"), EdsCluster("v1")}),
                    "c1", "cluster \"v1\": appears twice in the response");
  // A resource whose type does not match the response's.
  DiscoveryResponse mixed = MakeResponse(kClusterType, "bad6", {EdsCluster("v1")});
  mixed.mutable_resources(0)->set_type_url(kRouteType);
  SendAndExpectNack(std::move(mixed), "c1", "resources[0]: type " + std::string(kRouteType));
  // A resource type weir does not implement.
  DiscoveryResponse secret;
  secret.set_type_url("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret");
  secret.set_version_info("s1");
  SendAndExpectNack(std::move(secret), "", "weir does not implement resource type");
  // A listener on an address that is taken.
  auto blocker = TestUpstream::Start("blocker");
  ASSERT_NE(blocker, nullptr);
  SendAndExpectNack(MakeResponse(kListenerType, "bad7",
                                 {RdsListener("ingress", 0, "routes"),
                                  RdsListener("second", blocker->port(), "routes")}),
                    "l1", absl::StrCat("listener \"second\": cannot listen on 127.0.0.1:",
                                       blocker->port()));

  EXPECT_EQ(Stat("http.ingress.rds.routes.update_rejected"), 2u);
  EXPECT_EQ(Stat("cluster_manager.cds.update_rejected"), 3u);
  EXPECT_EQ(Stat("listener_manager.lds.update_rejected"), 2u);
  EXPECT_EQ(Stat("listener_manager.listener_create_failure"), 1u);
  // Nothing changed: all of it still goes to v1, through the one listener.
  EXPECT_THAT(Traffic(20), ElementsAre(std::pair<const std::string, int>("v1", 20)));
  auto listeners = proxy_->AdminGet("/listeners");
  ASSERT_TRUE(listeners.ok());
  EXPECT_EQ(listeners->body, absl::StrCat("ingress::127.0.0.1:", port_, "\n"));
  // And a good update after all that is taken.
  SendAndAck(kRouteType, "r2", {WeightedRoute("routes", {{"v1", 0}, {"v2", 1}})});
  EXPECT_THAT(Traffic(5), ElementsAre(std::pair<const std::string, int>("v2", 5)));
}

TEST_F(XdsClientTest, StreamLossKeepsTheConfigAndResubscribesWithTheVersionsHeld) {
  StartProxy();
  InitialFetch();
  ads_->CloseStream();
  // While the stream is down, traffic flows on the config held.
  EXPECT_THAT(Traffic(10), ElementsAre(std::pair<const std::string, int>("v1", 10)));
  ASSERT_TRUE(WaitUntil([&] { return ads_->streams() == 2; }, absl::Seconds(10)))
      << proxy_->Log();
  auto cds = ads_->NextRequestFor(kClusterType);
  ASSERT_TRUE(cds.ok()) << cds.status();
  EXPECT_EQ(cds->version_info(), "c1");
  EXPECT_EQ(cds->response_nonce(), "");  // nonces do not survive a stream
  EXPECT_EQ(cds->node().id(), "test-node");
  auto eds = ads_->NextRequestFor(kEndpointType);
  ASSERT_TRUE(eds.ok()) << eds.status();
  EXPECT_EQ(eds->version_info(), "e1");
  EXPECT_THAT(eds->resource_names(), ElementsAre("v1", "v2"));
  auto lds = ads_->NextRequestFor(kListenerType);
  ASSERT_TRUE(lds.ok()) << lds.status();
  EXPECT_EQ(lds->version_info(), "l1");
  auto rds = ads_->NextRequestFor(kRouteType);
  ASSERT_TRUE(rds.ok()) << rds.status();
  EXPECT_EQ(rds->version_info(), "r1");
  EXPECT_THAT(rds->resource_names(), ElementsAre("routes"));
  EXPECT_GE(Stat("cluster_manager.cds.update_failure"), 1u);
  // Updates flow again on the new stream.
  SendAndAck(kRouteType, "r2", {WeightedRoute("routes", {{"v1", 0}, {"v2", 1}})});
  EXPECT_THAT(Traffic(5), ElementsAre(std::pair<const std::string, int>("v2", 5)));
}

TEST_F(XdsClientTest, ServerDownAtStartThenUpBecomesReady) {
  // A control plane that is not there yet: weir keeps retrying.
  const uint16_t port = ads_->port();
  ads_.reset();
  StartProxy("0s", port);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(Ready(), 503);
  EXPECT_EQ(Stat("control_plane.connected_state"), 0u);
  // The port can be taken meanwhile (seen once in a full parallel run: "cannot listen"); a
  // loopback connect to a port nobody listens on can even pick that port as its own source and
  // connect to itself. Such holders go away, so the server retries its bind for a while.
  auto ads = ScriptedAdsServer::Start(port);
  for (int attempt = 0; !ads.ok() && attempt < 50; ++attempt) {
    absl::SleepFor(absl::Milliseconds(100));
    ads = ScriptedAdsServer::Start(port);
  }
  ASSERT_TRUE(ads.ok()) << ads.status();
  ads_ = *std::move(ads);
  InitialFetch();
  EXPECT_EQ(Stat("control_plane.connected_state"), 1u);
}

TEST_F(XdsClientTest, InitialFetchTimeoutStartsWithoutTheControlPlane) {
  StartProxy("0.5s");
  // No answer at all: after CDS's and then LDS's initial_fetch_timeout, weir goes LIVE.
  ASSERT_TRUE(WaitUntil([&] { return Ready() == 200; }, absl::Seconds(5))) << proxy_->Log();
  EXPECT_EQ(Stat("cluster_manager.cds.init_fetch_timeout"), 1u);
  EXPECT_EQ(Stat("listener_manager.lds.init_fetch_timeout"), 1u);
  // The subscriptions stay open: config that arrives later is applied.
  auto cds = ads_->NextRequestFor(kClusterType);
  ASSERT_TRUE(cds.ok());
  SendAndAck(kClusterType, "c1", {StaticCluster("v1", v1_->port())});
  EXPECT_EQ(Stat("cluster_manager.active_clusters"), 2u);
}

TEST_F(XdsClientTest, LdsAddsAndRemovesListeners) {
  StartProxy();
  InitialFetch();
  SendAndAck(kListenerType, "l2",
             {RdsListener("ingress", 0, "routes"), RdsListener("second", 0, "routes")});
  uint16_t second = 0;
  ASSERT_TRUE(WaitUntil([&] {
    auto port = proxy_->ListenerPort("second");
    second = port.ok() ? *port : 0;
    return second != 0;
  }));
  HttpResult r = HttpGet(second, "/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "v1");
  EXPECT_EQ(Stat("listener_manager.listener_added"), 2u);
  // The first listener was not touched: same port, still serving.
  EXPECT_EQ(*proxy_->ListenerPort("ingress"), port_);

  // A keep-alive connection on "second" when it is removed: its next response closes it.
  auto connection = RawConnection::Connect(second);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE(connection->Send(BuildRequest("GET", "/")).ok());
  ASSERT_TRUE(connection->ReadResponse().ok());
  SendAndAck(kListenerType, "l3", {RdsListener("ingress", 0, "routes")});
  ASSERT_TRUE(WaitUntil([&] { return !proxy_->ListenerPort("second").ok(); }));
  EXPECT_TRUE(connection->IsClosedByPeer(absl::Seconds(3)));
  EXPECT_FALSE(RawConnection::Connect(second, absl::Milliseconds(500)).ok());
  EXPECT_EQ(Stat("listener_manager.listener_removed"), 1u);
  EXPECT_THAT(Traffic(5), ElementsAre(std::pair<const std::string, int>("v1", 5)));
}

TEST_F(XdsClientTest, ChangedListenerKeepsItsSocketAndDrainsOldConnections) {
  StartProxy();
  InitialFetch();
  auto old_connection = RawConnection::Connect(port_);
  ASSERT_TRUE(old_connection.ok());
  ASSERT_TRUE(old_connection->Send(BuildRequest("GET", "/")).ok());
  HttpResult before = old_connection->ReadResponse();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->Header("server"), "envoy");

  SendAndAck(kListenerType, "l2",
             {RdsListener("ingress", 0, "routes", R"("server_name":"weir-2",)")});
  EXPECT_EQ(Stat("listener_manager.listener_modified"), 1u);
  // Same socket (port 0 was not re-bound), new settings for new connections...
  EXPECT_EQ(*proxy_->ListenerPort("ingress"), port_);
  ASSERT_TRUE(WaitUntil([&] {
    HttpResult r = HttpGet(port_, "/");
    return r.ok() && r->Header("server") == "weir-2";
  }));
  // ...and the connection accepted by the old version is closed within its drain second.
  EXPECT_TRUE(old_connection->IsClosedByPeer(absl::Seconds(3)));
}

TEST_F(XdsClientTest, RouteToAClusterNotYetKnownIs503UntilItArrives) {
  StartProxy();
  InitialFetch();
  SendAndAck(kRouteType, "r2", {WeightedRoute("routes", {{"v3", 1}})});
  EXPECT_THAT(Traffic(3), ElementsAre(std::pair<const std::string, int>("503", 3)));
  auto v3 = TestUpstream::Start("v3");
  ASSERT_NE(v3, nullptr);
  SendAndAck(kClusterType, "c2", {EdsCluster("v1"), EdsCluster("v2"), StaticCluster("v3", v3->port())});
  EXPECT_THAT(Traffic(3), ElementsAre(std::pair<const std::string, int>("v3", 3)));
}

}  // namespace
}  // namespace weir_test
