// DynamicConfig: state-of-the-world updates, warming, initial_fetch_timeout, identity of
// unchanged resources, and the exact rejection (NACK) for each kind of invalid update, with the
// state left as it was.

#include "xds/dynamic_config.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace xds {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kBootstrap[] = R"(
node: {id: node-1, cluster: test}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds}}]
  lds_config: {ads: {}, resource_api_version: V3}
  cds_config: {ads: {}, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds
    type: STATIC
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 18000}}}}]}]
)";

template <typename Proto>
RawResource Resource(const std::string& json) {
  Proto proto;
  auto status = google::protobuf::util::JsonStringToMessage(json, &proto);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return {.type_url = absl::StrCat("type.googleapis.com/", Proto::descriptor()->full_name()),
          .value = proto.SerializeAsString()};
}

RawResource StaticCluster(const std::string& name, int port, const std::string& extra = "") {
  return Resource<envoy::config::cluster::v3::Cluster>(absl::StrCat(
      R"({"name":")", name, R"(","type":"STATIC",)", extra,
      R"("load_assignment":{"cluster_name":")", name,
      R"(","endpoints":[{"lb_endpoints":[{"endpoint":{"address":{"socket_address":{"address":"10.0.0.1","port_value":)",
      port, "}}}}]}]}}"));
}

RawResource EdsCluster(const std::string& name, const std::string& extra = "") {
  return Resource<envoy::config::cluster::v3::Cluster>(absl::StrCat(
      R"({"name":")", name, R"(","type":"EDS",)", extra,
      R"("eds_cluster_config":{"eds_config":{"ads":{}}}})"));
}

RawResource Endpoints(const std::string& name, const std::vector<int>& ports,
                      const std::string& weight = "") {
  std::string lb_endpoints;
  for (int port : ports) {
    if (!lb_endpoints.empty()) lb_endpoints += ",";
    lb_endpoints += absl::StrCat(
        R"({"endpoint":{"address":{"socket_address":{"address":"10.0.0.2","port_value":)", port,
        "}}}", weight.empty() ? "" : absl::StrCat(R"(,"load_balancing_weight":)", weight), "}");
  }
  return Resource<envoy::config::endpoint::v3::ClusterLoadAssignment>(absl::StrCat(
      R"({"cluster_name":")", name, R"(","endpoints":[{"lb_endpoints":[)", lb_endpoints, "]}]}"));
}

constexpr char kRouter[] =
    R"([{"name":"envoy.filters.http.router","typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}])";

// A listener whose HCM uses RDS route configuration `route` (or `inline_routes` when given).
RawResource Listener(const std::string& name, int port, const std::string& route,
                     const std::string& hcm_extra = "", const std::string& http_filters = kRouter) {
  const std::string routes =
      absl::StrCat(R"("rds":{"route_config_name":")", route, R"(","config_source":{"ads":{}}})");
  return Resource<envoy::config::listener::v3::Listener>(absl::StrCat(
      R"({"name":")", name,
      R"(","address":{"socket_address":{"address":"127.0.0.1","port_value":)", port,
      R"(}},"filter_chains":[{"filters":[{"name":"envoy.filters.network.http_connection_manager","typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager","stat_prefix":")",
      name, R"(",)", hcm_extra, routes, R"(,"http_filters":)", http_filters, "}}]}]}"));
}

