#include "stats/tag_extractor.h"

// GCC 12 with sanitizers reports a false -Wmaybe-uninitialized inside libstdc++'s <regex>
// (std::function in its NFA states); std::regex is only this test's reference implementation.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <map>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace stats {
namespace {

struct Case {
  std::string name;
  std::string tag_extracted_name;
  std::vector<Tag> tags;
};

void PrintTo(const Case& c, std::ostream* os) { *os << '"' << c.name << '"'; }

class TagExtractionTest : public ::testing::TestWithParam<Case> {};

TEST_P(TagExtractionTest, MatchesEnvoy) {
  const Case& c = GetParam();
  const TagExtraction extraction = ExtractTags(c.name);
  EXPECT_EQ(extraction.tag_extracted_name, c.tag_extracted_name);
  ASSERT_EQ(extraction.tags.size(), c.tags.size());
  for (size_t i = 0; i < c.tags.size(); ++i) {
    EXPECT_EQ(extraction.tags[i].name, c.tags[i].name) << i;
    EXPECT_EQ(extraction.tags[i].value, c.tags[i].value) << i;
  }
}

const Tag Code(const char* v) { return {kResponseCodeTag, v}; }
const Tag Class(const char* v) { return {kResponseCodeClassTag, v}; }
const Tag Cluster(const char* v) { return {kClusterNameTag, v}; }
const Tag Hcm(const char* v) { return {kHttpConnManagerPrefixTag, v}; }
const Tag Address(const char* v) { return {kListenerAddressTag, v}; }
const Tag Rds(const char* v) { return {kRdsRouteConfigTag, v}; }
const Tag Worker(const char* v) { return {kWorkerIdTag, v}; }

INSTANTIATE_TEST_SUITE_P(
    WorkedExamples, TagExtractionTest,
    ::testing::Values(
        Case{"cluster.v2.upstream_rq_503", "cluster.upstream_rq", {Code("503"), Cluster("v2")}},
        Case{"cluster.v2.upstream_rq_5xx", "cluster.upstream_rq_xx", {Class("5"), Cluster("v2")}},
        Case{"cluster.v2.upstream_rq_total", "cluster.upstream_rq_total", {Cluster("v2")}},
        Case{"http.ingress.downstream_rq_2xx",
             "http.downstream_rq_xx",
             {Class("2"), Hcm("ingress")}},
        Case{"listener.0.0.0.0_8000.http.ingress.downstream_rq_2xx",
             "listener.http.downstream_rq_xx",
             {Class("2"), Hcm("ingress"), Address("0.0.0.0_8000")}},
        Case{"http.ingress.rds.local_route.update_success",
             "http.rds.update_success",
             {Hcm("ingress"), Rds("local_route")}},
        Case{"cluster_manager.cds.update_success", "cluster_manager.cds.update_success", {}},
        Case{"server.live", "server.live", {}},
        Case{"cluster.a.b.upstream_rq_200", "cluster.b.upstream_rq", {Code("200"), Cluster("a")}}));

INSTANTIATE_TEST_SUITE_P(
    ResponseCode, TagExtractionTest,
    ::testing::Values(
        Case{"x_rq_200", "x_rq", {Code("200")}}, Case{"_rq_200", "_rq", {Code("200")}},
        Case{"rq_200", "rq_200", {}},
        Case{"cluster.v2.upstream_rq_5030", "cluster.upstream_rq_5030", {Cluster("v2")}},
        Case{"x_rq_20", "x_rq_20", {}}, Case{"x_rq_20x", "x_rq_20x", {}},
        Case{"x_rq_200.y", "x_rq_200.y", {}}, Case{"a_rq_1_rq_200", "a_rq_1_rq", {Code("200")}},
        Case{"x_rq__200", "x_rq__200", {}}));

INSTANTIATE_TEST_SUITE_P(
    ResponseCodeClass, TagExtractionTest,
    ::testing::Values(Case{"_rq_1xx", "_rq_xx", {Class("1")}}, Case{"x_rq_5xxx", "x_rq_5xxx", {}},
                      Case{"x_rq_axx", "x_rq_axx", {}}, Case{"x_rq_12xx", "x_rq_12xx", {}},
                      Case{"x_rq_5xx.y", "x_rq_5xx.y", {}}, Case{"x_rq_5x", "x_rq_5x", {}}));

INSTANTIATE_TEST_SUITE_P(
    ClusterName, TagExtractionTest,
    ::testing::Values(Case{"cluster..upstream_rq_total", "cluster..upstream_rq_total", {}},
                      Case{"cluster.only", "cluster.only", {}},
                      Case{"cluster.foo.", "cluster.", {Cluster("foo")}},
                      Case{"clusterx.foo.bar", "clusterx.foo.bar", {}},
                      Case{"cluster.a\nb.x", "cluster.x", {Cluster("a\nb")}},
                      Case{"xcluster.foo.bar", "xcluster.foo.bar", {}}));

INSTANTIATE_TEST_SUITE_P(
    ListenerHttpPrefix, TagExtractionTest,
    ::testing::Values(Case{"listener.http.ingress.x", "listener.http.x", {Hcm("ingress")}},
                      Case{"listener.a.http..x", "listener.http.x", {Hcm(""), Address("a")}},
                      Case{"listener.a.http.x", "listener.http.x", {Address("a")}},
                      Case{"listener.x.http.a.http.b.c", "listener.x.http.http.b.c", {Hcm("a")}},
                      Case{"listenerx.http.a.b", "listenerx.http.a.b", {}},
                      Case{"listener.a\n.http.b.c", "listener.a\n.http.b.c", {}},
                      Case{"listener.a.http.b\nc.d", "listener.http.b\nc.d", {Address("a")}},
                      Case{"listener.x\r.http.b.c", "listener.x\r.http.b.c", {}}));

INSTANTIATE_TEST_SUITE_P(HttpPrefix, TagExtractionTest,
                         ::testing::Values(Case{"http..x", "http.x", {Hcm("")}},
                                           Case{"http.ingress", "http.ingress", {}},
                                           Case{"http.a\nb.c", "http.a\nb.c", {}},
                                           Case{"https.x.y", "https.x.y", {}},
                                           Case{"http.a\"b.c", "http.c", {Hcm("a\"b")}}));

INSTANTIATE_TEST_SUITE_P(
    ListenerAddress, TagExtractionTest,
    ::testing::Values(
        Case{"listener.[__1]_80.downstream_cx_total",
             "listener.downstream_cx_total",
             {Address("[__1]_80")}},
        Case{"listener.admin.downstream_cx_total", "listener.admin.downstream_cx_total", {}},
        Case{"listener.127.0.0.1_443.downstream_cx_total",
             "listener.downstream_cx_total",
             {Address("127.0.0.1_443")}},
        Case{"listener..foo", "listener.foo", {Address("")}},
        Case{"listener.1.2.3.4_80", "listener.4_80", {Address("1.2.3")}},
        Case{"listener.0.0.0.0_8000", "listener.0_8000", {Address("0.0.0")}},
        Case{"listener.dead_beef.x", "listener.x", {Address("dead_beef")}},
        Case{"listener.abcg.x", "listener.abcg.x", {}},
        Case{"listener.12ab.x", "listener.x", {Address("12ab")}},
        Case{"listener.1.a.x", "listener.a.x", {Address("1")}},
        Case{"listener.[::1]_80.x", "listener.[::1]_80.x", {}}));

INSTANTIATE_TEST_SUITE_P(
    RdsRouteConfig, TagExtractionTest,
    ::testing::Values(
        Case{"http.ingress.rds.a.b.update_success",
             "http.rds.update_success",
             {Hcm("ingress"), Rds("a.b")}},
        Case{"http.ingress.rds.local_route.update-success",
             "http.rds.local_route.update-success",
             {Hcm("ingress")}},
        Case{"http.ingress.rds.local_route.", "http.rds.local_route.", {Hcm("ingress")}},
        Case{"http.ingress.rds.x", "http.rds.x", {Hcm("ingress")}},
        Case{"http.rds.rds.foo.bar", "http.bar", {Hcm("rds"), Rds("rds.foo")}},
        Case{"http.x.rds.y.z\n", "http.rds.y.z\n", {Hcm("x")}},
        Case{"http.x.rds..z", "http.rds.z", {Hcm("x"), Rds("")}},
        Case{"httpx.rds.a.b", "httpx.rds.a.b", {}}));

INSTANTIATE_TEST_SUITE_P(
    WorkerId, TagExtractionTest,
    ::testing::Values(
        Case{"listener_manager.worker_0.dispatcher.loop_duration_us",
             "listener_manager.dispatcher.loop_duration_us",
             {Worker("worker_0")}},
        Case{"listener_manager.worker_12.x", "listener_manager.x", {Worker("worker_12")}},
        Case{"listener_manager.worker_.x", "listener_manager.worker_.x", {}},
        Case{"listener_manager.worker_1", "listener_manager.worker_1", {}},
        Case{"listener_manager.worker_1a.x", "listener_manager.worker_1a.x", {}},
        Case{"listener_manager.workers.x", "listener_manager.workers.x", {}}));

// Envoy's extraction with the regexes themselves (ECMAScript std::regex, as Envoy compiled them):
// group 1 removed, group 2 the value, all matched against the original name.
TagExtraction ReferenceExtract(const std::string& name) {
  static const std::vector<std::pair<std::string_view, std::regex>> kRegexes = {
      {kResponseCodeTag, std::regex(R"(_rq(_(\d{3}))$)")},
      {kResponseCodeClassTag, std::regex(R"(_rq_((\d))xx$)")},
      {kClusterNameTag, std::regex(R"(^cluster\.(([^\.]+)\.))")},
      {kHttpConnManagerPrefixTag, std::regex(R"(^listener(?=\.).*?\.http\.((.*?)\.))")},
      {kHttpConnManagerPrefixTag, std::regex(R"(^http\.((.*?)\.))")},
      {kListenerAddressTag,
       std::regex(R"(^listener\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.))")},
      {kRdsRouteConfigTag, std::regex(R"(^http(?=\.).*?\.rds\.((.*?)\.)\w+?$)")},
      {kWorkerIdTag, std::regex(R"(^listener_manager\.((worker_\d+)\.))")},
  };
  TagExtraction result;
  std::vector<bool> removed(name.size());
  for (const auto& [tag_name, regex] : kRegexes) {
    std::smatch match;
    if (!std::regex_search(name, match, regex)) continue;
    result.tags.push_back({tag_name, match[2].str()});
    for (auto i = match.position(1); i < match.position(1) + match.length(1); ++i)
      removed[i] = true;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!removed[i]) result.tag_extracted_name += name[i];
  }
  return result;
}

