// Route matching: path specifiers, header matchers, query parameters and the grpc flag, each
// with Envoy's semantics. Table-driven: every row builds one route and one request.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "routing/query_params.h"
#include "routing/route.h"
#include "routing/route_table.h"
#include "tests/unit/routing/test_builders.h"

namespace routing {
namespace {

using testing::ClusterAction;
using testing::MakeRouteConfig;
using testing::MakeVirtualHost;
using testing::PathMatch;
using testing::Prefix;
using testing::Str;
using PathKind = RouteMatchConfig::PathKind;
using StrKind = StringMatcherConfig::Kind;
using HeaderKind = HeaderMatcherConfig::Kind;

struct Request {
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string method = "GET";
  std::string authority = "example.com";
  std::string scheme = "http";
};

struct MatchCase {
  std::string name;
  RouteMatchConfig match;
  Request request;
  bool want;
};

bool RouteMatches(const RouteMatchConfig& match, const Request& request) {
  ValidationErrors errors;
  std::optional<Route> route = Route::Create(MakeRouteConfig(match), 4096, &errors);
  EXPECT_TRUE(route.has_value()) << errors.ToStatus();
  if (!route.has_value()) return false;
  HeaderList headers;
  for (const auto& [name, value] : request.headers) headers.Add(name, value);
  RequestView view;
  view.authority = request.authority;
  view.path = request.path;
  view.method = request.method;
  view.scheme = request.scheme;
  view.headers = &headers;
  return route->Matches(view);
}

void RunCases(const std::vector<MatchCase>& cases) {
  for (const MatchCase& c : cases) {
    EXPECT_EQ(RouteMatches(c.match, c.request), c.want) << c.name;
  }
}

RouteMatchConfig WithHeader(HeaderMatcherConfig header) {
  RouteMatchConfig match = Prefix("/");
  match.headers.push_back(std::move(header));
  return match;
}

HeaderMatcherConfig Header(std::string name, HeaderKind kind) {
  HeaderMatcherConfig header;
  header.name = std::move(name);
  header.kind = kind;
  return header;
}

HeaderMatcherConfig Present(std::string name, bool present, bool invert = false) {
  HeaderMatcherConfig header = Header(std::move(name), HeaderKind::kPresent);
  header.present = present;
  header.invert_match = invert;
  return header;
}

HeaderMatcherConfig StringHeader(std::string name, StringMatcherConfig string_match,
                                 bool invert = false, bool missing_as_empty = false) {
  HeaderMatcherConfig header = Header(std::move(name), HeaderKind::kString);
  header.string_match = std::move(string_match);
  header.invert_match = invert;
  header.treat_missing_header_as_empty = missing_as_empty;
  return header;
}

HeaderMatcherConfig Range(std::string name, int64_t start, int64_t end, bool invert = false,
                          bool missing_as_empty = false) {
  HeaderMatcherConfig header = Header(std::move(name), HeaderKind::kRange);
  header.range_start = start;
  header.range_end = end;
  header.invert_match = invert;
  header.treat_missing_header_as_empty = missing_as_empty;
  return header;
}

HeaderMatcherConfig LegacyExact(std::string name, std::string value) {
  HeaderMatcherConfig header = Header(std::move(name), HeaderKind::kLegacyExact);
  header.legacy_exact_value = std::move(value);
  return header;
}

TEST(RoutingRouteMatchTest, PathSpecifiers) {
  const RouteMatchConfig prefix = Prefix("/api");
  const RouteMatchConfig prefix_ci = PathMatch(PathKind::kPrefix, "/api", false);
  const RouteMatchConfig path = PathMatch(PathKind::kPath, "/exact");
  const RouteMatchConfig path_ci = PathMatch(PathKind::kPath, "/exact", false);
  const RouteMatchConfig regex = PathMatch(PathKind::kSafeRegex, "/v[0-9]+/items");
  const RouteMatchConfig regex_ci = PathMatch(PathKind::kSafeRegex, "/v[0-9]+/items", false);
  const RouteMatchConfig separated = PathMatch(PathKind::kPathSeparatedPrefix, "/api");
  const RouteMatchConfig separated_ci = PathMatch(PathKind::kPathSeparatedPrefix, "/api", false);
  RunCases({
      {"prefix matches a sub-path", prefix, {.path = "/api/v1"}, true},
      {"prefix is not segment-aware", prefix, {.path = "/apiary"}, true},
      {"prefix itself", prefix, {.path = "/api"}, true},
      {"shorter than the prefix", prefix, {.path = "/ap"}, false},
      {"prefix is case sensitive", prefix, {.path = "/API/v1"}, false},
      {"case_sensitive=false", prefix_ci, {.path = "/API/v1"}, true},
      {"prefix sees the query", Prefix("/api?x"), {.path = "/api?x=1"}, true},
      {"empty prefix matches all", Prefix(""), {.path = "/anything"}, true},
      {"path", path, {.path = "/exact"}, true},
      {"path ignores the query", path, {.path = "/exact?q=1"}, true},
      {"path ignores the fragment", path, {.path = "/exact#frag"}, true},
      {"path is exact", path, {.path = "/exact/"}, false},
      {"path longer", path, {.path = "/exactly"}, false},
      {"path is case sensitive", path, {.path = "/EXACT"}, false},
      {"path case_sensitive=false", path_ci, {.path = "/EXACT?x"}, true},
      {"regex full match", regex, {.path = "/v12/items"}, true},
      {"regex ignores the query", regex, {.path = "/v12/items?page=2"}, true},
      {"regex must match fully", regex, {.path = "/v12/items/extra"}, false},
      {"regex must match from the start", regex, {.path = "/x/v1/items"}, false},
      {"case_sensitive does not apply to regex", regex_ci, {.path = "/V1/ITEMS"}, false},
      {"separated prefix itself", separated, {.path = "/api"}, true},
      {"separated prefix with '/'", separated, {.path = "/api/"}, true},
      {"separated prefix sub-path", separated, {.path = "/api/x"}, true},
      {"separated prefix with query", separated, {.path = "/api?x=1"}, true},
      {"separated prefix needs a separator", separated, {.path = "/apix"}, false},
      {"separated prefix is case sensitive", separated, {.path = "/API/x"}, false},
      {"separated prefix case_sensitive=false", separated_ci, {.path = "/API/x"}, true},
  });
}

TEST(RoutingRouteMatchTest, PresenceAndInversion) {
  const Request with{.headers = {{"x-a", "1"}}};
  const Request with_empty{.headers = {{"x-a", ""}}};
  const Request without{};
  RunCases({
      {"present, header there", WithHeader(Present("x-a", true)), with, true},
      {"present, empty value counts", WithHeader(Present("x-a", true)), with_empty, true},
      {"present, header absent", WithHeader(Present("x-a", true)), without, false},
      {"absent wanted, header absent", WithHeader(Present("x-a", false)), without, true},
      {"absent wanted, header there", WithHeader(Present("x-a", false)), with, false},
      {"present inverted, absent", WithHeader(Present("x-a", true, true)), without, true},
      {"present inverted, there", WithHeader(Present("x-a", true, true)), with, false},
      {"absent inverted, there", WithHeader(Present("x-a", false, true)), with, true},
      {"absent inverted, absent", WithHeader(Present("x-a", false, true)), without, false},
  });
}

TEST(RoutingRouteMatchTest, HeaderValues) {
  const auto exact_v1 = Str(StrKind::kExact, "v1");
  RunCases({
      {"exact", WithHeader(StringHeader("x-v", exact_v1)), {.headers = {{"x-v", "v1"}}}, true},
      {"exact mismatch",
       WithHeader(StringHeader("x-v", exact_v1)),
       {.headers = {{"x-v", "v2"}}},
       false},
      {"exact, absent", WithHeader(StringHeader("x-v", exact_v1)), {}, false},
      {"inverted, other value",
       WithHeader(StringHeader("x-v", exact_v1, true)),
       {.headers = {{"x-v", "v2"}}},
       true},
      {"inverted, same value",
       WithHeader(StringHeader("x-v", exact_v1, true)),
       {.headers = {{"x-v", "v1"}}},
       false},
      // Envoy: an absent header does not match an inverted value matcher...
      {"inverted, absent", WithHeader(StringHeader("x-v", exact_v1, true)), {}, false},
      // ... unless it is treated as empty, and "" != "v1".
      {"inverted, absent as empty",
       WithHeader(StringHeader("x-v", exact_v1, true, true)),
       {},
       true},
      {"absent as empty, not inverted",
       WithHeader(StringHeader("x-v", exact_v1, false, true)),
       {},
       false},
      // The examples of Envoy's treat_missing_header_as_empty documentation.
      {"range inverted, absent as empty", WithHeader(Range("h1", 0, 10, true, true)), {}, true},
      {"range inverted, absent", WithHeader(Range("h2", 0, 10, true, false)), {}, false},
      {"regex ^$, absent as empty",
       WithHeader(StringHeader("h3", Str(StrKind::kSafeRegex, "^$"), false, true)),
       {},
       true},
      {"range in", WithHeader(Range("x-n", 100, 200)), {.headers = {{"x-n", "150"}}}, true},
      {"range start is inclusive",
       WithHeader(Range("x-n", 100, 200)),
       {.headers = {{"x-n", "100"}}},
       true},
      {"range end is exclusive",
       WithHeader(Range("x-n", 100, 200)),
       {.headers = {{"x-n", "200"}}},
       false},
      {"range below", WithHeader(Range("x-n", 100, 200)), {.headers = {{"x-n", "99"}}}, false},
      {"range not a number",
       WithHeader(Range("x-n", 100, 200)),
       {.headers = {{"x-n", "1x"}}},
       false},
      {"range negative", WithHeader(Range("x-n", -10, 0)), {.headers = {{"x-n", "-1"}}}, true},
      {"range inverted, not a number",
       WithHeader(Range("x-n", 0, 10, true)),
       {.headers = {{"x-n", "abc"}}},
       true},
      {"legacy exact, empty value matches any",
       WithHeader(LegacyExact("x-l", "")),
       {.headers = {{"x-l", "whatever"}}},
       true},
      {"legacy exact, empty value, absent", WithHeader(LegacyExact("x-l", "")), {}, false},
      {"legacy exact", WithHeader(LegacyExact("x-l", "foo")), {.headers = {{"x-l", "foo"}}}, true},
      {"legacy exact mismatch",
       WithHeader(LegacyExact("x-l", "foo")),
       {.headers = {{"x-l", "bar"}}},
       false},
      {"config name is lower-cased",
       WithHeader(StringHeader("X-V", exact_v1)),
       {.headers = {{"x-v", "v1"}}},
       true},
  });
}

TEST(RoutingRouteMatchTest, RepeatedHeadersAreJoinedWithComma) {
  const Request twice{.headers = {{"x-m", "a"}, {"x-other", "z"}, {"x-m", "b"}}};
  RunCases({
      {"joined exact", WithHeader(StringHeader("x-m", Str(StrKind::kExact, "a,b"))), twice, true},
      {"first alone is not the value", WithHeader(StringHeader("x-m", Str(StrKind::kExact, "a"))),
       twice, false},
      {"joined prefix", WithHeader(StringHeader("x-m", Str(StrKind::kPrefix, "a,"))), twice, true},
      {"joined range fails to parse",
       WithHeader(Range("x-m", 0, 100)),
       {.headers = {{"x-m", "1"}, {"x-m", "2"}}},
       false},
  });
}

TEST(RoutingRouteMatchTest, PseudoHeadersComeFromTheRequestView) {
  RunCases({
      {":method",
       WithHeader(StringHeader(":method", Str(StrKind::kExact, "POST"))),
       {.method = "POST"},
       true},
      {":method mismatch",
       WithHeader(StringHeader(":method", Str(StrKind::kExact, "POST"))),
       {.method = "GET"},
       false},
      {":authority",
       WithHeader(StringHeader(":authority", Str(StrKind::kSuffix, ".example.com"))),
       {.authority = "api.example.com"},
       true},
      {":path",
       WithHeader(StringHeader(":path", Str(StrKind::kContains, "?debug"))),
       {.path = "/x?debug=1"},
       true},
      {":scheme",
       WithHeader(StringHeader(":scheme", Str(StrKind::kExact, "https"))),
       {.scheme = "https"},
       true},
      {"empty :authority is absent",
       WithHeader(Present(":authority", true)),
       {.authority = ""},
       false},
  });
}

TEST(RoutingRouteMatchTest, StringMatcherKinds) {
  auto h = [](StringMatcherConfig s) { return WithHeader(StringHeader("x-s", std::move(s))); };
  const Request foo_bar{.headers = {{"x-s", "Foo-Bar"}}};
  RunCases({
      {"exact case sensitive", h(Str(StrKind::kExact, "foo-bar")), foo_bar, false},
      {"exact ignore_case", h(Str(StrKind::kExact, "fOO-bAR", true)), foo_bar, true},
      {"prefix", h(Str(StrKind::kPrefix, "Foo")), foo_bar, true},
      {"prefix case sensitive", h(Str(StrKind::kPrefix, "foo")), foo_bar, false},
      {"prefix ignore_case", h(Str(StrKind::kPrefix, "foo", true)), foo_bar, true},
      {"suffix", h(Str(StrKind::kSuffix, "-Bar")), foo_bar, true},
      {"suffix ignore_case", h(Str(StrKind::kSuffix, "-BAR", true)), foo_bar, true},
      {"contains", h(Str(StrKind::kContains, "o-B")), foo_bar, true},
      {"contains case sensitive", h(Str(StrKind::kContains, "O-B")), foo_bar, false},
      {"contains ignore_case", h(Str(StrKind::kContains, "O-b", true)), foo_bar, true},
      {"regex full match", h(Str(StrKind::kSafeRegex, "[A-Z][a-z]+-[A-Z][a-z]+")), foo_bar, true},
      {"regex partial is no match", h(Str(StrKind::kSafeRegex, "Foo")), foo_bar, false},
      {"regex ignores ignore_case", h(Str(StrKind::kSafeRegex, "foo-bar", true)), foo_bar, false},
  });
}

RouteMatchConfig WithQuery(std::string name, std::optional<StringMatcherConfig> string_match) {
  RouteMatchConfig match = Prefix("/");
  QueryParameterMatcherConfig query;
  query.name = std::move(name);
  query.string_match = std::move(string_match);
  match.query_parameters.push_back(std::move(query));
  return match;
}

TEST(RoutingRouteMatchTest, QueryParameters) {
  const auto exact = [](std::string v) { return Str(StrKind::kExact, std::move(v)); };
  RunCases({
      {"present without '='", WithQuery("debug", std::nullopt), {.path = "/p?debug"}, true},
      {"present with value", WithQuery("debug", std::nullopt), {.path = "/p?debug=1"}, true},
      {"present, other parameter", WithQuery("debug", std::nullopt), {.path = "/p?x=1"}, false},
      {"no query string", WithQuery("debug", std::nullopt), {.path = "/p"}, false},
      {"name is not a prefix", WithQuery("debug", std::nullopt), {.path = "/p?debugger=1"}, false},
      {"exact value", WithQuery("q", exact("v")), {.path = "/p?a=1&q=v&b=2"}, true},
      {"percent-decoded value", WithQuery("q", exact("a b/c")), {.path = "/p?q=a%20b%2Fc"}, true},
      {"'+' is not a space", WithQuery("q", exact("a b")), {.path = "/p?q=a+b"}, false},
      {"percent-decoded name", WithQuery("q", exact("1")), {.path = "/p?%71=1"}, true},
      {"first value wins", WithQuery("q", exact("1")), {.path = "/p?q=1&q=2"}, true},
      {"second value ignored", WithQuery("q", exact("2")), {.path = "/p?q=1&q=2"}, false},
      {"empty value", WithQuery("q", exact("")), {.path = "/p?q="}, true},
      {"no '=' is an empty value", WithQuery("q", exact("")), {.path = "/p?q&r=1"}, true},
      {"malformed escape kept", WithQuery("q", exact("%zz%4")), {.path = "/p?q=%zz%4"}, true},
      {"value keeps later '='", WithQuery("q", exact("a=b")), {.path = "/p?q=a=b"}, true},
      {"regex value",
       WithQuery("id", Str(StrKind::kSafeRegex, "[0-9]+")),
       {.path = "/p?id=123"},
       true},
      {"regex value mismatch",
       WithQuery("id", Str(StrKind::kSafeRegex, "[0-9]+")),
       {.path = "/p?id=12a"},
       false},
  });
}

TEST(RoutingRouteMatchTest, GrpcContentTypes) {
  RouteMatchConfig grpc = Prefix("/");
  grpc.grpc = true;
  auto content_type = [](std::string v) {
    return Request{.headers = {{"content-type", std::move(v)}}};
  };
  RunCases({
      {"application/grpc", grpc, content_type("application/grpc"), true},
      {"application/grpc+proto", grpc, content_type("application/grpc+proto"), true},
      {"application/grpc+json", grpc, content_type("application/grpc+json"), true},
      {"grpc-web is not gRPC", grpc, content_type("application/grpc-web"), false},
      // Envoy's hasGrpcContentType accepts only "" or '+' after "application/grpc".
      {"parameters are not gRPC", grpc, content_type("application/grpc;charset=utf-8"), false},
      {"json", grpc, content_type("application/json"), false},
      {"no content-type", grpc, {}, false},
      {"grpc=false matches anything", Prefix("/"), content_type("application/json"), true},
  });
}

TEST(RoutingRouteMatchTest, AllConditionsMustMatch) {
  RouteMatchConfig match = Prefix("/api");
  match.headers.push_back(StringHeader("x-env", Str(StrKind::kExact, "canary")));
  match.headers.push_back(Present("x-debug", false));
  QueryParameterMatcherConfig query;
  query.name = "v";
  match.query_parameters.push_back(query);
  RunCases({
      {"all match", match, {.path = "/api?v=2", .headers = {{"x-env", "canary"}}}, true},
      {"path fails", match, {.path = "/web?v=2", .headers = {{"x-env", "canary"}}}, false},
      {"first header fails", match, {.path = "/api?v=2", .headers = {{"x-env", "prod"}}}, false},
      {"second header fails",
       match,
       {.path = "/api?v=2", .headers = {{"x-env", "canary"}, {"x-debug", "1"}}},
       false},
      {"query fails", match, {.path = "/api", .headers = {{"x-env", "canary"}}}, false},
  });
}

TEST(RoutingRouteMatchTest, FirstMatchingRouteWins) {
  RouteTableConfig config;
  RouteConfig canary = MakeRouteConfig(Prefix("/api"), ClusterAction("canary"));
  canary.name = "canary";
  canary.match.headers.push_back(StringHeader("x-env", Str(StrKind::kExact, "canary")));
  RouteConfig api = MakeRouteConfig(Prefix("/api"), ClusterAction("api"));
  api.name = "api";
  RouteConfig api_v2 = MakeRouteConfig(Prefix("/api/v2"), ClusterAction("never"));
  api_v2.name = "api_v2";  // shadowed by "api"
  RouteConfig fallback = MakeRouteConfig(Prefix("/"), ClusterAction("web"));
  fallback.name = "fallback";
  config.virtual_hosts = {MakeVirtualHost("vh", {"example.com"}, {canary, api, api_v2, fallback}),
                          MakeVirtualHost("empty", {"empty.com"})};
  absl::StatusOr<std::shared_ptr<const RouteTable>> table = RouteTable::Create(config);
  ASSERT_TRUE(table.ok()) << table.status();

  struct Case {
    std::string authority, path;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string want;  // route name, "" = no route
  };
  const std::vector<Case> cases = {
      {"example.com", "/api/v2/x", {{"x-env", "canary"}}, "canary"},
      {"example.com", "/api/v2/x", {}, "api"},
      {"example.com", "/index.html", {}, "fallback"},
      {"other.com", "/api", {}, ""},  // no virtual host
      {"empty.com", "/api", {}, ""},  // virtual host without routes
  };
  for (const Case& c : cases) {
    HeaderList headers;
    for (const auto& [name, value] : c.headers) headers.Add(name, value);
    RequestView request{.authority = c.authority,
                        .path = c.path,
                        .method = "GET",
                        .scheme = "http",
                        .headers = &headers};
    const Route* route = (*table)->Match(request);
    EXPECT_EQ(route == nullptr ? "" : route->name(), c.want) << c.authority << c.path;
  }
}

TEST(RoutingRouteMatchTest, NullHeaderSourceMeansNoHeaders) {
  ValidationErrors errors;
  std::optional<Route> route =
      Route::Create(MakeRouteConfig(WithHeader(Present("x-a", false))), 4096, &errors);
  ASSERT_TRUE(route.has_value());
  RequestView request{.authority = "a", .path = "/", .method = "GET", .scheme = "http"};
  EXPECT_TRUE(route->Matches(request));
}

}  // namespace
}  // namespace routing

namespace routing {
namespace {

TEST(RoutingQueryParamsTest, PercentDecode) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"%41%62", "Ab"}, {"%2f%2F", "//"}, {"a+b", "a+b"}, {"%zz", "%zz"},
      {"%4", "%4"},     {"100%", "100%"}, {"%%41", "%A"}, {"", ""},
  };
  for (const auto& [encoded, want] : cases) EXPECT_EQ(PercentDecode(encoded), want) << encoded;
}

TEST(RoutingQueryParamsTest, FindRawQueryParameter) {
  EXPECT_EQ(FindRawQueryParameter("/p?a=1&b=%20", "b"), "%20");
  EXPECT_EQ(FindRawQueryParameter("/p?a=1&&a=2", "a"), "1");
  EXPECT_EQ(FindRawQueryParameter("/p?a", "a"), "");
  EXPECT_EQ(FindRawQueryParameter("/p?=x", ""), "x");
  EXPECT_EQ(FindRawQueryParameter("/p?a=1", "b"), std::nullopt);
  EXPECT_EQ(FindRawQueryParameter("/p", "a"), std::nullopt);
  EXPECT_EQ(FindRawQueryParameter("/p?", "a"), std::nullopt);
}

}  // namespace
}  // namespace routing
