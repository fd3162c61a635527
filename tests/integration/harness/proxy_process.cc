#include "tests/integration/harness/proxy_process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace weir_test {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(10);
constexpr size_t kMaxLogInError = 64 * 1024;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int64_t VmRssKb(const std::string& status_path) {
  std::string status = ReadFile(status_path);
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, "VmRSS:")) continue;
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, "kB");
    int64_t kb = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kb)) return kb;
  }
  return -1;
}

// 128+N for a death by signal N, as shells report it.
int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProxyProcess>> ProxyProcess::Start(
    const std::string& config_yaml, const std::vector<std::string>& extra_args,
    StartOptions options) {
  std::unique_ptr<ProxyProcess> process(new ProxyProcess());
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/weir-it-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  process->dir_ = pattern;
  process->config_path_ = process->dir_ + "/config.yaml";
  process->admin_path_ = process->dir_ + "/admin_address";
  process->log_path_ = process->dir_ + "/weir.log";
  {
    std::ofstream out(process->config_path_, std::ios::binary);
    out << config_yaml;
    out.close();
    if (!out) return absl::InternalError("cannot write " + process->config_path_);
  }

  std::vector<std::string> args = {options.binary,
                                   "-c",
                                   process->config_path_,
                                   "--admin-address-path",
                                   process->admin_path_,
                                   "--concurrency",
                                   absl::StrCat(options.concurrency),
                                   "--log-level",
                                   options.log_level};
  if (options.drain_time_s.has_value()) {
    args.push_back("--drain-time-s");
    args.push_back(absl::StrCat(*options.drain_time_s));
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());

  if (absl::Status s = process->Spawn(args, options); !s.ok()) return s;
  if (absl::Status s = process->WaitUntilUp(options); !s.ok()) return s;
  return process;
}

absl::Status ProxyProcess::Spawn(const std::vector<std::string>& args,
                                 const StartOptions& options) {
  // Everything the child needs is prepared before fork(): after it, the child only makes
  // async-signal-safe calls (the test process has other threads).
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) envp.push_back(*e);
  for (const std::string& e : options.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err_pipe[2] = {-1, -1};
  if (log_fd < 0 || null_fd < 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int saved = errno;
    for (int fd : {log_fd, null_fd, err_pipe[0], err_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return absl::InternalError(absl::StrCat("spawn setup: ", std::strerror(saved)));
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // The child.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
      ::sigaction(sig, &dfl, nullptr);
    }
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    // No other descriptor of the test (upstream listeners, client sockets) may leak into weir.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < 4096; ++fd) {
        if (fd != err_pipe[1]) ::close(fd);
      }
    }
    ::execve(argv[0], argv.data(), envp.data());
    int e = errno;
    ssize_t ignored = ::write(err_pipe[1], &e, sizeof(e));
    (void)ignored;
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(err_pipe[0]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(fork_errno)));
  }
  pid_ = pid;
  ::setpgid(pid, pid);  // also here, so the group exists before we could signal it
  // The pipe closes on a successful exec; an errno arrives if exec failed.
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n == sizeof(child_errno)) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = DecodeWaitStatus(status);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot execute ", args[0], ": ", std::strerror(child_errno)));
  }
  return absl::OkStatus();
}

absl::Status ProxyProcess::Failure(absl::string_view what) {
  std::string log = Log();
  if (log.size() > kMaxLogInError) {
    log = absl::StrCat("...", log.substr(log.size() - kMaxLogInError));
  }
  std::string status =
      exit_code_.has_value() ? absl::StrCat("exit code ", *exit_code_) : "still running";
  return absl::Status(
      exit_code_.has_value() ? absl::StatusCode::kAborted : absl::StatusCode::kDeadlineExceeded,
      absl::StrCat(what, " (", status, ", pid ", pid_, ", config ", config_path_,
                   ")\n--- weir output ---\n", log, "--- end of weir output ---"));
}

