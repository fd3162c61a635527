// weir-xds-server as a process: started like an operator would (a snapshot file, address files,
// the /status endpoint), driven over real gRPC, edited while running, stopped by signals.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/json.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/run_command.h"
#include "tests/unit/xds/server/ads_test_client.h"

extern char** environ;

namespace {

using ::testing::HasSubstr;
using weir_test::WaitUntil;
using xds::server::kClusterType;
using xds::server::testing::AdsTestClient;
using xds::server::testing::ResourceNames;

constexpr absl::Duration kWait = absl::Seconds(10);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteByRename(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path + ".new", std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(path + ".new", path);
}

std::string Snapshot(const std::string& version, const std::vector<std::string>& clusters) {
  std::string yaml = absl::StrCat("version: \"", version, "\"\nresources:\n  clusters:\n");
  for (const std::string& cluster : clusters) {
    absl::StrAppend(&yaml, "  - {name: ", cluster,
                    ", type: EDS, eds_cluster_config: {eds_config: {ads: {}}}}\n");
  }
  return yaml;
}

std::string AckedVersion(const weir_test::JsonValue& status, const std::string& node) {
  const weir_test::JsonValue* nodes = status.Find("nodes");
  const weir_test::JsonValue* entry = nodes != nullptr ? nodes->Find(node) : nullptr;
  const weir_test::JsonValue* types = entry != nullptr ? entry->Find("types") : nullptr;
  const weir_test::JsonValue* cds =
      types != nullptr ? types->Find(std::string(kClusterType)) : nullptr;
  const weir_test::JsonValue* acked = cds != nullptr ? cds->Find("acked_version") : nullptr;
  return acked != nullptr ? acked->string_value() : "";
}

// The executable in its own temp dir, stdout and stderr in a log file; SIGKILLed and reaped by
// the destructor if still running.
class XdsServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<XdsServerProcess>> Start(const std::string& snapshot) {
    std::unique_ptr<XdsServerProcess> process(new XdsServerProcess());
    std::string dir = "/tmp/weir-xds-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) return absl::InternalError("mkdtemp");
    process->dir_ = dir;
    process->snapshot_path_ = dir + "/snapshot.yaml";
    WriteByRename(process->snapshot_path_, snapshot);
    const std::string log = dir + "/server.log";
    std::vector<std::string> args = {WEIR_XDS_SERVER_BINARY,
                                     "--snapshot-file", process->snapshot_path_,
                                     "--address-path", dir + "/ads_address",
                                     "--admin-port", "0",
                                     "--admin-address-path", dir + "/admin_address"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int error = posix_spawn(&process->pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) return absl::InternalError(absl::StrCat("posix_spawn: ", error));

    bool up = WaitUntil(
        [&] {
          return !process->Address("ads_address").empty() &&
                 !process->Address("admin_address").empty() && process->Running();
        },
        kWait);
    if (!up) {
      return absl::DeadlineExceededError(absl::StrCat("weir-xds-server did not come up:\n",
                                                      process->Log()));
    }
    return process;
  }

  ~XdsServerProcess() {
    if (Running()) {
      ::kill(pid_, SIGKILL);
      WaitExit(kWait);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string ads_address() const { return Address("ads_address"); }
  uint16_t admin_port() const {
    std::string address = Address("admin_address");
    uint32_t port = 0;
    (void)absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port);
    return static_cast<uint16_t>(port);
  }
  const std::string& snapshot_path() const { return snapshot_path_; }
  std::string Log() const { return ReadFile(dir_ + "/server.log"); }

  // GET /status, parsed.
  absl::StatusOr<weir_test::JsonValue> Status() const {
    weir_test::HttpResult response = weir_test::HttpGet(admin_port(), "/status");
    if (!response.ok()) return response.status();
    if (response->status != 200) return absl::InternalError(response->body);
    return weir_test::ParseJson(response->body);
  }

  // Polls /status until `node` ACKed `version` of CDS.
  bool WaitForAckedVersion(const std::string& node, const std::string& version) const {
    return WaitUntil([&] {
      absl::StatusOr<weir_test::JsonValue> status = Status();
      return status.ok() && AckedVersion(*status, node) == version;
    }, kWait);
  }

  bool Running() {
    if (exit_code_.has_value()) return false;
    WaitExit(absl::ZeroDuration());
    return !exit_code_.has_value();
  }
  std::optional<int> WaitExit(absl::Duration timeout) {
    WaitUntil(
        [&] {
          int status = 0;
          if (!exit_code_.has_value() && ::waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          }
          return exit_code_.has_value();
        },
        timeout);
    return exit_code_;
  }
  void Signal(int sig) { ::kill(pid_, sig); }

 private:
  XdsServerProcess() = default;
  // The content of an address file without its newline, "" until it exists.
  std::string Address(const std::string& name) const {
    return std::string(absl::StripTrailingAsciiWhitespace(ReadFile(dir_ + "/" + name)));
  }

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string dir_;
  std::string snapshot_path_;
};

TEST(XdsServerProcessTest, ServesTheFileReportsAcksAndPushesEdits) {
  auto server = XdsServerProcess::Start(Snapshot("v1", {"a", "b"}));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->ads_address(), ::testing::StartsWith("127.0.0.1:"));