// A route configuration sending everything to weighted clusters (name, weight).
RawResource Route(const std::string& name,
                  const std::vector<std::pair<std::string, int>>& clusters,
                  const std::string& match = R"({"prefix":"/"})") {
  std::string weighted;
  for (const auto& [cluster, weight] : clusters) {
    if (!weighted.empty()) weighted += ",";
    weighted += absl::StrCat(R"({"name":")", cluster, R"(","weight":)", weight, "}");
  }
  return Resource<envoy::config::route::v3::RouteConfiguration>(absl::StrCat(
      R"({"name":")", name,
      R"(","virtual_hosts":[{"name":"vh","domains":["*"],"routes":[{"match":)", match,
      R"(,"route":{"weighted_clusters":{"clusters":[)", weighted, "]}}}]}]}"));
}

class DynamicConfigTest : public ::testing::Test {
 protected:
  DynamicConfigTest() {
    BootstrapResult result = ParseBootstrap(kBootstrap, /*json=*/false, {});
    EXPECT_THAT(result.errors, IsEmpty());
    bootstrap_ = *std::move(result.config);
    config_ = std::make_unique<DynamicConfig>(bootstrap_, now_);
  }

  // Prepare + Commit; fails the test if the update is rejected.
  DynamicConfig::Prepared Accept(ResourceType type, const std::string& version,
                                 const std::vector<RawResource>& resources) {
    DynamicConfig::Prepared prepared = config_->Prepare(type, version, resources, now_);
    EXPECT_TRUE(prepared.status.ok()) << prepared.status;
    DynamicConfig::Prepared copy;
    copy.changed = prepared.changed;
    copy.names = prepared.names;
    copy.warnings = prepared.warnings;
    copy.snapshot = prepared.snapshot;
    if (prepared.status.ok()) config_->Commit(std::move(prepared));
    return copy;
  }

  // Prepare only: the update must be rejected; returns the error text.
  std::string Reject(ResourceType type, const std::vector<RawResource>& resources) {
    DynamicConfig::Prepared prepared = config_->Prepare(type, "bad", resources, now_);
    EXPECT_FALSE(prepared.status.ok());
    return std::string(prepared.status.message());
  }

  std::vector<std::string> ClusterNames() const {
    std::vector<std::string> names;
    for (const auto& cluster : config_->snapshot()->clusters()) {
      names.push_back(cluster->config().name);
    }
    return names;
  }
  std::vector<std::string> ListenerNames() const {
    std::vector<std::string> names;
    for (const auto& listener : config_->snapshot()->listeners()) names.push_back(listener.name);
    return names;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  BootstrapConfig bootstrap_;
  std::unique_ptr<DynamicConfig> config_;
};

TEST_F(DynamicConfigTest, StartsWithTheStaticResources) {
  EXPECT_THAT(ClusterNames(), ElementsAre("xds"));
  EXPECT_THAT(ListenerNames(), IsEmpty());
  EXPECT_EQ(config_->version(ResourceType::kCluster), "");
  EXPECT_THAT(config_->SubscriptionNames(ResourceType::kEndpoints), IsEmpty());
  EXPECT_FALSE(config_->Warming(ResourceType::kEndpoints));
}

TEST_F(DynamicConfigTest, CdsIsTheFullStateAndUnchangedClustersKeepTheirIdentity) {
  auto first = Accept(ResourceType::kCluster, "1", {StaticCluster("a", 80), StaticCluster("b", 81)});
  EXPECT_TRUE(first.changed);
  EXPECT_THAT(ClusterNames(), ElementsAre("xds", "a", "b"));
  EXPECT_THAT(first.names, ElementsAre("a", "b"));
  const routing::Cluster* a = config_->snapshot()->FindCluster("a");

  // Same bytes again: nothing changes, the compiled cluster is the same object.
  auto again = Accept(ResourceType::kCluster, "2", {StaticCluster("a", 80), StaticCluster("b", 81)});
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(config_->snapshot()->FindCluster("a"), a);
  EXPECT_EQ(config_->version(ResourceType::kCluster), "2");

  // b missing from the next response: removed. a unchanged: same object.
  Accept(ResourceType::kCluster, "3", {StaticCluster("a", 80)});
  EXPECT_THAT(ClusterNames(), ElementsAre("xds", "a"));
  EXPECT_EQ(config_->snapshot()->FindCluster("a"), a);

  // An empty response removes every dynamic cluster.
  Accept(ResourceType::kCluster, "4", {});
  EXPECT_THAT(ClusterNames(), ElementsAre("xds"));
}

TEST_F(DynamicConfigTest, EdsClusterWarmsUntilItsEndpointsArrive) {
  Accept(ResourceType::kCluster, "1", {EdsCluster("v1"), EdsCluster("v2", R"("eds_cluster_config":{"service_name":"svc2","eds_config":{"ads":{}}},)")});
  // Not serving yet, and EDS asks for both (v2 by its service name).
  EXPECT_THAT(ClusterNames(), ElementsAre("xds"));
  EXPECT_THAT(config_->SubscriptionNames(ResourceType::kEndpoints), ElementsAre("svc2", "v1"));
  EXPECT_TRUE(config_->Warming(ResourceType::kEndpoints));
  EXPECT_THAT(config_->ClustersForService("svc2"), ElementsAre("v2"));

  auto eds = Accept(ResourceType::kEndpoints, "e1", {Endpoints("v1", {80, 81})});
  EXPECT_THAT(eds.names, ElementsAre("v1"));
  EXPECT_THAT(ClusterNames(), ElementsAre("xds", "v1"));
  EXPECT_EQ(config_->snapshot()->FindCluster("v1")->endpoints().size(), 2u);
  EXPECT_TRUE(config_->Warming(ResourceType::kEndpoints));  // svc2 still missing

  Accept(ResourceType::kEndpoints, "e2", {Endpoints("svc2", {90})});
  EXPECT_THAT(ClusterNames(), ElementsAre("xds", "v1", "v2"));
  EXPECT_FALSE(config_->Warming(ResourceType::kEndpoints));
  // A subset response (only svc2) kept v1's endpoints.
  EXPECT_EQ(config_->snapshot()->FindCluster("v1")->endpoints().size(), 2u);
}

TEST_F(DynamicConfigTest, EndpointChangesRebuildOnlyTheirCluster) {
  Accept(ResourceType::kCluster, "1", {EdsCluster("v1"), EdsCluster("v2")});
  Accept(ResourceType::kEndpoints, "1", {Endpoints("v1", {80}), Endpoints("v2", {90})});
  const routing::Cluster* v1 = config_->snapshot()->FindCluster("v1");
  const routing::Cluster* v2 = config_->snapshot()->FindCluster("v2");

  auto update = Accept(ResourceType::kEndpoints, "2", {Endpoints("v1", {80, 81}), Endpoints("v2", {90})});
  EXPECT_TRUE(update.changed);
  EXPECT_NE(config_->snapshot()->FindCluster("v1"), v1);
  EXPECT_EQ(config_->snapshot()->FindCluster("v1")->endpoints().size(), 2u);
  EXPECT_EQ(config_->snapshot()->FindCluster("v2"), v2);

  // A changed EDS cluster whose endpoints are known is rebuilt with them at once (no warming).
  Accept(ResourceType::kCluster, "2",
         {EdsCluster("v1", R"("connect_timeout":"2s",)"), EdsCluster("v2")});
  ASSERT_NE(config_->snapshot()->FindCluster("v1"), nullptr);
  EXPECT_EQ(config_->snapshot()->FindCluster("v1")->config().connect_timeout, absl::Seconds(2));
  EXPECT_EQ(config_->snapshot()->FindCluster("v1")->endpoints().size(), 2u);
  EXPECT_EQ(config_->snapshot()->FindCluster("v2"), v2);
}

TEST_F(DynamicConfigTest, RemovedClusterDropsItsEndpointsAndSubscription) {
  Accept(ResourceType::kCluster, "1", {EdsCluster("v1"), EdsCluster("v2")});
  Accept(ResourceType::kEndpoints, "1", {Endpoints("v1", {80}), Endpoints("v2", {90})});
  Accept(ResourceType::kCluster, "2", {EdsCluster("v1")});
  EXPECT_THAT(config_->SubscriptionNames(ResourceType::kEndpoints), ElementsAre("v1"));
  EXPECT_EQ(config_->Resources(ResourceType::kEndpoints).size(), 1u);
  // Re-adding v2 needs its endpoints again.
  Accept(ResourceType::kCluster, "3", {EdsCluster("v1"), EdsCluster("v2")});
  EXPECT_THAT(ClusterNames(), ElementsAre("xds", "v1"));
}

TEST_F(DynamicConfigTest, EdsInitialFetchTimeoutServesTheClusterWithoutEndpoints) {
  Accept(ResourceType::kCluster, "1",
         {EdsCluster("v1", R"("eds_cluster_config":{"eds_config":{"ads":{},"initial_fetch_timeout":"2s"}},)")});
  ASSERT_EQ(config_->NextWarmingDeadline(), now_ + absl::Seconds(2));
  DynamicConfig::Prepared early = config_->Refresh(now_ + absl::Seconds(1));
  ASSERT_TRUE(early.status.ok());
  EXPECT_FALSE(early.changed);

  DynamicConfig::Prepared late = config_->Refresh(now_ + absl::Seconds(2));
  ASSERT_TRUE(late.status.ok());
  EXPECT_TRUE(late.changed);
  config_->Commit(std::move(late));
  ASSERT_NE(config_->snapshot()->FindCluster("v1"), nullptr);
  EXPECT_THAT(config_->snapshot()->FindCluster("v1")->endpoints(), IsEmpty());
  EXPECT_FALSE(config_->Warming(ResourceType::kEndpoints));
  EXPECT_EQ(config_->NextWarmingDeadline(), std::nullopt);
  // The endpoints still count when they come.
  EXPECT_THAT(config_->SubscriptionNames(ResourceType::kEndpoints), ElementsAre("v1"));
  Accept(ResourceType::kEndpoints, "1", {Endpoints("v1", {80})});
  EXPECT_EQ(config_->snapshot()->FindCluster("v1")->endpoints().size(), 1u);
}

TEST_F(DynamicConfigTest, ZeroInitialFetchTimeoutWaitsForever) {
  Accept(ResourceType::kCluster, "1",
         {EdsCluster("v1", R"("eds_cluster_config":{"eds_config":{"ads":{},"initial_fetch_timeout":"0s"}},)")});
  EXPECT_EQ(config_->NextWarmingDeadline(), std::nullopt);
  DynamicConfig::Prepared later = config_->Refresh(now_ + absl::Hours(1));
  EXPECT_FALSE(later.changed);
  EXPECT_TRUE(config_->Warming(ResourceType::kEndpoints));
}

TEST_F(DynamicConfigTest, ListenerWarmsUntilItsRouteConfigurationArrives) {
  Accept(ResourceType::kListener, "1", {Listener("ingress", 0, "routes")});
  EXPECT_THAT(ListenerNames(), IsEmpty());
  EXPECT_THAT(config_->SubscriptionNames(ResourceType::kRoute), ElementsAre("routes"));
  EXPECT_TRUE(config_->Warming(ResourceType::kRoute));
  ASSERT_EQ(config_->Resources(ResourceType::kListener).size(), 1u);
  EXPECT_TRUE(config_->Resources(ResourceType::kListener)[0].warming);

  // Resources nobody asked for are ignored.
  auto rds = Accept(ResourceType::kRoute, "1",
                    {Route("other", {{"v1", 1}}), Route("routes", {{"v1", 90}, {"v2", 10}})});
  EXPECT_THAT(rds.names, ElementsAre("routes"));
  EXPECT_THAT(ListenerNames(), ElementsAre("ingress"));
  EXPECT_FALSE(config_->Resources(ResourceType::kListener)[0].warming);
  EXPECT_THAT(config_->StatPrefixesForRoute("routes"), ElementsAre("ingress"));
  const ListenerConfig& listener = config_->snapshot()->listeners()[0];
  ASSERT_NE(listener.http.route_table, nullptr);
  const uint64_t hash = listener.config_hash;
  EXPECT_NE(hash, 0u);

  // New weights: same listener identity, new route table.
  auto table = listener.http.route_table;
  auto update = Accept(ResourceType::kRoute, "2", {Route("routes", {{"v1", 50}, {"v2", 50}})});
  EXPECT_TRUE(update.changed);
  EXPECT_EQ(config_->snapshot()->listeners()[0].config_hash, hash);
  EXPECT_NE(config_->snapshot()->listeners()[0].http.route_table, table);
  EXPECT_EQ(config_->version(ResourceType::kRoute), "2");
}

TEST_F(DynamicConfigTest, ChangedListenerWaitsForItsNewRoutesWhileTheOldOneServes) {
  Accept(ResourceType::kListener, "1", {Listener("ingress", 0, "r1")});
  Accept(ResourceType::kRoute, "1", {Route("r1", {{"v1", 1}})});
  const uint64_t old_hash = config_->snapshot()->listeners()[0].config_hash;

  Accept(ResourceType::kListener, "2", {Listener("ingress", 0, "r2")});
  // Still the old listener (r2 has not arrived).
  ASSERT_THAT(ListenerNames(), ElementsAre("ingress"));
  EXPECT_EQ(config_->snapshot()->listeners()[0].config_hash, old_hash);
  EXPECT_THAT(config_->SubscriptionNames(ResourceType::kRoute), ElementsAre("r2"));

  Accept(ResourceType::kRoute, "2", {Route("r2", {{"v2", 1}})});
  EXPECT_NE(config_->snapshot()->listeners()[0].config_hash, old_hash);
}

TEST_F(DynamicConfigTest, RdsInitialFetchTimeoutServesTheListenerWithNoRoutes) {
  Accept(ResourceType::kListener, "1",
         {Listener("ingress", 0, "routes", "")});
  // The HCM's rds.config_source has no initial_fetch_timeout: Envoy's default, 15 s.
  ASSERT_EQ(config_->NextWarmingDeadline(), now_ + absl::Seconds(15));
  DynamicConfig::Prepared late = config_->Refresh(now_ + absl::Seconds(15));
  ASSERT_TRUE(late.status.ok());
  config_->Commit(std::move(late));
  ASSERT_THAT(ListenerNames(), ElementsAre("ingress"));
  EXPECT_NE(config_->snapshot()->listeners()[0].http.route_table, nullptr);
}

TEST_F(DynamicConfigTest, LdsRemovesListenersMissingFromTheResponse) {
  Accept(ResourceType::kRoute, "0", {});
  Accept(ResourceType::kListener, "1", {Listener("a", 0, "r"), Listener("b", 0, "r")});
  Accept(ResourceType::kRoute, "1", {Route("r", {{"v1", 1}})});
  EXPECT_THAT(ListenerNames(), ElementsAre("a", "b"));
  Accept(ResourceType::kListener, "2", {Listener("b", 0, "r")});
  EXPECT_THAT(ListenerNames(), ElementsAre("b"));
}

TEST_F(DynamicConfigTest, ResourcesReportVersionsAndTimes) {
  Accept(ResourceType::kCluster, "7", {StaticCluster("a", 80)});
  std::vector<DynamicConfig::ResourceInfo> clusters = config_->Resources(ResourceType::kCluster);
  ASSERT_EQ(clusters.size(), 1u);
  EXPECT_EQ(clusters[0].name, "a");
  EXPECT_EQ(clusters[0].version, "7");
  EXPECT_EQ(clusters[0].last_updated, now_);
  EXPECT_FALSE(clusters[0].warming);
  EXPECT_EQ(clusters[0].type_url, "type.googleapis.com/envoy.config.cluster.v3.Cluster");
  // An unchanged resource keeps the version it was last changed in.
  Accept(ResourceType::kCluster, "8", {StaticCluster("a", 80)});
  EXPECT_EQ(config_->Resources(ResourceType::kCluster)[0].version, "7");
  EXPECT_EQ(config_->version(ResourceType::kCluster), "8");
  EXPECT_EQ(config_->last_updated(ResourceType::kCluster), now_);
}

// ---- Rejections: every one names the resource and the field, and changes nothing. ----

class DynamicConfigRejectTest : public DynamicConfigTest {
 protected:
  void SetUp() override {
    Accept(ResourceType::kCluster, "good", {EdsCluster("v1"), EdsCluster("v2")});
    Accept(ResourceType::kEndpoints, "good", {Endpoints("v1", {80}), Endpoints("v2", {90})});
    Accept(ResourceType::kListener, "good", {Listener("ingress", 0, "routes")});
    Accept(ResourceType::kRoute, "good", {Route("routes", {{"v1", 90}, {"v2", 10}})});
    before_ = config_->snapshot();
  }
  void TearDown() override {
    EXPECT_EQ(config_->snapshot(), before_);
    for (ResourceType type : kResourceTypes) EXPECT_EQ(config_->version(type), "good");
  }
  std::shared_ptr<const ConfigSnapshot> before_;
};

TEST_F(DynamicConfigRejectTest, WeightsSummingToZero) {
  EXPECT_THAT(Reject(ResourceType::kRoute, {Route("routes", {{"v1", 0}, {"v2", 0}})}),
              HasSubstr("route configuration \"routes\": virtual_hosts[0].routes[0].route."
                        "weighted_clusters"));
}

TEST_F(DynamicConfigRejectTest, BadRegex) {
  std::string error = Reject(
      ResourceType::kRoute,
      {Route("routes", {{"v1", 1}}, R"({"safe_regex":{"regex":"(unclosed"}})")});
  EXPECT_THAT(error, HasSubstr("route configuration \"routes\": virtual_hosts[0].routes[0]."
                               "match.safe_regex"));
}

TEST_F(DynamicConfigRejectTest, MalformedBytes) {
  RawResource garbage{.type_url = "type.googleapis.com/envoy.config.cluster.v3.Cluster",
                      .value = "\xff\xff\xff\xff"};
  EXPECT_THAT(Reject(ResourceType::kCluster, {garbage}),
              HasSubstr("resources[0]: malformed envoy.config.cluster.v3.Cluster"));
}

TEST_F(DynamicConfigRejectTest, TypeUrlNotMatchingTheResponse) {
  EXPECT_THAT(Reject(ResourceType::kCluster, {Endpoints("v1", {80})}),
              HasSubstr("resources[0]: type type.googleapis.com/envoy.config.endpoint.v3."
                        "ClusterLoadAssignment in a response for"));
}

TEST_F(DynamicConfigRejectTest, UnknownExtensionInAnAny) {
  const std::string filters =
      R"([{"name":"envoy.filters.http.lua","typed_config":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s"}},)"
      R"({"name":"envoy.filters.http.router","typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}])";
  EXPECT_THAT(Reject(ResourceType::kListener, {Listener("ingress", 0, "routes", "", filters)}),
              HasSubstr("listener \"ingress\": filter_chains[0].filters[0].typed_config."
                        "http_filters[0].typed_config: extension type \"google.protobuf.Duration\" "
                        "is not supported by weir"));
}

