// Route matching: N prefix routes where the request matches the last route (worst case, every
// route is tried) or the first; routes with header matchers; virtual host lookup.

#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "routing/route_table.h"

namespace routing {
namespace {

RouteConfig PrefixRoute(std::string prefix) {
  RouteConfig route;
  route.match.path = std::move(prefix);
  RouteActionConfig action;
  action.cluster = "backend";
  route.action = action;
  return route;
}

std::shared_ptr<const RouteTable> PrefixTable(int64_t n) {
  VirtualHostConfig vhost;
  vhost.name = "vh";
  vhost.domains = {"example.com"};
  for (int64_t i = 0; i < n; ++i)
    vhost.routes.push_back(PrefixRoute("/svc" + std::to_string(i) + "/"));
  RouteTableConfig config;
  config.virtual_hosts = {vhost};
  return *RouteTable::Create(config);
}

void MatchBench(benchmark::State& state, const std::string& path) {
  const std::shared_ptr<const RouteTable> table = PrefixTable(state.range(0));
  HeaderList headers{{"user-agent", "bench"}, {"accept", "*/*"}};
  const RequestView request{.authority = "example.com",
                            .path = path,
                            .method = "GET",
                            .scheme = "http",
                            .headers = &headers};
  if (table->Match(request) == nullptr) state.SkipWithError("no match");
  for (auto _ : state) benchmark::DoNotOptimize(table->Match(request));
}

void BM_MatchLastPrefixRoute(benchmark::State& state) {
  MatchBench(state, "/svc" + std::to_string(state.range(0) - 1) + "/items?page=2");
}
BENCHMARK(BM_MatchLastPrefixRoute)->Arg(10)->Arg(100)->Arg(1000);

void BM_MatchFirstPrefixRoute(benchmark::State& state) { MatchBench(state, "/svc0/items?page=2"); }
BENCHMARK(BM_MatchFirstPrefixRoute)->Arg(10)->Arg(100)->Arg(1000);

// N routes on the same prefix, each requiring x-version == v<i> and a present x-user header;
// the request matches the last one, so every header matcher runs.
void BM_MatchHeaderRoutes(benchmark::State& state) {
  VirtualHostConfig vhost;
  vhost.name = "vh";
  vhost.domains = {"example.com"};
  for (int64_t i = 0; i < state.range(0); ++i) {
    RouteConfig route = PrefixRoute("/api/");
    HeaderMatcherConfig version;
    version.name = "x-version";
    version.kind = HeaderMatcherConfig::Kind::kString;
    version.string_match.value = "v" + std::to_string(i);
    HeaderMatcherConfig user;
    user.name = "x-user";
    route.match.headers = {user, version};
    vhost.routes.push_back(route);
  }
  RouteTableConfig config;
  config.virtual_hosts = {vhost};
  const std::shared_ptr<const RouteTable> table = *RouteTable::Create(config);
  HeaderList headers{{"user-agent", "bench"},
                     {"accept", "*/*"},
                     {"x-user", "alice"},
                     {"x-version", "v" + std::to_string(state.range(0) - 1)}};
  const RequestView request{.authority = "example.com",
                            .path = "/api/items",
                            .method = "GET",
                            .scheme = "http",
                            .headers = &headers};
  if (table->Match(request) == nullptr) state.SkipWithError("no match");
  for (auto _ : state) benchmark::DoNotOptimize(table->Match(request));
}
BENCHMARK(BM_MatchHeaderRoutes)->Arg(1)->Arg(10);

void BM_FindVirtualHost(benchmark::State& state) {
  RouteTableConfig config;
  for (int i = 0; i < 100; ++i) {
    VirtualHostConfig vhost;
    vhost.name = "vh" + std::to_string(i);
    vhost.domains = {"svc" + std::to_string(i) + ".example.com",
                     "*.svc" + std::to_string(i) + ".example.org"};
    config.virtual_hosts.push_back(vhost);
  }
  const std::shared_ptr<const RouteTable> table = *RouteTable::Create(config);
  const std::string authority = state.range(0) == 0 ? "svc42.example.com" : "a.svc42.example.org";
  if (table->FindVirtualHost(authority) == nullptr) state.SkipWithError("no vhost");
  for (auto _ : state) benchmark::DoNotOptimize(table->FindVirtualHost(authority));
}
BENCHMARK(BM_FindVirtualHost)->Arg(0)->Arg(1)->ArgName("wildcard");

}  // namespace
}  // namespace routing
