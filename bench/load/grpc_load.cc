// A gRPC load client: unary weir.test.Echo calls at a fixed concurrency (N calls outstanding at
// all times, grpc++'s callback API) for a fixed duration or number of calls; prints calls/s and
// p50/p99/max latency.
//
//   build/bench/grpc_load --target 127.0.0.1:9080 [options]   load on any Echo server or proxy
//   build/bench/grpc_load [options]                            self-contained comparison
//
// Without --target it starts an in-process EchoServer and the real weir binary (through the
// integration-test harness) with one HTTP/2 cluster on that server, and measures, in the same
// run, the server direct and the server through weir, with weir's CPU seconds per call
// (utime+stime of the weir process from /proc/<pid>/stat, before and after the run).
//
// Options: --concurrency N (16), --duration-s S (10), --calls N (instead of a duration),
// --bytes B (request message size, 16), --channels C (client HTTP/2 connections, 1),
// --weir-workers W (weir's --concurrency, 1), --warmup-calls N (2000).
//
// A benchmark, not a test: it checks only that calls succeed, and prints numbers for
// bench/RESULTS.md.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "tests/grpc_testing/echo_server.h"
#include "tests/integration/harness/proxy_process.h"

namespace {

using Clock = std::chrono::steady_clock;
using weir::test::EchoReply;
using weir::test::EchoRequest;

constexpr char kConfig[] = R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
static_resources:
  listeners:
  - name: grpc
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: grpc
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/weir.test.Echo/"}
                route: {cluster: echo}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: echo
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: echo
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${ECHO_PORT}}}}}]}]
)";

struct Options {
  std::string target;
  int concurrency = 16;
  double duration_s = 10;
  int64_t calls = 0;  // > 0: a fixed number of calls instead of a duration
  int bytes = 16;
  int channels = 1;
  int weir_workers = 1;
  int64_t warmup_calls = 2000;
};

struct Result {
  int64_t calls = 0;
  int64_t errors = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
};

// N slots, each with one call outstanding at a time; a completed call starts the slot's next one
// until the duration or the call budget is used up.
class LoadRun {
 public:
  LoadRun(const std::vector<std::unique_ptr<weir::test::Echo::Stub>>& stubs,
          const Options& options, int64_t calls, std::optional<Clock::time_point> until)
      : stubs_(stubs), budget_(calls), until_(until) {
    request_.set_message(std::string(options.bytes, 'x'));
    slots_.resize(options.concurrency);
  }

  Result Run() {
    const auto start = Clock::now();
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].stub = stubs_[i % stubs_.size()].get();
      if (!StartCall(slots_[i])) Finished();
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return finished_slots_ == slots_.size(); });
    }
    Result result;
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (Slot& slot : slots_) {
      all.insert(all.end(), slot.latencies_ms.begin(), slot.latencies_ms.end());
      result.errors += slot.errors;
    }
    result.calls = static_cast<int64_t>(all.size());
    result.first_error = first_error_;
    std::sort(all.begin(), all.end());
    auto at = [&](double p) {
      return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
    };
    result.p50_ms = at(0.50);
    result.p99_ms = at(0.99);
    result.max_ms = all.empty() ? 0.0 : all.back();
    return result;
  }

 private:
  struct Slot {
    weir::test::Echo::Stub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    EchoReply reply;
    Clock::time_point started;
    std::vector<double> latencies_ms;
    int64_t errors = 0;
  };

  // Starts the slot's next call; false when the run is over for this slot.
  bool StartCall(Slot& slot) {
    if (until_.has_value() ? Clock::now() >= *until_ : budget_.fetch_sub(1) <= 0) return false;
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    slot.started = Clock::now();
    slot.stub->async()->Echo(slot.context.get(), &request_, &slot.reply,
                             [this, &slot](grpc::Status status) { OnDone(slot, status); });
    return true;
  }

  void OnDone(Slot& slot, const grpc::Status& status) {
    if (status.ok()) {
      slot.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - slot.started).count());
    } else {
      if (slot.errors++ == 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (first_error_.empty()) {
          first_error_ = absl::StrCat(status.error_code(), " ", status.error_message());
        }
      }
    }
    if (!StartCall(slot)) Finished();
  }

  void Finished() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++finished_slots_;
    if (finished_slots_ == slots_.size()) done_.notify_all();
  }

  const std::vector<std::unique_ptr<weir::test::Echo::Stub>>& stubs_;
  EchoRequest request_;
  std::atomic<int64_t> budget_;
  const std::optional<Clock::time_point> until_;
  std::vector<Slot> slots_;
  std::mutex mutex_;
  std::condition_variable done_;
  size_t finished_slots_ = 0;
  std::string first_error_;
};

std::vector<std::unique_ptr<weir::test::Echo::Stub>> Stubs(const std::string& target,
                                                           int channels) {
  std::vector<std::unique_ptr<weir::test::Echo::Stub>> stubs;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    stubs.push_back(weir::test::Echo::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
  }
  return stubs;
}