  auto client = AdsTestClient::Connect((*server)->ads_address(), "proxy-1");
  ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<xds::server::testing::DiscoveryResponse> first = client->Next(kWait);
  ASSERT_TRUE(first.has_value()) << (*server)->Log();
  EXPECT_EQ(first->version_info(), "v1");
  EXPECT_THAT(ResourceNames(*first), ::testing::ElementsAre("a", "b"));
  ASSERT_TRUE(client->Ack(*first));
  EXPECT_TRUE((*server)->WaitForAckedVersion("proxy-1", "v1")) << (*server)->Log();

  WriteByRename((*server)->snapshot_path(), Snapshot("v2", {"b", "c"}));
  std::optional<xds::server::testing::DiscoveryResponse> second = client->Next(kWait);
  ASSERT_TRUE(second.has_value()) << (*server)->Log();
  EXPECT_EQ(second->version_info(), "v2");
  EXPECT_THAT(ResourceNames(*second), ::testing::ElementsAre("b", "c"));
  ASSERT_TRUE(client->Ack(*second));
  EXPECT_TRUE((*server)->WaitForAckedVersion("proxy-1", "v2"));
  EXPECT_THAT((*server)->Log(), HasSubstr("xds: node \"proxy-1\" ACK " + std::string(kClusterType) +
                                          " version \"v2\""));
}

TEST(XdsServerProcessTest, AnInvalidEditIsLoggedAndTheLastGoodSnapshotKeepsServing) {
  auto server = XdsServerProcess::Start(Snapshot("v1", {"a"}));
  ASSERT_TRUE(server.ok()) << server.status();
  WriteByRename((*server)->snapshot_path(),
                "version: v2\nresources:\n  clusters: [{name: a, connect_timeout: soon}]\n");
  EXPECT_TRUE(WaitUntil([&] {
    return absl::StrContains((*server)->Log(), "still serving version \"v1\"");
  }, kWait)) << (*server)->Log();
  EXPECT_THAT((*server)->Log(), HasSubstr("resources.clusters[0].connect_timeout: invalid duration"));

  auto client = AdsTestClient::Connect((*server)->ads_address(), "late");
  ASSERT_TRUE(client->Request(kClusterType, {}));
  std::optional<xds::server::testing::DiscoveryResponse> response = client->Next(kWait);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->version_info(), "v1");
}

TEST(XdsServerProcessTest, SigtermWithOpenStreamsExitsCleanly) {
  auto server = XdsServerProcess::Start(Snapshot("v1", {"a"}));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = AdsTestClient::Connect((*server)->ads_address(), "proxy-1");
  ASSERT_TRUE(client->Request(kClusterType, {}));
  ASSERT_TRUE(client->Next(kWait).has_value());
  (*server)->Signal(SIGTERM);
  EXPECT_EQ((*server)->WaitExit(kWait), 0) << (*server)->Log();
  std::optional<grpc::Status> end = client->WaitForEnd(kWait);
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->ok());
  EXPECT_THAT((*server)->Log(), HasSubstr("SIGTERM: shutting down"));
}

TEST(XdsServerProcessTest, AnInvalidFileAtStartupIsFatal) {
  std::string dir = "/tmp/weir-xds-bad-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string file = dir + "/bad.yaml";
  WriteByRename(file, "resources: {routes: [{name: r, virtual_hosts: 7}]}\n");
  weir_test::CommandResult result =
      weir_test::RunCommand(absl::StrCat(WEIR_XDS_SERVER_BINARY, " --snapshot-file ", file));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr("resources.routes[0].virtual_hosts: expected a list"));
}

}  // namespace
