// weir's entry point: parse flags, load the bootstrap, and validate or serve it.

#include <cstdio>
#include <string>
#include <vector>

#include <csignal>

#include "proxy/options.h"
#include "proxy/server.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "xds/bootstrap.h"

namespace {

constexpr char kVersion[] = "weir 0.1.0";

xds::BootstrapResult Load(const proxy::Options& options) {
  return xds::LoadBootstrap(
      options.config_path, {.allow_unknown_static_fields = options.allow_unknown_static_fields,
                            .service_node = options.service_node,
                            .service_cluster = options.service_cluster});
}

int Validate(const proxy::Options& options) {
  xds::BootstrapResult result = Load(options);
  for (const std::string& warning : result.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  if (!result.errors.empty()) {
    for (const std::string& error : result.errors) std::fprintf(stderr, "error: %s\n", error.c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", options.config_path.c_str(), result.errors.size(),
                 result.errors.size() == 1 ? "" : "s");
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

int Serve(const proxy::Options& options) {
  spdlog::set_default_logger(spdlog::stderr_logger_mt("weir"));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e][%t][%l] %v");
  spdlog::set_level(spdlog::level::from_str(options.log_level == "warning" ? "warn"
                                                                           : options.log_level));
  xds::BootstrapResult result = Load(options);
  for (const std::string& warning : result.warnings) spdlog::warn("config: {}", warning);
  if (!result.errors.empty()) {
    for (const std::string& error : result.errors) spdlog::critical("config: {}", error);
    spdlog::critical("{}: {} error(s); not starting", options.config_path, result.errors.size());
    return 1;
  }
  // Writes to a closed socket must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  proxy::Server server(options, *std::move(result.config));
  return server.Run();
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<proxy::Options> options =
      proxy::ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    std::fprintf(stderr, "weir: %s\n\n%s", std::string(options.status().message()).c_str(),
                 proxy::UsageText().c_str());
    return 1;
  }
  if (options->help) {
    std::printf("%s", proxy::UsageText().c_str());
    return 0;
  }
  if (options->version) {
    std::printf("%s\n", kVersion);
    return 0;
  }
  if (options->mode == proxy::Options::Mode::kValidate) return Validate(*options);
  return Serve(*options);
}
