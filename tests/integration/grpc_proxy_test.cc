// gRPC through the real weir binary: a grpc++ client (h2c) to weir, and two in-process
// EchoServers "v1" and "v2" as HTTP/2 upstream clusters behind a weighted route. Covers the split
// of unary calls by weight, the four call shapes, 8 MiB messages both ways, upstream error
// statuses, deadlines (the client's, and weir's route timeout from grpc-timeout), cancellation,
// and gRPC errors made by weir when no upstream answers; every call is tallied client-side and the
// per-cluster gRPC counters (cluster.<name>.grpc.*) must equal that ledger exactly.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/grpc_testing/echo_server.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/proxy_fixture.h"

namespace weir_test {
namespace {

using weir::test::EchoReply;
using weir::test::EchoRequest;
using Clock = std::chrono::steady_clock;

// ${ROUTES} go under the one virtual host; clusters v1 and v2 speak HTTP/2 to the two
// EchoServers (one through the v3 extension options, one through the older field), "refused" is a
// closed port and "empty" has no endpoints at all.
constexpr char kConfig[] = R"(
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
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
            name: grpc_routes
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
${ROUTES}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: v1
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: v1
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${V1_PORT}}}}}]}]
  - name: v2
    connect_timeout: 1s
    http2_protocol_options: {}
    load_assignment:
      cluster_name: v2
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${V2_PORT}}}}}]}]
  - name: refused
    connect_timeout: 1s
    http2_protocol_options: {}
    load_assignment:
      cluster_name: refused
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${REFUSED_PORT}}}}}]}]
  - name: empty
    connect_timeout: 1s
    http2_protocol_options: {}
    load_assignment: {cluster_name: empty, endpoints: []}
)";

// Every Echo method to v1 80 % / v2 20 %.
constexpr char kSplitRoutes[] = R"(
              - match: {prefix: "/weir.test.Echo/"}
                route:
                  weighted_clusters:
                    clusters: [{name: v1, weight: 80}, {name: v2, weight: 20}]
)";

constexpr int kMaxMessage = 64 << 20;

// What the client saw, per backend and per final status code.
class Ledger {
 public:
  void Record(const std::string& backend, grpc::StatusCode code) {
    absl::MutexLock lock(&mutex_);
    ++calls_[backend][static_cast<int>(code)];
  }
  int Calls(const std::string& backend) const {
    absl::MutexLock lock(&mutex_);
    int total = 0;
    auto it = calls_.find(backend);
    if (it == calls_.end()) return 0;
    for (const auto& [code, count] : it->second) total += count;
    return total;
  }
  int Calls(const std::string& backend, int code) const {
    absl::MutexLock lock(&mutex_);
    auto it = calls_.find(backend);
    if (it == calls_.end()) return 0;
    auto found = it->second.find(code);
    return found == it->second.end() ? 0 : found->second;
  }
  std::map<std::string, std::map<int, int>> Snapshot() const {
    absl::MutexLock lock(&mutex_);
    return calls_;
  }

 private:
  mutable absl::Mutex mutex_;
  std::map<std::string, std::map<int, int>> calls_;
};

// The backend that ended a call: the "echo-backend" trailing metadata every EchoServer call
// carries (also on errors), "" when the call never reached one.
std::string BackendOf(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("echo-backend");
  return it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
}

void SetDeadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
}

class GrpcProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EchoServer>> v1 = EchoServer::Start("v1");
    absl::StatusOr<std::unique_ptr<EchoServer>> v2 = EchoServer::Start("v2");
    ASSERT_TRUE(v1.ok()) << v1.status();
    ASSERT_TRUE(v2.ok()) << v2.status();
    v1_ = *std::move(v1);
    v2_ = *std::move(v2);
  }

  void StartProxy(const std::string& routes, int concurrency = 2) {
    StartOptions options;
    options.concurrency = concurrency;
    auto proxy = ProxyProcess::Start(
        Substitute(kConfig, {{"ROUTES", routes},
                             {"V1_PORT", absl::StrCat(v1_->port())},
                             {"V2_PORT", absl::StrCat(v2_->port())},
                             {"REFUSED_PORT", absl::StrCat(ClosedPort())}}),
        {}, options);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    absl::StatusOr<uint16_t> port = proxy_->ListenerPort("grpc");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    channel_ = NewChannel();
    stub_ = weir::test::Echo::NewStub(channel_);
  }

  // A channel of its own (its own HTTP/2 connection to weir), with room for large messages.
  std::shared_ptr<grpc::Channel> NewChannel() {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessage);
    args.SetMaxSendMessageSize(kMaxMessage);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                     grpc::InsecureChannelCredentials(), args);
  }

  // The value of a counter or gauge, 0 when it does not exist (yet).
  uint64_t Stat(const std::string& name) {
    absl::StatusOr<uint64_t> value = proxy_->StatValue(name);
    return value.ok() ? *value : 0;
  }
  // Stats are updated after the last bytes of a call left: wait (bounded) for `expected`.
  uint64_t StatEventually(const std::string& name, uint64_t expected) {
    WaitUntil([&] { return Stat(name) == expected; }, absl::Seconds(5));
    return Stat(name);
  }

  // cluster.<backend>.grpc.{total,success,failure,<code>} against the ledger, exactly.
  void ExpectGrpcCountersMatch(const Ledger& ledger, const std::vector<std::string>& backends) {
    for (const std::string& backend : backends) {
      const std::string prefix = absl::StrCat("cluster.", backend, ".grpc.");
      const int total = ledger.Calls(backend);
      const int success = ledger.Calls(backend, 0);
      EXPECT_EQ(StatEventually(prefix + "total", total), static_cast<uint64_t>(total)) << prefix;
      EXPECT_EQ(Stat(prefix + "success"), static_cast<uint64_t>(success)) << prefix;
      EXPECT_EQ(Stat(prefix + "failure"), static_cast<uint64_t>(total - success)) << prefix;
      for (int code = 0; code <= 16; ++code) {
        EXPECT_EQ(Stat(absl::StrCat(prefix, code)),
                  static_cast<uint64_t>(ledger.Calls(backend, code)))
            << prefix << code;
      }
    }
  }

  // No request is left open in weir, upstream or downstream.
  void ExpectNothingActive() {
    EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_active", 0), 0u);
    EXPECT_EQ(StatEventually("cluster.v2.upstream_rq_active", 0), 0u);
    EXPECT_EQ(StatEventually("http.grpc.downstream_rq_active", 0), 0u);
  }

  std::unique_ptr<EchoServer> v1_;
  std::unique_ptr<EchoServer> v2_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<weir::test::Echo::Stub> stub_;
};

// 12 000 unary calls on one channel (one HTTP/2 connection, 4 callers at once) split 80/20. The
// share of v2 is binomial: sigma = sqrt(0.2 * 0.8 / 12000) = 0.365 pp, so ±1.5 pp is a 4.1-sigma
// bound (a false failure about once in 20 000 runs).
TEST_F(GrpcProxyTest, UnaryCallsSplitByWeight) {
  StartProxy(kSplitRoutes);
  constexpr int kCallers = 4;
  constexpr int kCallsEach = 3000;
  Ledger ledger;
  std::atomic<int> bad = 0;
  std::vector<std::thread> callers;
  const auto start = Clock::now();
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int i = 0; i < kCallsEach; ++i) {
        grpc::ClientContext context;
        SetDeadline(&context, std::chrono::seconds(10));
        EchoRequest request;
        request.set_message(absl::StrCat(c, "-", i));
        EchoReply reply;
        grpc::Status status = stub_->Echo(&context, request, &reply);
        if (!status.ok() || reply.message() != request.message() ||
            reply.backend() != BackendOf(context)) {
          if (bad++ < 5) {
            ADD_FAILURE() << "call " << c << "-" << i << ": " << status.error_code() << " "
                          << status.error_message() << " reply from " << reply.backend();
          }
          if (!status.ok()) ledger.Record(BackendOf(context), status.error_code());
          continue;
        }
        ledger.Record(reply.backend(), status.error_code());
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  constexpr int kCalls = kCallers * kCallsEach;
  EXPECT_EQ(bad.load(), 0);
  const int on_v1 = ledger.Calls("v1", 0);
  const int on_v2 = ledger.Calls("v2", 0);
  EXPECT_EQ(on_v1 + on_v2, kCalls);
  const double v2_share = 100.0 * on_v2 / kCalls;
  EXPECT_NEAR(v2_share, 20.0, 1.5) << "v1=" << on_v1 << " v2=" << on_v2;
  std::cout << kCalls << " unary calls in " << seconds << " s; v1=" << on_v1 << " v2=" << on_v2
            << "\n";
  // One client connection, and each EchoServer served exactly what the client saw from it.
  EXPECT_EQ(Stat("http.grpc.downstream_cx_http2_total"), 1u);
  EXPECT_EQ(v1_->rpcs(), static_cast<uint64_t>(on_v1));
  EXPECT_EQ(v2_->rpcs(), static_cast<uint64_t>(on_v2));
  ExpectGrpcCountersMatch(ledger, {"v1", "v2"});
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_200", on_v1), static_cast<uint64_t>(on_v1));
  EXPECT_EQ(StatEventually("cluster.v2.upstream_rq_200", on_v2), static_cast<uint64_t>(on_v2));
  EXPECT_EQ(Stat("http.grpc.downstream_rq_http2_total"), static_cast<uint64_t>(kCalls));
  ExpectNothingActive();
}

