// The snapshot file format, FileWatcher and SnapshotFileSource (load, watch, keep the last good
// snapshot), on real files in a temporary directory.

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "xds/server/file_watcher.h"
#include "xds/server/snapshot_file.h"
#include "xds/server/snapshot_file_source.h"

namespace xds::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(5);

// The snapshot of the gRPC interop test (tests/grpc_testing), with its placeholders filled.
std::string SnapshotYaml(int weight_v1 = 80) {
  std::ifstream in(std::string(WEIR_SOURCE_DIR) + "/tests/grpc_testing/echo-xds-snapshot.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return absl::StrReplaceAll(yaml, {{"${VERSION}", "1"},
                                    {"${NODE}", "*"},
                                    {"${WEIGHT_V1}", absl::StrCat(weight_v1)},
                                    {"${WEIGHT_V2}", "20"},
                                    {"${PORT_V1}", "1001"},
                                    {"${PORT_V2}", "1002"}});
}

absl::StatusOr<SnapshotFile> ParseYaml(const std::string& text) {
  return ParseSnapshotFile(text, /*json=*/false);
}

TEST(SnapshotFileTest, ReadsEveryResourceListWithFieldsWeirItselfDoesNotServe) {
  absl::StatusOr<SnapshotFile> file = ParseYaml(SnapshotYaml());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(file->nodes, ElementsAre("*"));
  EXPECT_EQ(file->snapshot.version, "1");
  EXPECT_THAT(file->warnings, ::testing::IsEmpty());
  EXPECT_EQ(file->snapshot.Of(ResourceType::kListener).size(), 1u);
  EXPECT_EQ(file->snapshot.Of(ResourceType::kRoute).size(), 1u);
  EXPECT_EQ(file->snapshot.Of(ResourceType::kCluster).size(), 2u);
  EXPECT_EQ(file->snapshot.Of(ResourceType::kEndpoint).size(), 2u);
  envoy::config::listener::v3::Listener echo;
  ASSERT_TRUE(file->snapshot.Of(ResourceType::kListener).at("echo").UnpackTo(&echo));
  EXPECT_TRUE(echo.api_listener().api_listener().Is<
              envoy::extensions::filters::network::http_connection_manager::v3::
                  HttpConnectionManager>());
  EXPECT_TRUE(file->snapshot.Validate().ok());

  // A field weir refuses in its own config (support_policy.cc) passes through too.
  absl::StatusOr<SnapshotFile> tls = ParseYaml(
      "resources: {routes: [{name: r, virtual_hosts: [{name: h, domains: ['*'], "
      "require_tls: ALL}]}]}\n");
  ASSERT_TRUE(tls.ok()) << tls.status();
}

TEST(SnapshotFileTest, TheShippedExampleIsValidAndConsistent) {
  absl::StatusOr<SnapshotFile> file =
      LoadSnapshotFile(std::string(WEIR_SOURCE_DIR) + "/configs/xds-snapshot.yaml");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(file->warnings, ::testing::IsEmpty());
  EXPECT_EQ(file->snapshot.Of(ResourceType::kEndpoint).size(), 2u);
}

TEST(SnapshotFileTest, TheDefaultVersionFollowsContentNotFormatting) {
  auto without_version = [](int weight_v1) {
    return absl::StrReplaceAll(SnapshotYaml(weight_v1), {{"version: \"1\"", ""}});
  };
  absl::StatusOr<SnapshotFile> a = ParseYaml(without_version(80));
  absl::StatusOr<SnapshotFile> b = ParseYaml(absl::StrCat("# a comment\n", without_version(80)));
  absl::StatusOr<SnapshotFile> c = ParseYaml(without_version(81));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->snapshot.version.size(), 16u);
  EXPECT_EQ(a->snapshot.version, b->snapshot.version);
  EXPECT_NE(a->snapshot.version, c->snapshot.version);

  absl::StatusOr<SnapshotFile> json = ParseSnapshotFile(
      R"({"resources": {"clusters": [{"name": "v1", "type": "EDS",
          "edsClusterConfig": {"edsConfig": {"ads": {}}}}]}})",
      /*json=*/true);
  ASSERT_TRUE(json.ok()) << json.status();
  absl::StatusOr<SnapshotFile> yaml = ParseYaml(
      "resources:\n  clusters: [{name: v1, type: EDS, eds_cluster_config: {eds_config: {ads: "
      "{}}}}]\n");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(json->snapshot.version, yaml->snapshot.version);

  // Map entries are serialized in key order, whatever order the file lists them in.
  absl::StatusOr<SnapshotFile> ab = ParseYaml(
      "resources: {clusters: [{name: m, metadata: {filter_metadata: {a: {x: 1}, b: {y: 2}, "
      "c: {z: 3}}}}]}\n");
  absl::StatusOr<SnapshotFile> ba = ParseYaml(
      "resources: {clusters: [{name: m, metadata: {filter_metadata: {c: {z: 3}, b: {y: 2}, "
      "a: {x: 1}}}}]}\n");
  ASSERT_TRUE(ab.ok() && ba.ok()) << ab.status() << ba.status();
  EXPECT_EQ(ab->snapshot.version, ba->snapshot.version);
}

