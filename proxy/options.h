#pragma once

// Command-line options, with Envoy's flag names so that existing container specs and scripts
// keep working: -c/--config-path, --mode, --concurrency, --admin-address-path, --log-level,
// --drain-time-s, --service-node, --service-cluster, --allow-unknown-static-fields.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxy {

struct Options {
  enum class Mode { kServe, kValidate };

  std::string config_path;
  Mode mode = Mode::kServe;
  std::optional<uint32_t> concurrency;  // default: number of cores
  std::string admin_address_path;
  std::string log_level = "info";
  uint32_t drain_time_s = 20;  // inside ECS's 30 s stop timeout
  std::string service_node;
  std::string service_cluster;
  bool allow_unknown_static_fields = false;
  bool help = false;
  bool version = false;
};

// Parses argv (without argv[0]); an error names the offending flag.
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);

// The --help text.
std::string UsageText();

}  // namespace proxy
