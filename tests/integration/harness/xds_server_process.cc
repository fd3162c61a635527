#include "tests/integration/harness/xds_server_process.h"

#include <signal.h>

#include <filesystem>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/proxy_process.h"

namespace weir_test {

absl::StatusOr<std::unique_ptr<XdsServerProcess>> XdsServerProcess::Start(
    const std::string& snapshot, uint16_t port) {
  std::unique_ptr<XdsServerProcess> process(new XdsServerProcess());
  absl::StatusOr<std::string> dir = MakeTempDir("weir-xds");
  if (!dir.ok()) return dir.status();
  process->dir_ = *dir;
  process->snapshot_path_ = process->dir_ + "/snapshot.yaml";
  process->Write(snapshot);
  if (absl::Status launched = process->Launch(port); !launched.ok()) return launched;
  return process;
}

XdsServerProcess::~XdsServerProcess() {
  child_.reset();  // SIGKILLs and reaps
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status XdsServerProcess::Launch(uint16_t port) {
  for (const char* name : {"ads_address", "admin_address"}) {
    std::error_code ignored;
    std::filesystem::remove(dir_ + "/" + name, ignored);
  }
  // Each run gets its own log, so Log() after a restart shows the new process.
  const std::string log = absl::StrCat(dir_, "/server-", absl::ToUnixNanos(absl::Now()), ".log");
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(
      {WEIR_XDS_SERVER_BINARY, "--snapshot-file", snapshot_path_, "--port", absl::StrCat(port),
       "--address-path", dir_ + "/ads_address", "--admin-port", "0", "--admin-address-path",
       dir_ + "/admin_address"},
      log);
  if (!child.ok()) return child.status();
  child_ = std::move(*child);
  const bool up = WaitUntil(
      [&] {
        return !ReadAddress("ads_address").empty() && !ReadAddress("admin_address").empty();
      },
      absl::Seconds(10));
  if (!up || !child_->Running()) {
    return absl::DeadlineExceededError(
        absl::StrCat("weir-xds-server did not come up:\n", child_->Log()));
  }
  ads_port_ = ads_port();
  return absl::OkStatus();
}

std::string XdsServerProcess::ReadAddress(const std::string& name) const {
  return std::string(absl::StripTrailingAsciiWhitespace(ReadFileOrEmpty(dir_ + "/" + name)));
}

namespace {
uint16_t PortOf(const std::string& address) {
  uint32_t port = 0;
  (void)absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port);
  return static_cast<uint16_t>(port);
}
}  // namespace

std::string XdsServerProcess::ads_address() const { return ReadAddress("ads_address"); }
uint16_t XdsServerProcess::ads_port() const { return PortOf(ads_address()); }
uint16_t XdsServerProcess::admin_port() const { return PortOf(ReadAddress("admin_address")); }

void XdsServerProcess::Write(const std::string& snapshot) const {
  WriteFileByRename(snapshot_path_, snapshot);
}

absl::StatusOr<JsonValue> XdsServerProcess::Status() const {
  HttpResult response = HttpGet(admin_port(), "/status");
  if (!response.ok()) return response.status();
  if (response->status != 200) return absl::InternalError(response->body);
  return ParseJson(response->body);
}

std::string XdsServerProcess::AckedVersion(const std::string& node,
                                           const std::string& type_url) const {
  absl::StatusOr<JsonValue> status = Status();
  if (!status.ok()) return "";
  const JsonValue* nodes = status->Find("nodes");
  const JsonValue* entry = nodes != nullptr ? nodes->Find(node) : nullptr;
  const JsonValue* types = entry != nullptr ? entry->Find("types") : nullptr;
  const JsonValue* type = types != nullptr ? types->Find(type_url) : nullptr;
  const JsonValue* acked = type != nullptr ? type->Find("acked_version") : nullptr;
  return acked != nullptr ? acked->string_value() : "";
}

bool XdsServerProcess::WaitForAckedVersion(const std::string& node, const std::string& type_url,
                                           const std::string& version,
                                           absl::Duration timeout) const {
  return WaitUntil([&] { return AckedVersion(node, type_url) == version; }, timeout,
                   absl::Milliseconds(20));
}

void XdsServerProcess::Kill() {
  if (child_ == nullptr) return;
  child_->Signal(SIGKILL);
  child_->WaitExit(absl::Seconds(10));
}

absl::Status XdsServerProcess::Restart() {
  Kill();
  return Launch(ads_port_);
}

namespace {
std::string EndpointsYaml(const std::string& cluster, const std::vector<uint16_t>& ports) {
  std::vector<std::string> endpoints;
  for (uint16_t port : ports) {
    endpoints.push_back(absl::StrCat(
        "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ", port, "}}}}"));
  }
  return absl::StrCat("  - cluster_name: ", cluster, "\n    endpoints: [{lb_endpoints: [",
                      absl::StrJoin(endpoints, ", "), "]}]\n");
}
}  // namespace

std::string AdsBootstrapYaml(const std::string& node_id, uint16_t ads_port) {
  return absl::StrCat(R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
node: {id: )", node_id, R"(, cluster: test}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]
  cds_config: {ads: {}, resource_api_version: V3}
  lds_config: {ads: {}, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    load_assignment:
      cluster_name: xds_cluster
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: )",
                      ads_port, R"(}}}}]}]
)");
}

std::string CanarySnapshotYaml(const CanarySnapshot& snapshot) {
  std::string exact_routes;
  for (int i = 0; i < snapshot.exact_routes; ++i) {
    absl::StrAppend(&exact_routes, "      - {match: {path: \"/r", i,
                    "\"}, route: {cluster: v1}}\n");
  }
  return absl::StrCat(R"(version: ")", snapshot.version, R"("
nodes: ["*"]
resources:
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
  routes:
  - name: routes
    virtual_hosts:
    - name: app
      domains: ["*"]
      routes:
)", exact_routes, R"(      - match: {prefix: "/"}
        route:
          weighted_clusters:
            clusters:
            - {name: v1, weight: )", snapshot.v1_weight, R"(}
            - {name: v2, weight: )", snapshot.v2_weight, R"(}
  clusters:
  - {name: v1, type: EDS, connect_timeout: 1s, eds_cluster_config: {eds_config: {ads: {}}}}
  - {name: v2, type: EDS, connect_timeout: 1s, eds_cluster_config: {eds_config: {ads: {}}}}
  endpoints:
)", EndpointsYaml("v1", snapshot.v1_ports), EndpointsYaml("v2", snapshot.v2_ports));
}

}  // namespace weir_test