absl::Status ProxyProcess::WaitUntilUp(const StartOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  // 1. The admin address file.
  for (;;) {
    std::string text(absl::StripAsciiWhitespace(ReadFile(admin_path_)));
    size_t colon = text.rfind(':');
    uint32_t port = 0;
    if (colon != std::string::npos && absl::SimpleAtoi(text.substr(colon + 1), &port) && port > 0 &&
        port <= 65535) {
      admin_port_ = static_cast<uint16_t>(port);
      break;
    }
    if (!Running()) return Failure("weir exited before writing its admin address");
    if (absl::Now() > deadline) {
      return Failure(absl::StrCat("weir wrote no admin address to ", admin_path_, " within ",
                                  absl::FormatDuration(options.timeout),
                                  text.empty() ? "" : absl::StrCat(" (file has \"", text, "\")")));
    }
    absl::SleepFor(kPollInterval);
  }
  if (!options.wait_for_ready) return absl::OkStatus();
  // 2. GET /ready == 200.
  std::string last;
  for (;;) {
    absl::Duration left = std::max(deadline - absl::Now(), absl::Milliseconds(100));
    HttpResult ready = AdminGet("/ready", std::min(left, absl::Seconds(1)));
    if (ready.ok() && ready->status == 200) return absl::OkStatus();
    last = ready.ok() ? absl::StrCat(ready->status, " ", absl::CEscape(ready->body))
                      : std::string(ready.status().ToString());
    if (!Running()) return Failure("weir exited before becoming ready");
    if (absl::Now() > deadline) {
      return Failure(absl::StrCat("weir not ready within ", absl::FormatDuration(options.timeout),
                                  "; last GET /ready: ", last));
    }
    absl::SleepFor(kPollInterval);
  }
}

ProxyProcess::~ProxyProcess() {
  if (pid_ > 0) {
    // The whole group: weir and anything it started. After weir was reaped the group can only
    // still exist if a member is left, so its id cannot have been reused.
    ::kill(-pid_, SIGKILL);
    if (!exit_code_.has_value()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      pid_t r;
      do {
        r = ::waitpid(pid_, &status, 0);  // SIGKILL cannot be ignored: this returns
      } while (r < 0 && errno == EINTR);
      exit_code_ = DecodeWaitStatus(status);
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

HttpResult ProxyProcess::AdminGet(const std::string& path, absl::Duration timeout) {
  return HttpRequest(admin_port_, "GET", path, {{"connection", "close"}}, "", timeout);
}

HttpResult ProxyProcess::AdminPost(const std::string& path, absl::Duration timeout) {
  return HttpRequest(admin_port_, "POST", path, {{"content-length", "0"}, {"connection", "close"}},
                     "", timeout);
}

absl::StatusOr<JsonValue> ProxyProcess::AdminGetJson(const std::string& path) {
  HttpResult response = AdminGet(path);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET ", path, ": ", response->status, " ", response->body));
  }
  return ParseJson(response->body);
}

absl::StatusOr<uint16_t> ProxyProcess::ListenerPort(const std::string& listener_name) {
  HttpResult response = AdminGet("/listeners?format=json");
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET /listeners?format=json: ", response->status, " ", response->body));
  }
  return ListenerPortInJson(response->body, listener_name);
}

absl::StatusOr<uint64_t> ProxyProcess::StatValue(const std::string& name) {
  HttpResult response = AdminGet("/stats");
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::FailedPreconditionError(absl::StrCat("GET /stats: ", response->status));
  }
  return FindStatInText(response->body, name);
}

std::map<std::string, uint64_t> ProxyProcess::Stats(const std::string& prefix) {
  HttpResult response = AdminGet("/stats");
  if (!response.ok() || response->status != 200) return {};
  return IntegerStatsInText(response->body, prefix);
}

absl::Status ProxyProcess::WaitForStat(const std::string& name, uint64_t expected,
                                       absl::Duration timeout) {
  absl::StatusOr<uint64_t> last = absl::UnknownError("never read");
  bool reached = WaitUntil(
      [&] {
        last = StatValue(name);
        return last.ok() && *last == expected;
      },
      timeout);
  if (reached) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(
      "stat ", name, " did not reach ", expected, " within ", absl::FormatDuration(timeout),
      "; last: ", last.ok() ? absl::StrCat(*last) : last.status().ToString()));
}

