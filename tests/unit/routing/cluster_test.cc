// Cluster validation and the load-balancer view of its endpoints.

#include "routing/cluster.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

EndpointConfig Endpoint(std::string address, uint32_t port = 8080, uint32_t weight = 1) {
  EndpointConfig endpoint;
  endpoint.address = std::move(address);
  endpoint.port = port;
  endpoint.weight = weight;
  return endpoint;
}

ClusterConfig StaticCluster(std::vector<EndpointConfig> endpoints) {
  ClusterConfig config;
  config.name = "backend";
  config.type = DiscoveryType::kStatic;
  config.endpoints = std::move(endpoints);
  return config;
}

std::vector<std::string> Errors(const ClusterConfig& config) {
  ValidationErrors errors;
  std::shared_ptr<const Cluster> cluster = Cluster::Create(config, &errors);
  EXPECT_EQ(cluster == nullptr, !errors.ok());
  return errors.errors();
}

template <typename Edit>
ClusterConfig Edited(Edit edit) {
  ClusterConfig config = StaticCluster({Endpoint("10.0.0.1")});
  edit(config);
  return config;
}

TEST(RoutingClusterTest, Valid) {
  EXPECT_THAT(Errors(StaticCluster({Endpoint("10.0.0.1"), Endpoint("::1", 443, 5),
                                    Endpoint("2001:db8::7", 1, 4294967289u)})),
              IsEmpty());
  EXPECT_THAT(Errors(StaticCluster({})), IsEmpty());  // empty: the proxy answers 503
  ClusterConfig dns = StaticCluster({Endpoint("backend.internal", 80)});
  dns.type = DiscoveryType::kStrictDns;
  EXPECT_THAT(Errors(dns), IsEmpty());
  dns.type = DiscoveryType::kLogicalDns;
  EXPECT_THAT(Errors(dns), IsEmpty());
  ClusterConfig eds = StaticCluster({});
  eds.type = DiscoveryType::kEds;
  EXPECT_THAT(Errors(eds), IsEmpty());

  absl::StatusOr<std::shared_ptr<const Cluster>> cluster =
      Cluster::Create(StaticCluster({Endpoint("10.0.0.1")}));
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ((*cluster)->name(), "backend");
  EXPECT_EQ((*cluster)->endpoints().size(), 1u);
  EXPECT_EQ((*cluster)->config().lb_policy, LbPolicy::kRoundRobin);
}