// A route with `grpc: {}` takes gRPC calls only; other requests to the same path fall through.
TEST_F(GrpcProxyTest, GrpcMatchRoutesOnlyGrpcCalls) {
  StartProxy(R"(
              - match: {prefix: "/weir.test.Echo/", grpc: {}}
                route:
                  weighted_clusters:
                    clusters: [{name: v1, weight: 50}, {name: v2, weight: 50}]
              - match: {prefix: "/"}
                direct_response: {status: 404, body: {inline_string: "not grpc"}}
)");
  Ledger ledger;
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext context;
    SetDeadline(&context, std::chrono::seconds(10));
    EchoRequest request;
    request.set_message(absl::StrCat(i));
    EchoReply reply;
    grpc::Status status = stub_->Echo(&context, request, &reply);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    ASSERT_EQ(reply.message(), request.message());
    ledger.Record(reply.backend(), status.error_code());
  }
  EXPECT_GT(ledger.Calls("v1"), 0);
  EXPECT_GT(ledger.Calls("v2"), 0);
  ExpectGrpcCountersMatch(ledger, {"v1", "v2"});
  // Not gRPC (HTTP/1.1, no gRPC content-type): the catch-all route answers.
  HttpResult plain = HttpGet(port_, "/weir.test.Echo/Echo");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->status, 404);
  EXPECT_EQ(plain->body, "not grpc");
  EXPECT_EQ(v1_->rpcs() + v2_->rpcs(), 200u);
}

// Server streaming (100 replies), client streaming (50 requests) and bidi streaming (writes and
// reads interleaved), 20 of each through the split; each checked message by message.
TEST_F(GrpcProxyTest, StreamingCallsOfEveryShape) {
  StartProxy(kSplitRoutes);
  Ledger ledger;
  for (int round = 0; round < 20; ++round) {
    {  // server streaming
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(10));
      EchoRequest request;
      request.set_message(absl::StrCat("server-", round));
      request.set_reply_count(100);
      std::unique_ptr<grpc::ClientReader<EchoReply>> reader =
          stub_->ServerStream(&context, request);
      EchoReply reply;
      int count = 0;
      std::string backend;
      while (reader->Read(&reply)) {
        EXPECT_EQ(reply.index(), count);
        EXPECT_EQ(reply.message(), request.message());
        if (count == 0) backend = reply.backend();
        EXPECT_EQ(reply.backend(), backend);
        ++count;
      }
      grpc::Status status = reader->Finish();
      ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
      EXPECT_EQ(count, 100);
      EXPECT_EQ(BackendOf(context), backend);
      ledger.Record(backend, status.error_code());
    }
    {  // client streaming
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(10));
      EchoReply reply;
      std::unique_ptr<grpc::ClientWriter<EchoRequest>> writer =
          stub_->ClientStream(&context, &reply);
      std::vector<std::string> sent;
      for (int i = 0; i < 50; ++i) {
        EchoRequest request;
        request.set_message(absl::StrCat("c", round, "-", i));
        sent.push_back(request.message());
        ASSERT_TRUE(writer->Write(request));
      }
      ASSERT_TRUE(writer->WritesDone());
      grpc::Status status = writer->Finish();
      ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
      EXPECT_EQ(reply.message(), absl::StrJoin(sent, ","));
      EXPECT_EQ(reply.index(), 50);
      ledger.Record(reply.backend(), status.error_code());
    }
    {  // bidi: each reply is read before the next request is written
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(10));
      std::unique_ptr<grpc::ClientReaderWriter<EchoRequest, EchoReply>> stream =
          stub_->BidiStream(&context);
      std::string backend;
      for (int i = 0; i < 50; ++i) {
        EchoRequest request;
        request.set_message(absl::StrCat("b", round, "-", i));
        ASSERT_TRUE(stream->Write(request));
        EchoReply reply;
        ASSERT_TRUE(stream->Read(&reply)) << "reply " << i;
        EXPECT_EQ(reply.index(), i);
        EXPECT_EQ(reply.message(), request.message());
        if (i == 0) backend = reply.backend();
        EXPECT_EQ(reply.backend(), backend);
      }
      ASSERT_TRUE(stream->WritesDone());
      EchoReply extra;
      EXPECT_FALSE(stream->Read(&extra));
      grpc::Status status = stream->Finish();
      ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
      ledger.Record(backend, status.error_code());
    }
  }
  EXPECT_EQ(ledger.Calls("v1") + ledger.Calls("v2"), 60);
  EXPECT_EQ(v1_->rpcs(), static_cast<uint64_t>(ledger.Calls("v1")));
  EXPECT_EQ(v2_->rpcs(), static_cast<uint64_t>(ledger.Calls("v2")));
  ExpectGrpcCountersMatch(ledger, {"v1", "v2"});
  ExpectNothingActive();
}

