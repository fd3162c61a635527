#pragma once

// XdsServerProcess: the weir-xds-server executable as a test child (a ChildProcess), serving a
// snapshot file in its own temp dir. Tests edit the snapshot (Write, atomically by rename) and
// read what each node ACKed from GET /status; Kill and Restart on the same port stand in for a
// control plane that crashes and comes back.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/integration/harness/child_process.h"
#include "tests/integration/harness/json.h"

namespace weir_test {

class XdsServerProcess {
 public:
  // Starts the server on an ephemeral port (or `port`) with `snapshot` as its file's content, and
  // waits until it listens.
  static absl::StatusOr<std::unique_ptr<XdsServerProcess>> Start(const std::string& snapshot,
                                                                 uint16_t port = 0);
  ~XdsServerProcess();
  XdsServerProcess(const XdsServerProcess&) = delete;
  XdsServerProcess& operator=(const XdsServerProcess&) = delete;

  std::string ads_address() const;  // "127.0.0.1:port"
  uint16_t ads_port() const;
  uint16_t admin_port() const;
  const std::string& snapshot_path() const { return snapshot_path_; }
  std::string Log() const { return child_ == nullptr ? "" : child_->Log(); }
  ChildProcess& child() { return *child_; }

  // Replaces the snapshot file by rename, as an editor or a deploy script would.
  void Write(const std::string& snapshot) const;
  // GET /status, parsed.
  absl::StatusOr<JsonValue> Status() const;
  // The version `node` last ACKed for `type_url`, "" if none.
  std::string AckedVersion(const std::string& node, const std::string& type_url) const;
  // Polls /status until `node` ACKed `version` of `type_url`.
  bool WaitForAckedVersion(const std::string& node, const std::string& type_url,
                           const std::string& version,
                           absl::Duration timeout = absl::Seconds(10)) const;

  // SIGKILL, then a new process on the same ADS port serving the current file.
  void Kill();
  absl::Status Restart();

 private:
  XdsServerProcess() = default;
  absl::Status Launch(uint16_t port);
  std::string ReadAddress(const std::string& name) const;  // "" until the file exists

  std::string dir_;
  std::string snapshot_path_;
  uint16_t ads_port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

// A snapshot file for the canary tests: listener "ingress" (127.0.0.1:0, stat_prefix ingress)
// whose RouteConfiguration "routes" sends "/" to the weighted clusters v1 and v2 (EDS, served
// `v1_ports`, `v2_ports`). `exact_routes` adds that many `path: /r<i>` routes before it, for
// large-config measurements.
struct CanarySnapshot {
  std::string version;
  uint32_t v1_weight = 100;
  uint32_t v2_weight = 0;
  std::vector<uint16_t> v1_ports;
  std::vector<uint16_t> v2_ports;
  int exact_routes = 0;
};
std::string CanarySnapshotYaml(const CanarySnapshot& snapshot);

// A weir bootstrap that takes all of its config over ADS (LDS and CDS wildcard, RDS and EDS by
// name) from 127.0.0.1:`ads_port`, as node `node_id`, with the admin API on an ephemeral port.
std::string AdsBootstrapYaml(const std::string& node_id, uint16_t ads_port);

// The type URLs /status is keyed by.
inline constexpr char kClusterTypeUrl[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kRouteTypeUrl[] =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr char kEndpointTypeUrl[] =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr char kListenerTypeUrl[] =
    "type.googleapis.com/envoy.config.listener.v3.Listener";

}  // namespace weir_test