// Warm-up calls (connections, weir's upstream pool, allocators), then the measured run.
Result Measure(const std::string& target, const Options& options) {
  std::vector<std::unique_ptr<weir::test::Echo::Stub>> stubs = Stubs(target, options.channels);
  if (options.warmup_calls > 0) LoadRun(stubs, options, options.warmup_calls, std::nullopt).Run();
  std::optional<Clock::time_point> until;
  if (options.calls <= 0) {
    until = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(options.duration_s * 1e6));
  }
  return LoadRun(stubs, options, options.calls, until).Run();
}

void Print(const char* name, const Result& result) {
  std::printf("%-13s %9lld calls in %6.2f s: %9.0f calls/s  p50 %7.3f ms  p99 %7.3f ms  "
              "max %7.2f ms  errors %lld%s%s\n",
              name, static_cast<long long>(result.calls), result.seconds,
              result.calls / result.seconds, result.p50_ms, result.p99_ms, result.max_ms,
              static_cast<long long>(result.errors), result.errors > 0 ? "  first: " : "",
              result.first_error.c_str());
}

// utime + stime of a process, in seconds; -1 when /proc cannot tell.
double CpuSeconds(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "grpc_load: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* flag = argv[i];
    const char* value = argv[i + 1];
    if (std::strcmp(flag, "--target") == 0) {
      options.target = value;
    } else if (std::strcmp(flag, "--concurrency") == 0) {
      options.concurrency = std::max(1, std::atoi(value));
    } else if (std::strcmp(flag, "--duration-s") == 0) {
      options.duration_s = std::atof(value);
    } else if (std::strcmp(flag, "--calls") == 0) {
      options.calls = std::atoll(value);
    } else if (std::strcmp(flag, "--bytes") == 0) {
      options.bytes = std::max(0, std::atoi(value));
    } else if (std::strcmp(flag, "--channels") == 0) {
      options.channels = std::max(1, std::atoi(value));
    } else if (std::strcmp(flag, "--weir-workers") == 0) {
      options.weir_workers = std::max(1, std::atoi(value));
    } else if (std::strcmp(flag, "--warmup-calls") == 0) {
      options.warmup_calls = std::atoll(value);
    } else {
      return Fail(absl::StrCat("unknown flag ", flag));
    }
  }
  std::printf("unary Echo, %d-byte messages, %d calls outstanding on %d connection(s), %s\n",
              options.bytes, options.concurrency, options.channels,
              options.calls > 0 ? absl::StrCat(options.calls, " calls").c_str()
                                : absl::StrCat(options.duration_s, " s").c_str());
  if (!options.target.empty()) {
    const Result result = Measure(options.target, options);
    Print(options.target.c_str(), result);
    return result.errors == 0 ? 0 : 1;
  }

  absl::StatusOr<std::unique_ptr<weir_test::EchoServer>> echo = weir_test::EchoServer::Start("v1");
  if (!echo.ok()) return Fail(echo.status().ToString());
  weir_test::StartOptions start;
  start.concurrency = options.weir_workers;
  start.log_level = "warning";
  auto proxy = weir_test::ProxyProcess::Start(
      weir_test::Substitute(kConfig, {{"ECHO_PORT", absl::StrCat((*echo)->port())}}), {}, start);
  if (!proxy.ok()) return Fail(proxy.status().ToString());
  absl::StatusOr<uint16_t> port = (*proxy)->ListenerPort("grpc");
  if (!port.ok()) return Fail(port.status().ToString());

  const Result direct = Measure((*echo)->address(), options);
  Print("direct", direct);

  // Warm up through weir first, so that the CPU measured is the run's alone.
  Options warm = options;
  warm.calls = options.warmup_calls;
  std::vector<std::unique_ptr<weir::test::Echo::Stub>> stubs = Stubs(
      absl::StrCat("127.0.0.1:", *port), options.channels);
  if (options.warmup_calls > 0) LoadRun(stubs, warm, options.warmup_calls, std::nullopt).Run();
  const double cpu_before = CpuSeconds((*proxy)->pid());
  std::optional<Clock::time_point> until;
  if (options.calls <= 0) {
    until = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(options.duration_s * 1e6));
  }
  const Result through = LoadRun(stubs, options, options.calls, until).Run();
  const double cpu_after = CpuSeconds((*proxy)->pid());
  Print("through weir", through);
  if (cpu_before >= 0 && cpu_after >= 0 && through.calls > 0) {
    const double cpu = cpu_after - cpu_before;
    std::printf("weir (%d worker%s): %.2f CPU s for %lld calls = %.1f us CPU per call; "
                "%.0f%% of one core\n",
                options.weir_workers, options.weir_workers == 1 ? "" : "s", cpu,
                static_cast<long long>(through.calls), 1e6 * cpu / through.calls,
                100.0 * cpu / through.seconds);
  }
  if (direct.calls > 0 && through.calls > 0) {
    std::printf("through weir / direct: throughput %.2fx, p50 +%.3f ms, p99 +%.3f ms\n",
                (through.calls / through.seconds) / (direct.calls / direct.seconds),
                through.p50_ms - direct.p50_ms, through.p99_ms - direct.p99_ms);
  }
  return direct.errors == 0 && through.errors == 0 ? 0 : 1;
}