// 8 MiB replies, 8 MiB requests echoed back (both directions at once), and a stream of 2 MiB
// replies: far beyond every HTTP/2 flow-control window on both sides of weir.
TEST_F(GrpcProxyTest, LargeMessagesBothWays) {
  StartProxy(kSplitRoutes);
  constexpr int kBig = 8 << 20;
  // A request message of printable bytes that differ from position to position.
  std::string big(kBig, '\0');
  uint32_t state = 12345;
  for (char& c : big) {
    state = state * 1103515245u + 12345u;
    c = static_cast<char>('a' + (state >> 16) % 26);
  }
  Ledger ledger;
  for (int i = 0; i < 3; ++i) {
    {  // 8 MiB reply
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(30));
      EchoRequest request;
      request.set_message("big reply");
      request.set_reply_bytes(kBig);
      EchoReply reply;
      grpc::Status status = stub_->Echo(&context, request, &reply);
      ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
      ASSERT_EQ(reply.padding().size(), static_cast<size_t>(kBig));
      EXPECT_EQ(reply.padding().find_first_not_of('p'), std::string::npos);
      ledger.Record(reply.backend(), status.error_code());
    }
    {  // 8 MiB request, echoed back
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(30));
      EchoRequest request;
      request.set_message(big);
      EchoReply reply;
      grpc::Status status = stub_->Echo(&context, request, &reply);
      ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
      ASSERT_EQ(reply.message().size(), big.size());
      EXPECT_TRUE(reply.message() == big) << "the echoed 8 MiB differ";
      ledger.Record(reply.backend(), status.error_code());
    }
    {  // 16 replies of 2 MiB
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(30));
      EchoRequest request;
      request.set_reply_count(16);
      request.set_reply_bytes(2 << 20);
      auto reader = stub_->ServerStream(&context, request);
      EchoReply reply;
      int count = 0;
      while (reader->Read(&reply)) {
        EXPECT_EQ(reply.index(), count++);
        EXPECT_EQ(reply.padding().size(), static_cast<size_t>(2 << 20));
      }
      grpc::Status status = reader->Finish();
      ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
      EXPECT_EQ(count, 16);
      ledger.Record(reply.backend(), status.error_code());
    }
  }
  ExpectGrpcCountersMatch(ledger, {"v1", "v2"});
  ExpectNothingActive();
}