TEST(TagExtractionReferenceTest, ReferenceAgreesWithWorkedExamples) {
  const TagExtraction e = ReferenceExtract("listener.0.0.0.0_8000.http.ingress.downstream_rq_2xx");
  EXPECT_EQ(e.tag_extracted_name, "listener.http.downstream_rq_xx");
  EXPECT_EQ(e.tags, (std::vector<Tag>{Class("2"), Hcm("ingress"), Address("0.0.0.0_8000")}));
}

// Random names built from fragments that exercise every extractor's edge cases must extract
// exactly as the regexes do.
TEST(TagExtractionReferenceTest, SameAsRegexesOnRandomNames) {
  const std::vector<std::string> starts = {
      "cluster.",         "listener.", "http.", "listener_manager.", "listener_manager.worker_",
      "cluster_manager.", ""};
  const std::vector<std::string> parts = {
      ".",       "..",    "_",     "0",       "12",      "503",    "5",    "xx",    "x",
      "a",       "F",     "g",     "[",       "]",       "_rq",    "_rq_", "_rq_2", "http",
      ".http.",  "rds",   ".rds.", "worker_", "\n",      "\r",     "-",    "\"",    "0.0.0.0_80",
      "ingress", "admin", "total", "_rq_5xx", "_rq_200", ".rds..", "9"};
  std::map<std::pair<std::string_view, bool>, int> matches;  // (tag, empty value) -> count
  std::mt19937 rng(20240601);
  auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
  };
  for (int i = 0; i < 30000; ++i) {
    std::string name = pick(starts);
    const int n = std::uniform_int_distribution<int>(0, 8)(rng);
    for (int j = 0; j < n; ++j) name += pick(parts);
    const TagExtraction expected = ReferenceExtract(name);
    const TagExtraction actual = ExtractTags(name);
    ASSERT_EQ(actual.tag_extracted_name, expected.tag_extracted_name) << "name: " << name;
    ASSERT_EQ(actual.tags, expected.tags) << "name: " << name;
    for (const Tag& tag : expected.tags) ++matches[{tag.name, tag.value.empty()}];
  }
  // The fragments reach every extractor, with and without a value.
  for (std::string_view tag :
       {kResponseCodeTag, kResponseCodeClassTag, kClusterNameTag, kHttpConnManagerPrefixTag,
        kListenerAddressTag, kRdsRouteConfigTag, kWorkerIdTag}) {
    EXPECT_GE((matches[{tag, false}]), 20) << tag;
  }
  for (std::string_view tag :
       {kHttpConnManagerPrefixTag, kListenerAddressTag, kRdsRouteConfigTag}) {
    EXPECT_GE((matches[{tag, true}]), 20) << tag;
  }
}

}  // namespace
}  // namespace stats
