#pragma once

// ChildProcess: a program the tests start (weir, nghttpd, weir-xds-server...) as a child in its
// own process group, with its stdout and stderr in a log file and no descriptor of the test
// leaking into it. The destructor SIGKILLs the group and reaps the child, so a failing test
// leaks nothing; the child also gets SIGKILL when the thread that started it dies
// (PR_SET_PDEATHSIG follows the thread: start children from the test's own thread).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weir_test {

class ChildProcess {
 public:
  // Runs `args[0]` (a path) with `args`; `env` ("NAME=value") is added to the test's
  // environment. Fails if it cannot be executed.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const std::vector<std::string>& args, const std::string& log_path,
      const std::vector<std::string>& env = {});

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // To the process (not the group); a no-op once it was reaped.
  void Signal(int sig);
  // The exit code, or 128+N if killed by signal N, or nullopt if still running at the timeout.
  // Reaps the child; later calls return the same code at once.
  std::optional<int> WaitExit(absl::Duration timeout);
  bool Running();
  std::optional<int> exit_code() const { return exit_code_; }
  std::string Log() const;  // everything it wrote so far
  int64_t RssKb() const;    // VmRSS from /proc/<pid>/status; -1 when unavailable
  int OpenFdCount() const;  // entries of /proc/<pid>/fd; -1 when unavailable

 private:
  ChildProcess() = default;

  pid_t pid_ = -1;
  std::optional<int> exit_code_;  // once reaped
  std::string log_path_;
};

// A fresh directory under $TEST_TMPDIR (or /tmp) named `prefix`-XXXXXX.
absl::StatusOr<std::string> MakeTempDir(const std::string& prefix);
// The file's content, "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);
// Writes `path` atomically: a sibling file renamed over it, as editors and deploy scripts do.
void WriteFileByRename(const std::string& path, const std::string& content);

// This process's VmRSS in KiB (for memory-bound checks of in-process upstreams), -1 if unknown.
int64_t SelfRssKb();

}  // namespace weir_test
