// `weir --mode validate` end to end, on the real binary: the shipped configs, the conformance
// corpus of unmodified public Envoy configs (tests/conformance/envoy-configs/expect.tsv), and
// the command-line contract (OK / every error / exit codes).

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/run_command.h"

namespace {

using weir_test::CommandResult;
using weir_test::RunCommand;

const std::string kWeir = WEIR_BINARY;
const std::string kSourceDir = WEIR_SOURCE_DIR;

CommandResult Validate(const std::string& path, const std::string& flags = "") {
  return RunCommand(kWeir + " --mode validate " + flags + " -c '" + path + "'");
}

TEST(ValidateTest, ShippedConfigsAreValid) {
  for (const char* name :
       {"quickstart.yaml", "gateway.yaml", "sidecar.yaml", "xds-bootstrap.yaml"}) {
    CommandResult result = Validate(kSourceDir + "/configs/" + name);
    EXPECT_EQ(result.exit_code, 0) << name << ":\n" << result.output;
    EXPECT_EQ(result.output, "OK\n") << name;
  }
}

// For category C (refused) files: text the error must contain, naming the extension. Every C row
// of expect.tsv needs an entry here, so a new corpus file cannot pass unexamined.
const std::map<std::string, std::vector<std::string>> kRefusalText = {
    {"22-lua-filter.yaml",
     {"http filter \"lua_filter_with_custom_name_0\" (type envoy.extensions.filters.http.lua.v3.Lua) "
      "is not supported by weir"}},
    {"26-tcp-proxy-tls-passthrough.yaml",
     {"network filter \"envoy.filters.network.tcp_proxy\" "
      "(type envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy) is not supported by weir"}},
};

TEST(ValidateTest, EnvoyConfigCorpusMatchesExpectations) {
  const std::string dir = kSourceDir + "/tests/conformance/envoy-configs";
  std::ifstream expect(dir + "/expect.tsv");
  ASSERT_TRUE(expect) << "missing " << dir << "/expect.tsv";
  std::string line;
  std::getline(expect, line);  // header
  int rows = 0;
  while (std::getline(expect, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    ASSERT_GE(cells.size(), 3u) << line;
    const std::string& file = cells[0];
    const std::string& category = cells[1];
    SCOPED_TRACE(file + " (category " + category + "): " + cells[2]);
    ++rows;
    CommandResult strict = Validate(dir + "/" + file);
    CommandResult lenient = Validate(dir + "/" + file, "--allow-unknown-static-fields");
    if (category == "A") {
      EXPECT_EQ(strict.exit_code, 0) << strict.output;
      EXPECT_TRUE(absl::EndsWith(strict.output, "OK\n")) << strict.output;
    } else if (category == "B") {
      EXPECT_EQ(lenient.exit_code, 0) << lenient.output;
      EXPECT_TRUE(absl::EndsWith(lenient.output, "OK\n")) << lenient.output;
      // What expect.tsv lists as unsupported is named: an error without the flag, a warning
      // with it; never silently dropped.
      size_t at = cells[2].find("unsupported: ");
      ASSERT_NE(at, std::string::npos) << "category B rows name what is unsupported";
      std::string field = cells[2].substr(at + 13);
      field = field.substr(0, field.find_first_of(" ;("));
      EXPECT_EQ(strict.exit_code, 1) << strict.output;
      EXPECT_NE(strict.output.find("." + field + ": "), std::string::npos) << strict.output;
      EXPECT_NE(lenient.output.find("." + field + ": "), std::string::npos) << lenient.output;
      EXPECT_NE(lenient.output.find("warning:"), std::string::npos) << lenient.output;
    } else if (category == "C") {
      EXPECT_EQ(strict.exit_code, 1) << strict.output;
      EXPECT_EQ(lenient.exit_code, 1) << lenient.output;
      auto it = kRefusalText.find(file);
      ASSERT_NE(it, kRefusalText.end()) << "add the expected refusal text for " << file;
      for (const std::string& text : it->second) {
        EXPECT_NE(strict.output.find(text), std::string::npos) << strict.output;
        EXPECT_NE(lenient.output.find(text), std::string::npos) << lenient.output;
      }
    } else {
      ADD_FAILURE() << "unknown category " << category;
    }
  }
  EXPECT_GE(rows, 8);
}

TEST(ValidateTest, PrintsEveryErrorAndExitsOne) {
  const std::string path = ::testing::TempDir() + "/two_errors.yaml";
  std::ofstream(path) << R"(static_resources:
  clusters:
  - name: a
    connect_timeout: 5
  - name: b
    lb_policy: FASTEST
)";
  CommandResult result = Validate(path);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("error: static_resources.clusters[0].connect_timeout: invalid "
                               "duration \"5\": expected seconds with an \"s\" suffix, e.g. "
                               "\"1.5s\""),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("error: static_resources.clusters[1].lb_policy: unknown value "
                               "\"FASTEST\" for envoy.config.cluster.v3.Cluster.LbPolicy"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(": 2 errors"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("OK"), std::string::npos) << result.output;
}

TEST(ValidateTest, MalformedYamlNamesTheLine) {
  const std::string path = ::testing::TempDir() + "/malformed.yaml";
  std::ofstream(path) << "static_resources:\n  clusters: [\n";
  CommandResult result = Validate(path);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("invalid YAML at line"), std::string::npos) << result.output;
}

TEST(ValidateTest, JsonFilesAreReadAsJson) {
  const std::string good = ::testing::TempDir() + "/good.json";
  std::ofstream(good) << R"({"static_resources": {"clusters": [{"name": "a", "type": "STATIC"}]}})";
  CommandResult ok = Validate(good);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  // YAML syntax in a .json file is an error, as in Envoy.
  const std::string yaml_in_json = ::testing::TempDir() + "/yaml.json";
  std::ofstream(yaml_in_json) << "static_resources: {}\n";
  CommandResult bad = Validate(yaml_in_json);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("invalid JSON at line 1, column 1"), std::string::npos) << bad.output;
}

TEST(ValidateTest, CommandLineErrors) {
  CommandResult no_config = RunCommand(kWeir + " --mode validate");
  EXPECT_EQ(no_config.exit_code, 1);
  EXPECT_NE(no_config.output.find("a config file is required"), std::string::npos);
  CommandResult missing = Validate("/nonexistent/weir.yaml");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("cannot read /nonexistent/weir.yaml"), std::string::npos)
      << missing.output;
  CommandResult bad_mode = RunCommand(kWeir + " --mode check -c x.yaml");
  EXPECT_EQ(bad_mode.exit_code, 1);
  EXPECT_NE(bad_mode.output.find("--mode: expected serve or validate"), std::string::npos);
}

}  // namespace