TEST_F(DynamicConfigRejectTest, DuplicateNames) {
  EXPECT_THAT(Reject(ResourceType::kCluster, {EdsCluster("v1"), EdsCluster("v1")}),
              HasSubstr("cluster \"v1\": appears twice in the response (resources[0] and "
                        "resources[1])"));
}

TEST_F(DynamicConfigRejectTest, StaticNamesCannotBeReplaced) {
  EXPECT_THAT(Reject(ResourceType::kCluster, {EdsCluster("v1"), EdsCluster("v2"), StaticCluster("xds", 1)}),
              HasSubstr("cluster \"xds\": a static cluster has this name"));
}

TEST_F(DynamicConfigRejectTest, TwoListenersOnOneAddress) {
  EXPECT_THAT(Reject(ResourceType::kListener,
                     {Listener("ingress", 0, "routes"), Listener("a", 9000, "routes"),
                      Listener("b", 9000, "routes")}),
              HasSubstr("listener \"b\": address 127.0.0.1:9000 is already used by listener "
                        "\"a\""));
}

TEST_F(DynamicConfigRejectTest, InvalidEndpoint) {
  RawResource bad = Resource<envoy::config::endpoint::v3::ClusterLoadAssignment>(
      R"({"cluster_name":"v1","endpoints":[{"lb_endpoints":[{"endpoint":{"address":{"socket_address":{"address":"not-an-ip","port_value":80}}}}]}]})");
  EXPECT_THAT(Reject(ResourceType::kEndpoints, {bad}),
              HasSubstr("cluster load assignment \"v1\": endpoints[0].lb_endpoints[0].endpoint."
                        "address.socket_address.address"));
}

TEST_F(DynamicConfigRejectTest, ResourceWithoutName) {
  EXPECT_THAT(Reject(ResourceType::kCluster, {StaticCluster("", 80)}),
              HasSubstr("resources[0]: has no name"));
}

TEST_F(DynamicConfigRejectTest, RefusedField) {
  // runtime_fraction would narrow the match; ignoring it would send more traffic to the route.
  EXPECT_THAT(
      Reject(ResourceType::kRoute,
             {Route("routes", {{"v1", 1}},
                    R"({"prefix":"/","runtime_fraction":{"default_value":{"numerator":1},"runtime_key":"k"}})")}),
      HasSubstr("route configuration \"routes\": virtual_hosts[0].routes[0].match."
                "runtime_fraction: not supported by weir"));
}

TEST_F(DynamicConfigTest, UnsupportedFieldsAreWarningsNotErrors) {
  auto prepared = Accept(ResourceType::kCluster, "1",
                         {StaticCluster("a", 80, R"("respect_dns_ttl":true,)")});
  EXPECT_THAT(prepared.warnings,
              ElementsAre(HasSubstr("cluster \"a\": respect_dns_ttl: field is not supported")));
}

}  // namespace
}  // namespace xds