// Statuses the upstream ends calls with reach the client exactly (code and message, in trailers
// and in trailers-only responses), and the counters classify them by that status.
TEST_F(GrpcProxyTest, UpstreamErrorStatusesReachTheClientAndTheCounters) {
  StartProxy(kSplitRoutes);
  const std::vector<grpc::StatusCode> codes = {
      grpc::StatusCode::OK, grpc::StatusCode::NOT_FOUND, grpc::StatusCode::UNAVAILABLE,
      grpc::StatusCode::INTERNAL, grpc::StatusCode::PERMISSION_DENIED,
      grpc::StatusCode::RESOURCE_EXHAUSTED};
  Ledger ledger;
  for (int i = 0; i < 300; ++i) {
    const grpc::StatusCode code = codes[i % codes.size()];
    const std::string message = absl::StrCat("status ", static_cast<int>(code), " for call ", i);
    grpc::ClientContext context;
    SetDeadline(&context, std::chrono::seconds(10));
    grpc::Status status;
    if (i % 2 == 0) {  // unary: a trailers-only response for errors
      EchoRequest request;
      request.set_status_code(code);
      request.set_status_message(message);
      EchoReply reply;
      status = stub_->Echo(&context, request, &reply);
    } else {  // after 3 replies: the status in real trailers
      EchoRequest request;
      request.set_reply_count(3);
      request.set_status_code(code);
      request.set_status_message(message);
      auto reader = stub_->ServerStream(&context, request);
      EchoReply reply;
      int count = 0;
      while (reader->Read(&reply)) ++count;
      EXPECT_EQ(count, 3);
      status = reader->Finish();
    }
    EXPECT_EQ(status.error_code(), code) << "call " << i << ": " << status.error_message();
    if (code != grpc::StatusCode::OK) {
      EXPECT_EQ(status.error_message(), message);
    }
    const std::string backend = BackendOf(context);
    ASSERT_TRUE(backend == "v1" || backend == "v2") << "call " << i << ": '" << backend << "'";
    ledger.Record(backend, status.error_code());
  }
  EXPECT_GT(ledger.Calls("v1", grpc::StatusCode::UNAVAILABLE), 0);
  EXPECT_GT(ledger.Calls("v2", grpc::StatusCode::NOT_FOUND), 0);
  ExpectGrpcCountersMatch(ledger, {"v1", "v2"});
  // HTTP says 200 for all of them: a gRPC error is not an HTTP error.
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_200", ledger.Calls("v1")),
            static_cast<uint64_t>(ledger.Calls("v1")));
  EXPECT_EQ(StatEventually("cluster.v2.upstream_rq_200", ledger.Calls("v2")),
            static_cast<uint64_t>(ledger.Calls("v2")));
}

// A version that fails every call (UNAVAILABLE from the upstream) is visible in its counters,
// while the other version's calls all succeed.
TEST_F(GrpcProxyTest, FailingVersionShowsInItsCounters) {
  v2_->FailEveryCall(grpc::Status(grpc::StatusCode::UNAVAILABLE, "v2 is broken"));
  StartProxy(kSplitRoutes);
  Ledger ledger;
  for (int i = 0; i < 1000; ++i) {
    grpc::ClientContext context;
    SetDeadline(&context, std::chrono::seconds(10));
    EchoRequest request;
    request.set_message(absl::StrCat(i));
    EchoReply reply;
    grpc::Status status = stub_->Echo(&context, request, &reply);
    const std::string backend = BackendOf(context);
    if (backend == "v2") {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_EQ(status.error_message(), "v2 is broken");
    } else {
      EXPECT_EQ(backend, "v1");
      EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    }
    ledger.Record(backend, status.error_code());
  }
  const int on_v2 = ledger.Calls("v2");
  ASSERT_GT(on_v2, 100);  // 200 expected; 100 is 7.9 sigma below
  EXPECT_EQ(ledger.Calls("v2", grpc::StatusCode::UNAVAILABLE), on_v2);
  EXPECT_EQ(StatEventually("cluster.v2.grpc.failure", on_v2), static_cast<uint64_t>(on_v2));
  EXPECT_EQ(Stat("cluster.v2.grpc.14"), static_cast<uint64_t>(on_v2));
  EXPECT_EQ(Stat("cluster.v2.grpc.success"), 0u);
  EXPECT_EQ(StatEventually("cluster.v1.grpc.success", 1000 - on_v2),
            static_cast<uint64_t>(1000 - on_v2));
  EXPECT_EQ(Stat("cluster.v1.grpc.failure"), 0u);
  ExpectGrpcCountersMatch(ledger, {"v1", "v2"});
}

