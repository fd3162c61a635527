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


namespace weir_test {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(10);
constexpr size_t kMaxLogInError = 64 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<ProxyProcess>> ProxyProcess::Start(
    const std::string& config_yaml, const std::vector<std::string>& extra_args,
    StartOptions options) {
  std::unique_ptr<ProxyProcess> process(new ProxyProcess());
  absl::StatusOr<std::string> dir = MakeTempDir("weir-it");
  if (!dir.ok()) return dir.status();
  process->dir_ = *dir;
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

  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Spawn(args, process->log_path_, options.env);
  if (!child.ok()) return child.status();
  process->child_ = *std::move(child);
  if (absl::Status s = process->WaitUntilUp(options); !s.ok()) return s;
  return process;
}

absl::Status ProxyProcess::Failure(absl::string_view what) {
  std::string log = Log();
  if (log.size() > kMaxLogInError) {
    log = absl::StrCat("...", log.substr(log.size() - kMaxLogInError));
  }
  std::string status =
      child_->exit_code().has_value() ? absl::StrCat("exit code ", *child_->exit_code())
                                      : "still running";
  return absl::Status(
      child_->exit_code().has_value() ? absl::StatusCode::kAborted
                                      : absl::StatusCode::kDeadlineExceeded,
      absl::StrCat(what, " (", status, ", pid ", child_->pid(), ", config ", config_path_,
                   ")\n--- weir output ---\n", log, "--- end of weir output ---"));
}

absl::Status ProxyProcess::WaitUntilUp(const StartOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  // 1. The admin address file.
  for (;;) {
    std::string text(absl::StripAsciiWhitespace(ReadFileOrEmpty(admin_path_)));
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
  child_.reset();  // SIGKILL to the group, reaped
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
  if (child_ != nullptr) child_->Signal(sig);
}

std::optional<int> ProxyProcess::WaitExit(absl::Duration timeout) {
  return child_ != nullptr ? child_->WaitExit(timeout) : std::nullopt;
}

bool ProxyProcess::Running() { return child_ != nullptr && child_->Running(); }

std::string ProxyProcess::Log() const { return child_ != nullptr ? child_->Log() : ""; }

int64_t ProxyProcess::RssKb() const { return child_ != nullptr ? child_->RssKb() : -1; }

int ProxyProcess::OpenFdCount() const { return child_ != nullptr ? child_->OpenFdCount() : -1; }

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

}  // namespace weir_test