TEST(RoutingClusterTest, Invalid) {
  struct Case {
    std::string name;
    ClusterConfig config;
    std::vector<std::string> errors;
  };
  const std::vector<Case> cases = {
      {"no name", Edited([](ClusterConfig& c) { c.name = ""; }), {"name: must not be empty"}},
      {"zero connect timeout",
       Edited([](ClusterConfig& c) { c.connect_timeout = absl::ZeroDuration(); }),
       {"connect_timeout: must be greater than 0"}},
      {"static hostname",
       StaticCluster({Endpoint("backend.internal")}),
       {"endpoints[0].address: \"backend.internal\" is not an IP address (STATIC clusters need "
        "IP literals)"}},
      {"bracketed IPv6",
       StaticCluster({Endpoint("10.0.0.1"), Endpoint("[::1]")}),
       {"endpoints[1].address: \"[::1]\" is not an IP address (STATIC clusters need IP "
        "literals)"}},
      {"EDS hostname",
       Edited([](ClusterConfig& c) {
         c.type = DiscoveryType::kEds;
         c.endpoints = {Endpoint("host")};
       }),
       {"endpoints[0].address: \"host\" is not an IP address (EDS clusters need IP literals)"}},
      {"empty address", StaticCluster({Endpoint("")}), {"endpoints[0].address: must not be empty"}},
      {"port 0",
       StaticCluster({Endpoint("10.0.0.1", 0)}),
       {"endpoints[0].port: must be between 1 and 65535, got 0"}},
      {"port too big",
       StaticCluster({Endpoint("10.0.0.1", 65536)}),
       {"endpoints[0].port: must be between 1 and 65535, got 65536"}},
      {"weight 0",
       StaticCluster({Endpoint("10.0.0.1", 80, 0)}),
       {"endpoints[0].weight: must be at least 1"}},
      {"weights overflow",
       StaticCluster({Endpoint("10.0.0.1", 80, 4294967295u), Endpoint("10.0.0.2", 80, 1)}),
       {"endpoints: sum of weights must not exceed 4294967295"}},
      {"logical dns with two endpoints",
       Edited([](ClusterConfig& c) {
         c.type = DiscoveryType::kLogicalDns;
         c.endpoints = {Endpoint("a.internal"), Endpoint("b.internal")};
       }),
       {"endpoints: LOGICAL_DNS clusters must have exactly one endpoint, got 2"}},
      {"logical dns without endpoint",
       Edited([](ClusterConfig& c) {
         c.type = DiscoveryType::kLogicalDns;
         c.endpoints = {};
       }),
       {"endpoints: LOGICAL_DNS clusters must have exactly one endpoint, got 0"}},
      {"dns without name",
       Edited([](ClusterConfig& c) {
         c.type = DiscoveryType::kStrictDns;
         c.endpoints = {Endpoint("")};
       }),
       {"endpoints[0].address: must not be empty"}},
      {"dns refresh rate",
       Edited([](ClusterConfig& c) {
         c.type = DiscoveryType::kStrictDns;
         c.endpoints = {Endpoint("a.internal")};
         c.dns_refresh_rate = absl::ZeroDuration();
       }),
       {"dns_refresh_rate: must be at least 1ms"}},
      {"choice count",
       Edited([](ClusterConfig& c) { c.least_request_choice_count = 1; }),
       {"least_request_lb_config.choice_count: must be at least 2, got 1"}},
      {"panic threshold above 100",
       Edited([](ClusterConfig& c) { c.healthy_panic_threshold = 150; }),
       {"common_lb_config.healthy_panic_threshold: must be between 0 and 100, got 150"}},
      {"negative panic threshold",
       Edited([](ClusterConfig& c) { c.healthy_panic_threshold = -1; }),
       {"common_lb_config.healthy_panic_threshold: must be between 0 and 100, got -1"}},
      {"several at once",
       Edited([](ClusterConfig& c) {
         c.name = "";
         c.endpoints = {Endpoint("x", 0, 0)};
       }),
       {"name: must not be empty",
        "endpoints[0].address: \"x\" is not an IP address (STATIC clusters need IP literals)",
        "endpoints[0].port: must be between 1 and 65535, got 0",
        "endpoints[0].weight: must be at least 1"}},
  };
  for (const Case& c : cases) EXPECT_EQ(Errors(c.config), c.errors) << c.name;

  absl::StatusOr<std::shared_ptr<const Cluster>> cluster =
      Cluster::Create(Edited([](ClusterConfig& c) { c.name = ""; }));
  EXPECT_EQ(cluster.status(), absl::InvalidArgumentError("name: must not be empty"));
}

TEST(RoutingClusterTest, LbHostsFollowHealthStatus) {
  ClusterConfig config = StaticCluster({});
  const std::vector<HealthStatus> statuses = {HealthStatus::kUnknown,   HealthStatus::kHealthy,
                                              HealthStatus::kUnhealthy, HealthStatus::kDraining,
                                              HealthStatus::kTimeout,   HealthStatus::kDegraded};
  for (size_t i = 0; i < statuses.size(); ++i) {
    EndpointConfig endpoint =
        Endpoint("10.0.0." + std::to_string(i + 1), 80, static_cast<uint32_t>(i + 1));
    endpoint.health_status = statuses[i];
    config.endpoints.push_back(endpoint);
  }
  absl::StatusOr<std::shared_ptr<const Cluster>> cluster = Cluster::Create(config);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::vector<bool> healthy;
  std::vector<uint32_t> weights;
  for (const lb::Host& host : (*cluster)->LbHosts()) {
    healthy.push_back(host.healthy);
    weights.push_back(host.weight);
  }
  EXPECT_THAT(healthy, ElementsAre(true, true, false, false, false, false));
  EXPECT_THAT(weights, ElementsAre(1, 2, 3, 4, 5, 6));
}

}  // namespace
}  // namespace routing
