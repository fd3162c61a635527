// Invalid route configurations: every problem is reported, at its Envoy field path, with the
// exact message, and nothing is compiled.

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "routing/route_table.h"
#include "tests/unit/routing/test_builders.h"

namespace routing {
namespace {

using testing::ClusterAction;
using ::testing::ElementsAre;
using testing::MakeRouteConfig;
using testing::MakeVirtualHost;
using testing::PathMatch;
using testing::Prefix;
using testing::Str;
using testing::WeightedAction;
using PathKind = RouteMatchConfig::PathKind;
using StrKind = StringMatcherConfig::Kind;

// A table with one virtual host holding one route; `edit` breaks it.
struct InvalidCase {
  std::string name;
  RouteConfig route;
  std::string error;  // the one expected error
};

RouteTableConfig OneRoute(RouteConfig route) {
  RouteTableConfig config;
  config.name = "rc";
  config.virtual_hosts = {MakeVirtualHost("vh", {"*"}, {std::move(route)})};
  return config;
}

std::vector<std::string> Errors(const RouteTableConfig& config) {
  ValidationErrors errors;
  std::shared_ptr<const RouteTable> table = RouteTable::Create(config, &errors);
  EXPECT_EQ(table == nullptr, !errors.ok());
  return errors.errors();
}

RouteConfig WithAction(std::variant<RouteActionConfig, RedirectConfig, DirectResponseConfig> a) {
  return MakeRouteConfig(Prefix("/"), std::move(a));
}

template <typename Edit>
RouteActionConfig Action(Edit edit) {
  RouteActionConfig action = ClusterAction("c");
  edit(action);
  return action;
}

template <typename Edit>
RedirectConfig Redirect(Edit edit) {
  RedirectConfig redirect;
  edit(redirect);
  return redirect;
}

RouteConfig WithHeader(HeaderMatcherConfig header) {
  RouteConfig route = MakeRouteConfig(Prefix("/"));
  route.match.headers.push_back(std::move(header));
  return route;
}

HeaderMatcherConfig StringHeader(std::string name, StringMatcherConfig string_match) {
  HeaderMatcherConfig header;
  header.name = std::move(name);
  header.kind = HeaderMatcherConfig::Kind::kString;
  header.string_match = std::move(string_match);
  return header;
}

RouteConfig WithQuery(std::string name, std::optional<StringMatcherConfig> string_match) {
  RouteConfig route = MakeRouteConfig(Prefix("/"));
  route.match.query_parameters.push_back({std::move(name), std::move(string_match)});
  return route;
}

TEST(RoutingValidationTest, InvalidRoutes) {
  const std::string r = "virtual_hosts[0].routes[0].";
  const std::vector<InvalidCase> cases = {
      {"bad regex", MakeRouteConfig(PathMatch(PathKind::kSafeRegex, "/a(")),
       r + "match.safe_regex: invalid regex: missing ): /a("},
      {"separated prefix without slash",
       MakeRouteConfig(PathMatch(PathKind::kPathSeparatedPrefix, "api")),
       r + "match.path_separated_prefix: must start with '/'"},
      {"separated prefix with trailing slash",
       MakeRouteConfig(PathMatch(PathKind::kPathSeparatedPrefix, "/api/")),
       r + "match.path_separated_prefix: must not end with '/'"},
      {"separated prefix with query",
       MakeRouteConfig(PathMatch(PathKind::kPathSeparatedPrefix, "/api?x")),
       r + "match.path_separated_prefix: must not contain '?' or '#'"},
      {"header without name", WithHeader(StringHeader("", Str(StrKind::kExact, "x"))),
       r + "match.headers[0].name: must not be empty"},
      {"header regex", WithHeader(StringHeader("x-a", Str(StrKind::kSafeRegex, "[z-a]"))),
       r + "match.headers[0].string_match.safe_regex: invalid regex: invalid character class "
           "range: z-a"},
      {"header empty prefix", WithHeader(StringHeader("x-a", Str(StrKind::kPrefix, ""))),
       r + "match.headers[0].string_match.prefix: must not be empty"},
      {"header empty contains", WithHeader(StringHeader("x-a", Str(StrKind::kContains, ""))),
       r + "match.headers[0].string_match.contains: must not be empty"},
      {"query without name", WithQuery("", std::nullopt),
       r + "match.query_parameters[0].name: must not be empty"},
      {"query regex", WithQuery("q", Str(StrKind::kSafeRegex, "a**")),
       r + "match.query_parameters[0].string_match.safe_regex: invalid regex: bad repetition "
           "operator: **"},
      {"empty cluster", WithAction(ClusterAction("")), r + "route.cluster: must not be empty"},
      {"empty cluster header", WithAction(Action([](RouteActionConfig& a) {
         a.cluster_specifier = RouteActionConfig::ClusterSpecifier::kClusterHeader;
       })),
       r + "route.cluster_header: must not be empty"},
      {"no weighted clusters", WithAction(WeightedAction({})),
       r + "route.weighted_clusters: must contain at least one cluster"},
      {"weighted cluster without name", WithAction(WeightedAction({{"a", 1}, {"", 1}})),
       r + "route.weighted_clusters.clusters[1].name: must not be empty"},
      {"all weights zero", WithAction(WeightedAction({{"a", 0}, {"b", 0}})),
       r + "route.weighted_clusters: sum of weights must be greater than 0"},
      {"weights overflow", WithAction(WeightedAction({{"a", 4294967295u}, {"b", 1}})),
       r + "route.weighted_clusters: sum of weights must not exceed 4294967295"},
      {"negative timeout",
       WithAction(Action([](RouteActionConfig& a) { a.timeout = absl::Seconds(-1); })),
       r + "route.timeout: must not be negative"},
      {"negative idle timeout",
       WithAction(Action([](RouteActionConfig& a) { a.idle_timeout = absl::Seconds(-1); })),
       r + "route.idle_timeout: must not be negative"},
      {"negative grpc timeout max", WithAction(Action([](RouteActionConfig& a) {
         a.grpc_timeout_header_max = absl::Milliseconds(-5);
       })),
       r + "route.max_stream_duration.grpc_timeout_header_max: must not be negative"},
      {"cluster not found code",
       WithAction(Action([](RouteActionConfig& a) { a.cluster_not_found_response_code = 502; })),
       r + "route.cluster_not_found_response_code: must be 503, 404 or 500, got 502"},
      {"both rewrites", WithAction(Action([](RouteActionConfig& a) {
         a.prefix_rewrite = "/x";
         a.regex_rewrite = RegexRewriteConfig{"a", "b"};
       })),
       r + "route: only one of prefix_rewrite and regex_rewrite may be set"},
      {"regex rewrite pattern", WithAction(Action([](RouteActionConfig& a) {
         a.regex_rewrite = RegexRewriteConfig{"(", "x"};
       })),
       r + "route.regex_rewrite.pattern: invalid regex: missing ): ("},
      {"regex rewrite substitution", WithAction(Action([](RouteActionConfig& a) {
         a.regex_rewrite = RegexRewriteConfig{"/(a)", "/\\2"};
       })),
       r + "route.regex_rewrite.substitution: Rewrite schema requests 2 matches, but the regexp "
           "only has 1 parenthesized subexpressions."},
      {"both host rewrites", WithAction(Action([](RouteActionConfig& a) {
         a.host_rewrite_literal = "h";
         a.auto_host_rewrite = true;
       })),
       r + "route: only one of host_rewrite_literal and auto_host_rewrite may be set"},
      {"direct response status high", WithAction(DirectResponseConfig{600, ""}),
       r + "direct_response.status: must be between 200 and 599, got 600"},
      {"direct response status low", WithAction(DirectResponseConfig{199, ""}),
       r + "direct_response.status: must be between 200 and 599, got 199"},
      {"direct response body", WithAction(DirectResponseConfig{200, std::string(4097, 'x')}),
       r + "direct_response.body: body is 4097 bytes, more than "
           "max_direct_response_body_size_bytes (4096)"},
      {"redirect code", WithAction(Redirect([](RedirectConfig& rd) { rd.response_code = 200; })),
       r + "redirect.response_code: must be 301, 302, 303, 307 or 308, got 200"},
      {"redirect port", WithAction(Redirect([](RedirectConfig& rd) { rd.port_redirect = 70000; })),
       r + "redirect.port_redirect: must be at most 65535, got 70000"},
      {"redirect regex", WithAction(Redirect([](RedirectConfig& rd) {
         rd.path_kind = RedirectConfig::PathKind::kRegex;
         rd.regex_rewrite = {"[", "/"};
       })),
       r + "redirect.regex_rewrite.pattern: invalid regex: missing ]: ["},
  };
  for (const InvalidCase& c : cases) {
    EXPECT_THAT(Errors(OneRoute(c.route)), ElementsAre(c.error)) << c.name;
  }
}

TEST(RoutingValidationTest, InvalidVirtualHosts) {
  RouteTableConfig config;
  config.virtual_hosts = {
      MakeVirtualHost("", {"a.com"}),
      MakeVirtualHost("no_domains", {}),
      MakeVirtualHost("dup", {"b.com", "A.com", "*", "b.com"}),
      MakeVirtualHost("dup_default", {"*", "*.x.com", "x.*"}),
      MakeVirtualHost("dup_wildcards", {"*.X.com", "X.*"}),
  };
  EXPECT_THAT(
      Errors(config),
      ElementsAre("virtual_hosts[0].name: must not be empty",
                  "virtual_hosts[1].domains: must contain at least one domain",
                  "virtual_hosts[2].domains[1]: domain \"A.com\" is already used by virtual host "
                  "\"\"",
                  "virtual_hosts[2].domains[3]: domain \"b.com\" is already used by virtual host "
                  "\"dup\"",
                  "virtual_hosts[3].domains[0]: domain \"*\" is already used by virtual host "
                  "\"dup\"",
                  "virtual_hosts[4].domains[0]: domain \"*.X.com\" is already used by virtual "
                  "host \"dup_default\"",
                  "virtual_hosts[4].domains[1]: domain \"X.*\" is already used by virtual host "
                  "\"dup_default\""));
}

TEST(RoutingValidationTest, CollectsEveryErrorAcrossRoutes) {
  RouteConfig bad_regex = MakeRouteConfig(PathMatch(PathKind::kSafeRegex, "("));
  bad_regex.action = ClusterAction("");
  RouteConfig good = MakeRouteConfig(Prefix("/"));
  RouteConfig bad_weights = MakeRouteConfig(Prefix("/"), WeightedAction({{"a", 0}}));
  RouteTableConfig config;
  config.virtual_hosts = {MakeVirtualHost("a", {"a.com"}, {bad_regex, good}),
                          MakeVirtualHost("b", {"b.com"}, {good, good, bad_weights})};
  EXPECT_THAT(
      Errors(config),
      ElementsAre("virtual_hosts[0].routes[0].match.safe_regex: invalid regex: missing ): (",
                  "virtual_hosts[0].routes[0].route.cluster: must not be empty",
                  "virtual_hosts[1].routes[2].route.weighted_clusters: sum of weights must "
                  "be greater than 0"));
}

TEST(RoutingValidationTest, StatusAndOuterPath) {
  RouteTableConfig config = OneRoute(WithAction(ClusterAction("")));
  absl::StatusOr<std::shared_ptr<const RouteTable>> table = RouteTable::Create(config);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table.status().message(),
            "virtual_hosts[0].routes[0].route.cluster: must not be empty");

