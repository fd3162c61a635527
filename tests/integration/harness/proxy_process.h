#pragma once

// ProxyProcess: the real `weir` binary as a child process of an integration test. Start() writes
// the bootstrap YAML to a fresh temp dir, spawns weir in its own process group with its output
// in a log file, waits for the admin address file (and by default for GET /ready == 200), and
// then the test talks to weir as an operator would: admin API, listener ports by name, stats by
// exact name, signals, exit codes, RSS and open fds from /proc. The destructor SIGKILLs the
// process group and removes the temp dir, so a failing test leaks nothing (and the child also
// gets SIGKILL if the test process dies: PR_SET_PDEATHSIG). PR_SET_PDEATHSIG follows the thread
// that started the child, so call Start() from the test's own thread, not a short-lived helper.
//
// The weir side of the contract: `weir -c FILE --admin-address-path FILE2 ...` writes
// "127.0.0.1:PORT" to FILE2 (atomically) once the admin listener is up.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/integration/harness/child_process.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/json.h"

namespace weir_test {

struct StartOptions {
  int concurrency = 1;                         // --concurrency
  std::string log_level = "info";              // --log-level
  std::optional<int> drain_time_s;             // --drain-time-s when set (weir's default is 20 s)
  bool wait_for_ready = true;                  // also wait for GET /ready == 200
  absl::Duration timeout = absl::Seconds(10);  // for the admin address (and readiness)
  std::string binary = WEIR_BINARY;  // the executable (tests of the harness substitute others)
  std::vector<std::string> env;      // extra "NAME=value" entries for the child's environment
};

class ProxyProcess {
 public:
  // Fails with the process's output in the message when weir exits, or does not publish its
  // admin address (or become ready) within options.timeout.
  static absl::StatusOr<std::unique_ptr<ProxyProcess>> Start(
      const std::string& config_yaml, const std::vector<std::string>& extra_args = {},
      StartOptions options = {});

  ~ProxyProcess();  // SIGKILL to the process group if still running, reap, remove the temp dir
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  pid_t pid() const { return child_ != nullptr ? child_->pid() : -1; }
  uint16_t admin_port() const { return admin_port_; }
  const std::string& temp_dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }

  // ---- admin API (one connection per call, `connection: close`) ----
  HttpResult AdminGet(const std::string& path, absl::Duration timeout = kDefaultTimeout);
  HttpResult AdminPost(const std::string& path, absl::Duration timeout = kDefaultTimeout);
  // GET and parse the body as JSON (error if the status is not 200).
  absl::StatusOr<JsonValue> AdminGetJson(const std::string& path);

  // The bound port of the listener named `listener_name` (from /listeners?format=json).
  absl::StatusOr<uint16_t> ListenerPort(const std::string& listener_name);

  // The value of counter or gauge `name` in /stats: NotFound when absent (distinct from 0),
  // InvalidArgument when it is not an integer (a histogram or text readout).
  absl::StatusOr<uint64_t> StatValue(const std::string& name);
  // Every integer stat whose name starts with `prefix` ("" for all).
  std::map<std::string, uint64_t> Stats(const std::string& prefix = "");
  // Polls StatValue(name) every 10 ms until it equals `expected` (stats are updated after the
  // response bytes leave, so a test must not read them once and expect the final value).
  absl::Status WaitForStat(const std::string& name, uint64_t expected,
                           absl::Duration timeout = kDefaultTimeout);

  // ---- the process ----
  void Signal(int sig);  // to the weir process (not the group); a no-op once it was reaped
  // The exit code, or 128+N if killed by signal N, or nullopt if still running at the timeout.
  // Reaps the child; later calls return the same code at once.
  std::optional<int> WaitExit(absl::Duration timeout);
  bool Running();
  std::string Log() const;  // everything weir wrote to stdout and stderr so far
  int64_t RssKb() const;    // VmRSS from /proc/<pid>/status; -1 when unavailable
  int OpenFdCount() const;  // entries of /proc/<pid>/fd; -1 when unavailable

 private:
  ProxyProcess() = default;
  absl::Status WaitUntilUp(const StartOptions& options);
  absl::Status Failure(absl::string_view what);  // `what` + exit status + the log

  std::unique_ptr<ChildProcess> child_;
  uint16_t admin_port_ = 0;
  std::string dir_;
  std::string config_path_;
  std::string admin_path_;
  std::string log_path_;
};

// Replaces every `${NAME}` in `text` with vars["NAME"]; placeholders without a value are left
// as they are (weir then rejects the config, naming them).
std::string Substitute(std::string text, const std::map<std::string, std::string>& vars);

// The value of stat `name` in /stats text (see ProxyProcess::StatValue), and every integer stat
// with a name starting with `prefix`. Exposed for tests of the harness.
absl::StatusOr<uint64_t> FindStatInText(absl::string_view stats_text, absl::string_view name);
std::map<std::string, uint64_t> IntegerStatsInText(absl::string_view stats_text,
                                                   absl::string_view prefix);
// The port of listener `name` in a /listeners?format=json body.
absl::StatusOr<uint16_t> ListenerPortInJson(absl::string_view json, absl::string_view name);

// Calls `condition` every `interval` until it returns true (then true) or `timeout` passes
// (then false, after one last call).
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout = kDefaultTimeout,
               absl::Duration interval = absl::Milliseconds(10));

}  // namespace weir_test