// The client's deadline is shorter than the upstream's delay: DEADLINE_EXCEEDED in time, the
// upstream call ends long before its delay would have, and weir keeps nothing open.
TEST_F(GrpcProxyTest, ClientDeadlineShorterThanSlowUpstream) {
  StartProxy(R"(
              - match: {prefix: "/weir.test.Echo/"}
                route: {cluster: v1}
)");
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::milliseconds(300));
  EchoRequest request;
  request.set_delay_ms(5000);
  EchoReply reply;
  const auto start = Clock::now();
  grpc::Status status = stub_->Echo(&context, request, &reply);
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
  EXPECT_TRUE(WaitUntil([&] { return v1_->cancelled() == 1; }, absl::Seconds(2)))
      << "the upstream call was not cancelled";
  EXPECT_EQ(v1_->rpcs(), 1u);
  ExpectNothingActive();

  // grpc-timeout caps weir's route timeout (15 s by default): the upstream is told the capped
  // value in x-envoy-expected-rq-timeout-ms.
  grpc::ClientContext capped;
  SetDeadline(&capped, std::chrono::milliseconds(2000));
  request.set_delay_ms(0);
  request.set_echo_headers(true);
  status = stub_->Echo(&capped, request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  ASSERT_EQ(reply.request_headers().count("x-envoy-expected-rq-timeout-ms"), 1u);
  int expected_ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(reply.request_headers().at("x-envoy-expected-rq-timeout-ms"),
                               &expected_ms));
  // gRPC rounds the remaining time up a little when it encodes grpc-timeout.
  EXPECT_LE(expected_ms, 2100);
  EXPECT_GT(expected_ms, 1000);
  grpc::ClientContext uncapped;
  SetDeadline(&uncapped, std::chrono::seconds(60));
  status = stub_->Echo(&uncapped, request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(reply.request_headers().at("x-envoy-expected-rq-timeout-ms"), "15000");
}

// weir's own timeout from grpc-timeout (capped at 300 ms by max_stream_duration) fires while
// the client would still wait 10 s: weir answers DEADLINE_EXCEEDED itself, resets the upstream
// stream, and counts a timeout and a gRPC status 4 for the cluster.
TEST_F(GrpcProxyTest, WeirTimesOutTheCallFromGrpcTimeout) {
  StartProxy(R"(
              - match: {prefix: "/weir.test.Echo/"}
                route:
                  cluster: v1
                  max_stream_duration: {grpc_timeout_header_max: 0.3s}
)");
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(10));
  EchoRequest request;
  request.set_delay_ms(5000);
  EchoReply reply;
  const auto start = Clock::now();
  grpc::Status status = stub_->Echo(&context, request, &reply);
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(status.error_message(), "upstream request timeout");
  EXPECT_GE(elapsed, std::chrono::milliseconds(290));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
  EXPECT_TRUE(WaitUntil([&] { return v1_->cancelled() == 1; }, absl::Seconds(2)))
      << "weir did not reset the upstream stream";
  EXPECT_EQ(StatEventually("cluster.v1.upstream_rq_timeout", 1), 1u);
  EXPECT_EQ(StatEventually("cluster.v1.grpc.4", 1), 1u);
  EXPECT_EQ(Stat("cluster.v1.grpc.failure"), 1u);
  EXPECT_EQ(Stat("cluster.v1.grpc.total"), 1u);
  ExpectNothingActive();

  // The connection and the upstream still serve the next call.
  grpc::ClientContext next;
  SetDeadline(&next, std::chrono::seconds(10));
  request.set_delay_ms(0);
  status = stub_->Echo(&next, request, &reply);
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
}

