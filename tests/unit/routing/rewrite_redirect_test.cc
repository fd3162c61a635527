// Path rewrites (prefix_rewrite, regex_rewrite) and redirect Locations, as Envoy builds them.

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "routing/route.h"
#include "tests/unit/routing/test_builders.h"

namespace routing {
namespace {

using testing::ClusterAction;
using testing::MakeRouteConfig;
using testing::PathMatch;
using testing::Prefix;
using PathKind = RouteMatchConfig::PathKind;

Route MakeRoute(RouteMatchConfig match,
                std::variant<RouteActionConfig, RedirectConfig, DirectResponseConfig> action) {
  ValidationErrors errors;
  std::optional<Route> route = Route::Create(MakeRouteConfig(match, action), 4096, &errors);
  EXPECT_TRUE(route.has_value()) << errors.ToStatus();
  return std::move(*route);
}

RouteActionConfig PrefixRewrite(std::string rewrite) {
  RouteActionConfig action = ClusterAction("c");
  action.prefix_rewrite = std::move(rewrite);
  return action;
}

RouteActionConfig RegexRewrite(std::string pattern, std::string substitution) {
  RouteActionConfig action = ClusterAction("c");
  action.regex_rewrite = RegexRewriteConfig{std::move(pattern), std::move(substitution)};
  return action;
}

struct RewriteCase {
  std::string name;
  RouteMatchConfig match;
  RouteActionConfig action;
  std::string path;
  std::string want;
};

TEST(RoutingRewriteTest, RewritePath) {
  const std::vector<RewriteCase> cases = {
      {"prefix replaced, query kept", Prefix("/api"), PrefixRewrite("/v2"), "/api/users?x=1",
       "/v2/users?x=1"},
      {"trailing slash prefix to root", Prefix("/api/"), PrefixRewrite("/"), "/api/users",
       "/users"},
      {"Envoy's double slash caveat", Prefix("/api"), PrefixRewrite("/"), "/api/users", "//users"},
      {"case-insensitive prefix", PathMatch(PathKind::kPrefix, "/API", false), PrefixRewrite("/v2"),
       "/api/x", "/v2/x"},
      {"prefix covering the query", Prefix("/api?a"), PrefixRewrite("/b"), "/api?a=1", "/b=1"},
      {"separated prefix itself", PathMatch(PathKind::kPathSeparatedPrefix, "/api"),
       PrefixRewrite("/v2"), "/api", "/v2"},
      {"separated prefix sub-path", PathMatch(PathKind::kPathSeparatedPrefix, "/api"),
       PrefixRewrite("/v2"), "/api/x?y=1", "/v2/x?y=1"},
      // Envoy: for path and safe_regex matches the "matched prefix" is the whole path.
      {"path match", PathMatch(PathKind::kPath, "/old"), PrefixRewrite("/new"), "/old?q=1",
       "/new?q=1"},
      {"regex match", PathMatch(PathKind::kSafeRegex, "/v[0-9]+/.*"), PrefixRewrite("/x"),
       "/v1/a/b?q", "/x?q"},
      // The two examples of Envoy's regex_rewrite documentation.
      {"regex groups", Prefix("/"), RegexRewrite("^/service/([^/]+)(/.*)$", "\\2/instance/\\1"),
       "/service/foo/v1/api?x=1", "/v1/api/instance/foo?x=1"},
      {"regex replaces every match", Prefix("/"), RegexRewrite("one", "two"),
       "/xxx/one/yyy/one/zzz", "/xxx/two/yyy/two/zzz"},
      {"regex leaves the query alone", Prefix("/"), RegexRewrite("a", "b"), "/a?a=a", "/b?a=a"},
      {"regex without a match", Prefix("/"), RegexRewrite("^/nope", "/x"), "/a?b", "/a?b"},
      {"no rewrite", Prefix("/"), ClusterAction("c"), "/a?b", "/a?b"},
  };
  for (const RewriteCase& c : cases) {
    EXPECT_EQ(MakeRoute(c.match, c.action).RewritePath(c.path), c.want) << c.name;
  }
}

struct RedirectCase {
  std::string name;
  RedirectConfig redirect;
  std::string scheme, authority, path;
  std::string want;
  RouteMatchConfig match = Prefix("/");
};

RedirectConfig Redirect(void (*edit)(RedirectConfig&)) {
  RedirectConfig redirect;
  edit(redirect);
  return redirect;
}

TEST(RoutingRedirectTest, Location) {
  const std::vector<RedirectCase> cases = {
      {"keep everything", {}, "http", "example.com", "/a?b=1", "http://example.com/a?b=1"},
      {"https redirect", Redirect([](RedirectConfig& r) { r.scheme_redirect = "https"; }), "http",
       "example.com", "/a?b=1", "https://example.com/a?b=1"},
      {"scheme change drops :80", Redirect([](RedirectConfig& r) { r.scheme_redirect = "https"; }),
       "http", "example.com:80", "/a", "https://example.com/a"},
      {"scheme change keeps other ports",
       Redirect([](RedirectConfig& r) { r.scheme_redirect = "https"; }), "http", "example.com:8080",
       "/a", "https://example.com:8080/a"},
      {"scheme change keeps :443 of http",
       Redirect([](RedirectConfig& r) { r.scheme_redirect = "https"; }), "http", "example.com:443",
       "/a", "https://example.com:443/a"},
      {"https to http drops :443", Redirect([](RedirectConfig& r) { r.scheme_redirect = "http"; }),
       "https", "example.com:443", "/a", "http://example.com/a"},
      {"same scheme keeps :80", {}, "http", "example.com:80", "/a", "http://example.com:80/a"},
      {"port redirect replaces the port",
       Redirect([](RedirectConfig& r) { r.port_redirect = 8443; }), "http", "example.com:80", "/a",
       "http://example.com:8443/a"},
      {"port redirect appends a port", Redirect([](RedirectConfig& r) { r.port_redirect = 8443; }),
       "http", "example.com", "/a", "http://example.com:8443/a"},
      {"IPv6 scheme change drops :80",
       Redirect([](RedirectConfig& r) { r.scheme_redirect = "https"; }), "http", "[::1]:80", "/a",
       "https://[::1]/a"},
      {"IPv6 port redirect", Redirect([](RedirectConfig& r) { r.port_redirect = 8443; }), "http",
       "[::1]", "/a", "http://[::1]:8443/a"},
      {"IPv6 port redirect replaces", Redirect([](RedirectConfig& r) { r.port_redirect = 8443; }),
       "http", "[::1]:80", "/a", "http://[::1]:8443/a"},
      {"host redirect", Redirect([](RedirectConfig& r) { r.host_redirect = "new.com"; }), "http",
       "example.com:8080", "/a?b=1", "http://new.com/a?b=1"},
      {"host and port redirect", Redirect([](RedirectConfig& r) {
         r.host_redirect = "new.com";
         r.port_redirect = 9000;
       }),
       "http", "example.com", "/a", "http://new.com:9000/a"},
      {"path redirect keeps the query", Redirect([](RedirectConfig& r) {
         r.path_kind = RedirectConfig::PathKind::kPath;
         r.path_redirect = "/new";
       }),
       "http", "example.com", "/old?x=1", "http://example.com/new?x=1"},
      {"path redirect query replaces the request's", Redirect([](RedirectConfig& r) {
         r.path_kind = RedirectConfig::PathKind::kPath;
         r.path_redirect = "/new?y=2";
       }),
       "http", "example.com", "/old?x=1", "http://example.com/new?y=2"},
      {"path redirect query survives strip_query", Redirect([](RedirectConfig& r) {
         r.path_kind = RedirectConfig::PathKind::kPath;
         r.path_redirect = "/new?y=2";
         r.strip_query = true;
       }),
       "http", "example.com", "/old?x=1", "http://example.com/new?y=2"},
      {"path redirect gets a leading slash", Redirect([](RedirectConfig& r) {
         r.path_kind = RedirectConfig::PathKind::kPath;
         r.path_redirect = "new";
       }),
       "http", "example.com", "/old", "http://example.com/new"},
      {"strip query", Redirect([](RedirectConfig& r) { r.strip_query = true; }), "http",
       "example.com", "/a?b=1", "http://example.com/a"},
      {"prefix rewrite", Redirect([](RedirectConfig& r) {
         r.path_kind = RedirectConfig::PathKind::kPrefix;
         r.prefix_rewrite = "/new";
       }),
       "http", "example.com", "/old/x?q=1", "http://example.com/new/x?q=1", Prefix("/old")},
      {"prefix rewrite and strip query", Redirect([](RedirectConfig& r) {
         r.path_kind = RedirectConfig::PathKind::kPrefix;
         r.prefix_rewrite = "/new";
         r.strip_query = true;
       }),
       "http", "example.com", "/old/x?q=1", "http://example.com/new/x", Prefix("/old")},
      {"regex rewrite", Redirect([](RedirectConfig& r) {
         r.path_kind = RedirectConfig::PathKind::kRegex;
         r.regex_rewrite = {"^/v1/(.*)$", "/v2/\\1"};
       }),
       "https", "example.com", "/v1/a/b?c=d", "https://example.com/v2/a/b?c=d"},
      {"everything at once", Redirect([](RedirectConfig& r) {
         r.scheme_redirect = "https";
         r.host_redirect = "secure.example.com";
         r.port_redirect = 8443;
         r.path_kind = RedirectConfig::PathKind::kPath;
         r.path_redirect = "/login";
         r.strip_query = true;
         r.response_code = 302;
       }),
       "http", "example.com:80", "/account?next=1", "https://secure.example.com:8443/login"},
  };
  for (const RedirectCase& c : cases) {
    const Route route = MakeRoute(c.match, c.redirect);
    RequestView request{
        .authority = c.authority, .path = c.path, .method = "GET", .scheme = c.scheme};
    EXPECT_EQ(route.RedirectLocation(request), c.want) << c.name;
  }
}

TEST(RoutingRedirectTest, NotARedirect) {
  const Route route = MakeRoute(Prefix("/"), ClusterAction("c"));
  RequestView request{.authority = "a", .path = "/", .method = "GET", .scheme = "http"};
  EXPECT_EQ(route.RedirectLocation(request), "");
  // A redirect route's rewrite is for the Location, not for an upstream path.
  RedirectConfig redirect;
  redirect.path_kind = RedirectConfig::PathKind::kPrefix;
  redirect.prefix_rewrite = "/new";
  EXPECT_EQ(MakeRoute(Prefix("/old"), redirect).RewritePath("/old/x"), "/old/x");
}

}  // namespace
}  // namespace routing