  ValidationErrors errors;
  errors.AddError("an earlier, unrelated error");
  {
    ValidationErrors::ScopedField outer(&errors, "route_config");
    EXPECT_EQ(RouteTable::Create(config, &errors), nullptr);
    // Errors from elsewhere do not make a valid table fail.
    EXPECT_NE(RouteTable::Create(OneRoute(MakeRouteConfig(Prefix("/"))), &errors), nullptr);
  }
  EXPECT_THAT(errors.errors(),
              ElementsAre("an earlier, unrelated error",
                          "route_config.virtual_hosts[0].routes[0].route.cluster: must not be "
                          "empty"));
}

TEST(RoutingValidationTest, ValidEdgeCases) {
  // Envoy accepts these; so do we.
  const std::vector<RouteConfig> routes = {
      MakeRouteConfig(Prefix("")),
      MakeRouteConfig(PathMatch(PathKind::kPath, "/x"),
                      Action([](RouteActionConfig& a) { a.prefix_rewrite = "/y"; })),
      MakeRouteConfig(PathMatch(PathKind::kSafeRegex, "/x.*"),
                      Action([](RouteActionConfig& a) { a.prefix_rewrite = "/y"; })),
      MakeRouteConfig(Prefix("/"), WeightedAction({{"a", 0}, {"b", 1}})),
      MakeRouteConfig(Prefix("/"), WeightedAction({{"a", 4294967294u}, {"b", 1}})),
      MakeRouteConfig(Prefix("/"), DirectResponseConfig{599, std::string(4096, 'x')}),
      MakeRouteConfig(Prefix("/"), Redirect([](RedirectConfig& rd) {
                        rd.response_code = 308;
                        rd.port_redirect = 65535;
                      })),
      MakeRouteConfig(Prefix("/"),
                      Action([](RouteActionConfig& a) { a.timeout = absl::ZeroDuration(); })),
  };
  for (size_t i = 0; i < routes.size(); ++i) {
    EXPECT_THAT(Errors(OneRoute(routes[i])), ::testing::IsEmpty()) << "route " << i;
  }
  RouteTableConfig big_body = OneRoute(WithAction(DirectResponseConfig{200, std::string(10, 'x')}));
  big_body.max_direct_response_body_size_bytes = 9;
  EXPECT_THAT(Errors(big_body),
              ElementsAre("virtual_hosts[0].routes[0].direct_response.body: body is 10 bytes, "
                          "more than max_direct_response_body_size_bytes (9)"));
}

TEST(RoutingValidationTest, ReferencedClusters) {
  RouteActionConfig by_header;
  by_header.cluster_specifier = RouteActionConfig::ClusterSpecifier::kClusterHeader;
  by_header.cluster_header = "x-cluster";
  RouteTableConfig config;
  config.name = "rc";
  config.virtual_hosts = {
      MakeVirtualHost("a", {"a.com"},
                      {MakeRouteConfig(Prefix("/x"), ClusterAction("zeta")),
                       MakeRouteConfig(Prefix("/y"), WeightedAction({{"beta", 9}, {"alpha", 1}})),
                       MakeRouteConfig(Prefix("/z"), by_header),
                       MakeRouteConfig(Prefix("/"), DirectResponseConfig{})}),
      MakeVirtualHost("b", {"b.com"},
                      {MakeRouteConfig(Prefix("/"), ClusterAction("alpha")),
                       MakeRouteConfig(Prefix("/"), RedirectConfig{})}),
  };
  absl::StatusOr<std::shared_ptr<const RouteTable>> table = RouteTable::Create(config);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ((*table)->name(), "rc");
  EXPECT_THAT((*table)->ReferencedClusters(), ElementsAre("alpha", "beta", "zeta"));
}

}  // namespace
}  // namespace routing