TEST(SnapshotFileTest, VersionAndNodesCanBeGiven) {
  absl::StatusOr<SnapshotFile> file =
      ParseYaml("version: 7\nnodes: [node-a, node-b]\nresources: {}\n");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->snapshot.version, "7");
  EXPECT_THAT(file->nodes, ElementsAre("node-a", "node-b"));
}

TEST(SnapshotFileTest, EveryErrorNamesItsFieldPath) {
  absl::StatusOr<SnapshotFile> file = ParseYaml(R"(
nodes: []
colour: blue
resources:
  clusters:
  - name: a
  - name: b
    type: NOT_A_TYPE
    load_assignment:
      cluster_name: b
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: -1}}}
  - name: a
  bogus: []
)");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(file.status().message()),
      "nodes: expected a non-empty list of node ids (\"*\": every node)\n"
      "colour: unknown field (expected version, nodes or resources)\n"
      "resources.clusters[1].type: unknown value \"NOT_A_TYPE\" for "
      "envoy.config.cluster.v3.Cluster.DiscoveryType (expected one of STATIC, STRICT_DNS, "
      "LOGICAL_DNS, EDS, ORIGINAL_DST)\n"
      "resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address."
      "socket_address.port_value: expected a non-negative integer, got \"-1\"\n"
      "resources.clusters[2]: duplicate envoy.config.cluster.v3.Cluster \"a\"\n"
      "resources.bogus: unknown resource list (expected listeners, routes, clusters, "
      "endpoints)");
}

TEST(SnapshotFileTest, FieldsOutsideTheProtoSubsetAreStillErrors) {
  absl::StatusOr<SnapshotFile> file =
      ParseYaml("resources:\n  clusters: [{name: a, no_such_field: 1}]\n");
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()),
              HasSubstr("resources.clusters[0].no_such_field: unknown field"));
}

TEST(SnapshotFileTest, AnInconsistentSnapshotIsAWarning) {
  absl::StatusOr<SnapshotFile> file = ParseYaml(
      "resources:\n  clusters: [{name: a, type: EDS, eds_cluster_config: {eds_config: {ads: "
      "{}}}}]\n");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(file->warnings,
              ElementsAre(HasSubstr("is inconsistent"),
                          "cluster load assignments referenced by EDS clusters but missing: a"));
}

class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/xds-file-XXXXXX");
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteInPlace(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// As editors save: a new file renamed over the old one.
void WriteByRename(const std::string& path, const std::string& text) {
  WriteInPlace(path + ".new", text);
  std::filesystem::rename(path + ".new", path);
}

bool Serves(const SnapshotCache& cache, const std::string& node, const std::string& version) {
  std::shared_ptr<const Snapshot> snapshot = cache.GetSnapshot(node);
  return snapshot != nullptr && snapshot->version == version;
}

bool WaitUntil(const std::function<bool()>& condition) {
  const absl::Time deadline = absl::Now() + kWait;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

class SnapshotFileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }
};