// The client cancels server-streaming calls mid-stream, one waiting on the upstream's delay and
// one whose upstream is blocked on flow control: weir resets the upstream stream both times,
// counts the client's resets, and leaves nothing open; the connection serves the next call.
TEST_F(GrpcProxyTest, ClientCancellationResetsTheUpstream) {
  StartProxy(R"(
              - match: {prefix: "/weir.test.Echo/"}
                route: {cluster: v1}
)");
  struct Case {
    int delay_ms;
    int reply_bytes;
  };
  int cancelled = 0;
  for (const Case& c : {Case{5, 0}, Case{0, 64 << 10}}) {
    grpc::ClientContext context;
    SetDeadline(&context, std::chrono::seconds(30));
    EchoRequest request;
    request.set_reply_count(100000);
    request.set_delay_ms(c.delay_ms);
    request.set_reply_bytes(c.reply_bytes);
    auto reader = stub_->ServerStream(&context, request);
    EchoReply reply;
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(reader->Read(&reply));
      EXPECT_EQ(reply.index(), i);
    }
    if (c.reply_bytes > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    context.TryCancel();
    while (reader->Read(&reply)) {
    }
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
    ++cancelled;
    EXPECT_TRUE(WaitUntil([&] { return v1_->cancelled() == static_cast<uint64_t>(cancelled); },
                          absl::Seconds(3)))
        << "the upstream call was not cancelled (delay " << c.delay_ms << ")";
    EXPECT_EQ(StatEventually("http.grpc.downstream_rq_rx_reset", cancelled),
              static_cast<uint64_t>(cancelled));
    ExpectNothingActive();
  }
  // A call the client cancelled has no final status: no gRPC counter counts it.
  EXPECT_EQ(Stat("cluster.v1.grpc.total"), 0u);
  grpc::ClientContext next;
  SetDeadline(&next, std::chrono::seconds(10));
  EchoRequest request;
  request.set_message("after");
  EchoReply reply;
  grpc::Status status = stub_->Echo(&next, request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(reply.message(), "after");
  EXPECT_EQ(StatEventually("cluster.v1.grpc.success", 1), 1u);
  EXPECT_EQ(Stat("http.grpc.downstream_cx_http2_total"), 1u);
}

// No upstream answers: weir's own gRPC errors (HTTP 200 with grpc-status 14 and Envoy's text as
// grpc-message; an HTTP 503 would reach the client as UNAVAILABLE with another message), counted
// per cluster.
TEST_F(GrpcProxyTest, NoHealthyUpstreamIsUnavailable) {
  StartProxy(R"(
              - match: {prefix: "/weir.test.Echo/Echo"}
                route: {cluster: refused}
              - match: {prefix: "/weir.test.Echo/ServerStream"}
                route: {cluster: empty}
)");
  constexpr int kCalls = 20;
  for (int i = 0; i < kCalls; ++i) {
    {
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(10));
      EchoRequest request;
      EchoReply reply;
      grpc::Status status = stub_->Echo(&context, request, &reply);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_EQ(status.error_message(),
                "upstream connect error or disconnect/reset before headers. reset reason: "
                "connection failure");
    }
    {
      grpc::ClientContext context;
      SetDeadline(&context, std::chrono::seconds(10));
      EchoRequest request;
      auto reader = stub_->ServerStream(&context, request);
      EchoReply reply;
      EXPECT_FALSE(reader->Read(&reply));
      grpc::Status status = reader->Finish();
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_EQ(status.error_message(), "no healthy upstream");
    }
  }
  for (const char* cluster : {"refused", "empty"}) {
    const std::string prefix = absl::StrCat("cluster.", cluster, ".grpc.");
    EXPECT_EQ(StatEventually(prefix + "total", kCalls), static_cast<uint64_t>(kCalls)) << cluster;
    EXPECT_EQ(Stat(prefix + "failure"), static_cast<uint64_t>(kCalls)) << cluster;
    EXPECT_EQ(Stat(prefix + "14"), static_cast<uint64_t>(kCalls)) << cluster;
    EXPECT_EQ(Stat(prefix + "success"), 0u) << cluster;
    EXPECT_EQ(Stat(absl::StrCat("cluster.", cluster, ".upstream_rq_503")),
              static_cast<uint64_t>(kCalls))
        << cluster;
  }
  EXPECT_EQ(Stat("cluster.refused.upstream_cx_connect_fail"), static_cast<uint64_t>(kCalls));
  EXPECT_EQ(Stat("cluster.empty.upstream_cx_none_healthy"), static_cast<uint64_t>(kCalls));
  EXPECT_EQ(Stat("http.grpc.downstream_rq_2xx"), static_cast<uint64_t>(2 * kCalls));
  EXPECT_EQ(v1_->rpcs() + v2_->rpcs(), 0u);
}

}  // namespace
}  // namespace weir_test
