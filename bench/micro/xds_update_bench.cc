// Applying an RDS update of N routes through the xDS client's config pipeline: decode the
// RouteConfiguration, check it against weir's support policy, translate and compile it
// (regexes, weighted pickers), and build the ConfigSnapshot the workers get
// (DynamicConfig::Prepare + Commit). Reports the heap the applied config holds
// (mallinfo2().uordblks after minus before), for issue 5's "10 000-route RouteConfiguration:
// time and memory".

#include <malloc.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "envoy/config/route/v3/route.pb.h"
#include "xds/bootstrap.h"
#include "xds/dynamic_config.h"

namespace {

constexpr char kBootstrap[] = R"(
node: {id: bench}
dynamic_resources:
  ads_config:
    api_type: GRPC
    grpc_services: [{envoy_grpc: {cluster_name: xds}}]
static_resources:
  listeners:
  - name: ingress
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          rds: {route_config_name: routes, config_source: {ads: {}}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: xds
    type: STATIC
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 18000}}}}]}]
)";

// One virtual host with `routes` prefix routes, each split between two versions (a canary per
// service), plus a header match on every tenth route.
std::string RouteConfiguration(int routes, int version) {
  envoy::config::route::v3::RouteConfiguration config;
  config.set_name("routes");
  auto* host = config.add_virtual_hosts();
  host->set_name("all");
  host->add_domains("*");
  for (int i = 0; i < routes; ++i) {
    auto* route = host->add_routes();
    route->mutable_match()->set_prefix(absl::StrCat("/svc", i, "/"));
    if (i % 10 == 0) {
      auto* header = route->mutable_match()->add_headers();
      header->set_name("x-tenant");
      header->mutable_string_match()->set_exact(absl::StrCat("t", i));
    }
    auto* weighted = route->mutable_route()->mutable_weighted_clusters();
    auto* stable = weighted->add_clusters();
    stable->set_name(absl::StrCat("svc", i, "-v1"));
    stable->mutable_weight()->set_value(100 - version % 100);
    auto* canary = weighted->add_clusters();
    canary->set_name(absl::StrCat("svc", i, "-v2"));
    canary->mutable_weight()->set_value(version % 100 + 1);
  }
  return config.SerializeAsString();
}

void BM_ApplyRouteConfiguration(benchmark::State& state) {
  const int routes = static_cast<int>(state.range(0));
  xds::BootstrapResult bootstrap = xds::ParseBootstrap(kBootstrap, /*json=*/false, {});
  if (!bootstrap.config.has_value()) {
    state.SkipWithError("bootstrap");
    return;
  }
  xds::DynamicConfig config(*bootstrap.config, absl::Now());
  const std::string type_url(xds::TypeUrl(xds::ResourceType::kRoute));
  int version = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<xds::RawResource> resources = {
        {.type_url = type_url, .value = RouteConfiguration(routes, ++version)}};
    bytes = resources[0].value.size();
    state.ResumeTiming();
    xds::DynamicConfig::Prepared prepared =
        config.Prepare(xds::ResourceType::kRoute, absl::StrCat(version), resources, absl::Now());
    if (!prepared.status.ok()) {
      state.SkipWithError(std::string(prepared.status.message()).c_str());
      return;
    }
    config.Commit(std::move(prepared));
  }
  state.counters["proto_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ApplyRouteConfiguration)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(5);

// Heap held by one compiled 10 000-route configuration: applied once into a fresh config.
void BM_RouteConfigurationFootprint(benchmark::State& state) {
  const int routes = static_cast<int>(state.range(0));
  xds::BootstrapResult bootstrap = xds::ParseBootstrap(kBootstrap, /*json=*/false, {});
  const std::string type_url(xds::TypeUrl(xds::ResourceType::kRoute));
  const std::string value = RouteConfiguration(routes, 1);
  size_t held = 0;
  for (auto _ : state) {
    xds::DynamicConfig config(*bootstrap.config, absl::Now());
    const size_t before = mallinfo2().uordblks;
    xds::DynamicConfig::Prepared prepared = config.Prepare(
        xds::ResourceType::kRoute, "1", {{.type_url = type_url, .value = value}}, absl::Now());
    config.Commit(std::move(prepared));
    held = mallinfo2().uordblks - before;
  }
  state.counters["held_MiB"] = static_cast<double>(held) / (1 << 20);
  state.counters["proto_MiB"] = static_cast<double>(value.size()) / (1 << 20);
}
BENCHMARK(BM_RouteConfigurationFootprint)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