TEST_F(SnapshotFileSourceTest, ServesTheFileAndKeepsTheLastGoodSnapshot) {
  TempDir dir;
  const std::string path = dir.File("snapshot.yaml");
  WriteInPlace(path, "version: v1\nresources: {}\n");
  SnapshotCache cache;
  absl::StatusOr<std::unique_ptr<SnapshotFileSource>> source =
      SnapshotFileSource::Start(path, &cache);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE(Serves(cache, "any-node", "v1"));
  EXPECT_EQ((*source)->loads(), 1u);

  // An editor's save (rename) of an invalid file: reported, the old snapshot stays.
  WriteByRename(path, "version: v2\nresources: {clusters: [{name: a, type: NOPE}]}\n");
  ASSERT_TRUE((*source)->WaitForLoads(2, kWait));
  EXPECT_THAT(std::string((*source)->last_status().message()),
              HasSubstr("resources.clusters[0].type: unknown value \"NOPE\""));
  EXPECT_TRUE(Serves(cache, "any-node", "v1"));

  // Fixed in place: picked up.
  WriteInPlace(path, "version: v3\nresources: {}\n");
  EXPECT_TRUE(WaitUntil([&] { return Serves(cache, "any-node", "v3"); }));
  EXPECT_TRUE((*source)->last_status().ok());
}

TEST_F(SnapshotFileSourceTest, NodesLeftOutOfTheFileAreCleared) {
  TempDir dir;
  const std::string path = dir.File("snapshot.json");
  WriteInPlace(path, R"({"version": "v1", "nodes": ["a", "b"], "resources": {}})");
  SnapshotCache cache;
  absl::StatusOr<std::unique_ptr<SnapshotFileSource>> source =
      SnapshotFileSource::Start(path, &cache);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE(Serves(cache, "a", "v1"));
  EXPECT_TRUE(Serves(cache, "b", "v1"));
  EXPECT_EQ(cache.GetSnapshot("c"), nullptr);

  WriteByRename(path, R"({"version": "v2", "nodes": ["b"], "resources": {}})");
  ASSERT_TRUE(WaitUntil([&] { return Serves(cache, "b", "v2"); }));
  EXPECT_EQ(cache.GetSnapshot("a"), nullptr);
}

TEST_F(SnapshotFileSourceTest, AFileThatCannotBeLoadedAtStartIsAnError) {
  TempDir dir;
  SnapshotCache cache;
  EXPECT_EQ(SnapshotFileSource::Start(dir.File("missing.yaml"), &cache).status().code(),
            absl::StatusCode::kNotFound);
  WriteInPlace(dir.File("bad.yaml"), "resources: [");
  EXPECT_FALSE(SnapshotFileSource::Start(dir.File("bad.yaml"), &cache).ok());
}

TEST(FileWatcherTest, PollingAloneSeesChanges) {
  TempDir dir;
  const std::string path = dir.File("watched.yaml");
  WriteInPlace(path, "a");
  std::atomic<int> calls = 0;
  absl::StatusOr<std::unique_ptr<FileWatcher>> watcher =
      FileWatcher::Start(path, [&] { ++calls; },
                         {.debounce = absl::Milliseconds(10),
                          .poll_interval = absl::Milliseconds(20),
                          .use_inotify = false});
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  WriteByRename(path, "bb");  // another inode and size
  EXPECT_TRUE(WaitUntil([&] { return calls.load() == 1; }));
  std::filesystem::remove(path);
  EXPECT_TRUE(WaitUntil([&] { return calls.load() == 2; }));
}

TEST(FileWatcherTest, ABurstOfWritesIsOneChange) {
  TempDir dir;
  const std::string path = dir.File("watched.yaml");
  WriteInPlace(path, "a");
  std::atomic<int> calls = 0;
  absl::StatusOr<std::unique_ptr<FileWatcher>> watcher = FileWatcher::Start(
      path, [&] { ++calls; },
      {.debounce = absl::Milliseconds(200), .poll_interval = absl::Seconds(10)});
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  for (int i = 0; i < 5; ++i) WriteInPlace(path, std::string(i + 2, 'x'));
  EXPECT_TRUE(WaitUntil([&] { return calls.load() >= 1; }));
  // Other files in the directory are not the watched file.
  WriteInPlace(dir.File("other.yaml"), "x");
  absl::SleepFor(absl::Milliseconds(300));  // past another debounce period
  EXPECT_EQ(calls.load(), 1);
  WriteInPlace(path, "final");
  EXPECT_TRUE(WaitUntil([&] { return calls.load() == 2; }));
}

}  // namespace
}  // namespace xds::server