void ProxyProcess::Signal(int sig) {
  if (pid_ > 0 && !exit_code_.has_value()) ::kill(pid_, sig);
}

std::optional<int> ProxyProcess::WaitExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (!Running()) return exit_code_;
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

bool ProxyProcess::Running() {
  if (pid_ <= 0 || exit_code_.has_value()) return false;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return true;
  // Reaped now (or, with ECHILD, by someone else: report it as gone).
  exit_code_ = r == pid_ ? DecodeWaitStatus(status) : -1;
  return false;
}

std::string ProxyProcess::Log() const { return ReadFile(log_path_); }

int64_t ProxyProcess::RssKb() const {
  if (pid_ <= 0 || exit_code_.has_value()) return -1;
  return VmRssKb(absl::StrCat("/proc/", pid_, "/status"));
}

int ProxyProcess::OpenFdCount() const {
  if (pid_ <= 0 || exit_code_.has_value()) return -1;
  DIR* dir = ::opendir(absl::StrCat("/proc/", pid_, "/fd").c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) ++count;
  }
  ::closedir(dir);
  return count;
}

std::string Substitute(std::string text, const std::map<std::string, std::string>& vars) {
  size_t pos = 0;
  // Bounded: `pos` only moves forward, past each placeholder or its replacement.
  while ((pos = text.find("${", pos)) != std::string::npos) {
    size_t end = text.find('}', pos + 2);
    if (end == std::string::npos) break;
    auto it = vars.find(text.substr(pos + 2, end - pos - 2));
    if (it == vars.end()) {
      pos = end + 1;
      continue;
    }
    text.replace(pos, end + 1 - pos, it->second);
    pos += it->second.size();
  }
  return text;
}

absl::StatusOr<uint64_t> FindStatInText(absl::string_view stats_text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(stats_text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    size_t sep = line.find(": ");
    if (sep == absl::string_view::npos || line.substr(0, sep) != name) continue;
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(sep + 2));
    uint64_t n = 0;
    if (!absl::SimpleAtoi(value, &n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("stat ", name, " is not an integer: \"", value, "\""));
    }
    return n;
  }
  return absl::NotFoundError(absl::StrCat("no stat named ", name, " in /stats"));
}

std::map<std::string, uint64_t> IntegerStatsInText(absl::string_view stats_text,
                                                   absl::string_view prefix) {
  std::map<std::string, uint64_t> stats;
  for (absl::string_view line : absl::StrSplit(stats_text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    size_t sep = line.find(": ");
    if (sep == absl::string_view::npos) continue;
    absl::string_view name = line.substr(0, sep);
    uint64_t n = 0;
    if (absl::StartsWith(name, prefix) &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(sep + 2)), &n)) {
      stats[std::string(name)] = n;
    }
  }
  return stats;
}

absl::StatusOr<uint16_t> ListenerPortInJson(absl::string_view json, absl::string_view name) {
  absl::StatusOr<JsonValue> root = ParseJson(json);
  if (!root.ok()) return root.status();
  const JsonValue* listeners = root->Find("listener_statuses");
  if (listeners == nullptr || !listeners->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("no listener_statuses array in ", json));
  }
  std::vector<std::string> names;
  for (const JsonValue& listener : listeners->array()) {
    const JsonValue* n = listener.Find("name");
    if (n == nullptr || !n->is_string()) continue;
    names.push_back(n->string_value());
    if (n->string_value() != name) continue;
    const JsonValue* port = listener.FindPath("local_address.socket_address.port_value");
    std::optional<uint64_t> value = port == nullptr ? std::nullopt : port->AsUint64();
    if (!value.has_value() || *value == 0 || *value > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("listener ", name, " has no valid local_address port in ", json));
    }
    return static_cast<uint16_t>(*value);
  }
  return absl::NotFoundError(absl::StrCat("no listener named \"", name, "\"; listeners: [",
                                          absl::StrJoin(names, ", "), "]"));
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout,
               absl::Duration interval) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(interval);
  }
}

int64_t SelfRssKb() { return VmRssKb("/proc/self/status"); }

}  // namespace weir_test
