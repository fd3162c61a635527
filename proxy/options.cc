#include "proxy/options.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace proxy {
namespace {

const char* const kLogLevels[] = {"trace", "debug", "info", "warning", "warn",
                                  "error", "critical", "off"};

}  // namespace

std::string UsageText() {
  return R"(Usage: weir -c FILE [options]

weir is an Envoy-compatible weighted L7 proxy. FILE is an Envoy v3 bootstrap (.yaml, .yml, .json).

  -c, --config-path FILE          bootstrap file
      --mode serve|validate       validate: check FILE, print OK or every error, and exit
      --allow-unknown-static-fields
                                  ignore unknown and unsupported fields with a warning
      --concurrency N             worker threads (default: number of cores)
      --admin-address-path FILE   write the bound admin address here
      --log-level LEVEL           trace, debug, info, warning, error, critical, off
      --drain-time-s S            drain time on shutdown (default 20)
      --service-node ID           node.id (overrides the bootstrap)
      --service-cluster NAME      node.cluster (overrides the bootstrap)
  -h, --help                      this text
      --version                   print the version
)";
}

absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args) {
  Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (absl::StartsWith(flag, "--") && flag.find('=') != std::string::npos) {
      inline_value = flag.substr(flag.find('=') + 1);
      flag = flag.substr(0, flag.find('='));
    }
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inline_value.has_value()) return *inline_value;
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
      return args[++i];
    };
    auto number = [&](uint32_t min, uint32_t max) -> absl::StatusOr<uint32_t> {
      absl::StatusOr<std::string> text = value();
      if (!text.ok()) return text.status();
      uint32_t n = 0;
      if (!absl::SimpleAtoi(*text, &n) || n < min || n > max) {
        return absl::InvalidArgumentError(absl::StrCat(flag, ": expected an integer from ", min,
                                                       " to ", max, ", got \"", *text, "\""));
      }
      return n;
    };
    absl::Status status;
    if (flag == "-c" || flag == "--config-path") {
      absl::StatusOr<std::string> v = value();
      if (v.ok()) options.config_path = *v;
      status = v.status();
    } else if (flag == "--mode") {
      absl::StatusOr<std::string> v = value();
      if (v.ok()) {
        if (*v == "serve") {
          options.mode = Options::Mode::kServe;
        } else if (*v == "validate") {
          options.mode = Options::Mode::kValidate;
        } else {
          status = absl::InvalidArgumentError(
              absl::StrCat("--mode: expected serve or validate, got \"", *v, "\""));
        }
      } else {
        status = v.status();
      }
    } else if (flag == "--concurrency") {
      absl::StatusOr<uint32_t> n = number(1, 1024);
      if (n.ok()) options.concurrency = *n;
      status = n.status();
    } else if (flag == "--admin-address-path") {
      absl::StatusOr<std::string> v = value();
      if (v.ok()) options.admin_address_path = *v;
      status = v.status();
    } else if (flag == "-l" || flag == "--log-level") {
      absl::StatusOr<std::string> v = value();
      if (v.ok()) {
        bool known = false;
        for (const char* level : kLogLevels) known = known || *v == level;
        if (!known) {
          status = absl::InvalidArgumentError(absl::StrCat("--log-level: unknown level \"", *v,
                                                           "\""));
        }
        options.log_level = *v;
      } else {
        status = v.status();
      }
    } else if (flag == "--drain-time-s") {
      absl::StatusOr<uint32_t> n = number(0, 3600);
      if (n.ok()) options.drain_time_s = *n;
      status = n.status();
    } else if (flag == "--service-node") {
      absl::StatusOr<std::string> v = value();
      if (v.ok()) options.service_node = *v;
      status = v.status();
    } else if (flag == "--service-cluster") {
      absl::StatusOr<std::string> v = value();
      if (v.ok()) options.service_cluster = *v;
      status = v.status();
    } else if (flag == "--allow-unknown-static-fields") {
      options.allow_unknown_static_fields = true;
    } else if (flag == "-h" || flag == "--help") {
      options.help = true;
    } else if (flag == "--version") {
      options.version = true;
    } else {
      status = absl::InvalidArgumentError(absl::StrCat("unknown option \"", args[i], "\""));
    }
    if (!status.ok()) return status;
  }
  if (!options.help && !options.version && options.config_path.empty()) {
    return absl::InvalidArgumentError("a config file is required: -c FILE");
  }
  return options;
}

}  // namespace proxy
