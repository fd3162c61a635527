// weir-xds-server: the xDS snapshot server as a process, for tests and for driving proxies by
// hand. It serves ADS on --address:--port from --snapshot-file (watched: edits are pushed), writes
// the bound address to --address-path once listening, optionally serves GET /status on
// --admin-port, and exits cleanly on SIGTERM or SIGINT.

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "xds/server/snapshot_file_source.h"
#include "xds/server/status_server.h"
#include "xds/server/xds_server.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "IP address to serve ADS (and /status) on");
ABSL_FLAG(int32_t, port, 0, "ADS port; 0 picks an ephemeral one (see --address-path)");
ABSL_FLAG(std::string, address_path, "",
          "write the bound ADS address (\"127.0.0.1:PORT\\n\") here once listening");
ABSL_FLAG(std::string, snapshot_file, "",
          "snapshot file (.yaml, .yml, .json) to serve and watch for changes");
ABSL_FLAG(int32_t, admin_port, -1, "port for GET /status; 0 picks an ephemeral one; -1: none");
ABSL_FLAG(std::string, admin_address_path, "", "write the bound /status address here");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warning, error, critical, off");

namespace {

// Written to a temporary name and renamed, so a reader never sees half an address.
absl::Status WriteAddressFile(const std::string& path, const std::string& address) {
  if (path.empty()) return absl::OkStatus();
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << address << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", error.message()));
  return absl::OkStatus();
}

int Fail(const absl::Status& status) {
  spdlog::critical("{}", std::string(status.message()));
  return 1;
}

int Run() {
  // Handled by sigwait below; blocked before any thread starts so that every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const int32_t port = absl::GetFlag(FLAGS_port);
  const int32_t admin_port = absl::GetFlag(FLAGS_admin_port);
  if (port < 0 || port > 65535 || admin_port < -1 || admin_port > 65535) {
    return Fail(absl::InvalidArgumentError("--port and --admin-port must be from 0 to 65535"));
  }
  absl::StatusOr<std::unique_ptr<xds::server::XdsServer>> server = xds::server::XdsServer::Start(
      {.address = absl::GetFlag(FLAGS_address), .port = static_cast<uint16_t>(port)});
  if (!server.ok()) return Fail(server.status());

  std::unique_ptr<xds::server::SnapshotFileSource> source;
  if (const std::string file = absl::GetFlag(FLAGS_snapshot_file); !file.empty()) {
    absl::StatusOr<std::unique_ptr<xds::server::SnapshotFileSource>> started =
        xds::server::SnapshotFileSource::Start(file, &(*server)->cache());
    if (!started.ok()) {  // its errors were logged one per line
      spdlog::critical("{}: cannot be served; not starting", file);
      return 1;
    }
    source = *std::move(started);
  } else {
    spdlog::warn("no --snapshot-file: serving nothing");
  }

  std::unique_ptr<xds::server::StatusServer> status;
  if (admin_port >= 0) {
    absl::StatusOr<std::unique_ptr<xds::server::StatusServer>> started =
        xds::server::StatusServer::Start(absl::GetFlag(FLAGS_address),
                                         static_cast<uint16_t>(admin_port), &(*server)->cache());
    if (!started.ok()) return Fail(started.status());
    status = *std::move(started);
    spdlog::info("status on http://{}/status", status->address());
    if (absl::Status s = WriteAddressFile(absl::GetFlag(FLAGS_admin_address_path),
                                          status->address());
        !s.ok()) {
      return Fail(s);
    }
  }

  spdlog::info("xDS (ADS) listening on {}", (*server)->address());
  if (absl::Status s = WriteAddressFile(absl::GetFlag(FLAGS_address_path), (*server)->address());
      !s.ok()) {
    return Fail(s);
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("{}: shutting down", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  source.reset();  // no more reloads
  status.reset();
  (*server)->Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "weir-xds-server [--port N] [--address IP] [--address-path FILE] [--snapshot-file FILE]\n"
      "    [--admin-port N] [--admin-address-path FILE] [--log-level LEVEL]\n"
      "An xDS (ADS, state of the world) snapshot server; see xds/server/README.md.");
  // The flags are spelled with dashes (--snapshot-file), like weir's; absl names them with '_'.
  std::vector<std::string> args(argv, argv + argc);
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) {
    if (arg.rfind("--", 0) == 0) {
      std::replace(arg.begin(), arg.begin() + std::min(arg.find('='), arg.size()), '-', '_');
      arg.replace(0, 2, "--");
    }
    arg_pointers.push_back(arg.data());
  }
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  if (positional.size() > 1) {
    std::fprintf(stderr, "weir-xds-server: unexpected argument \"%s\" (see --help)\n",
                 positional[1]);
    return 1;
  }
  spdlog::set_default_logger(spdlog::stderr_logger_mt("weir-xds-server"));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e][%t][%l] %v");
  const std::string level = absl::GetFlag(FLAGS_log_level);
  spdlog::set_level(spdlog::level::from_str(level == "warning" ? "warn" : level));
  return Run();
}
