#pragma once

// EchoServer: an in-process grpc++ server of weir.test.Echo (echo.proto) on 127.0.0.1:0, for
// tests of gRPC through weir and of gRPC's xDS client. Each reply carries the backend name the
// server was started with (so does every call's trailing metadata, as "echo-backend", so that a
// failed call names its backend too); requests can ask for several replies, a final non-OK
// status, large replies, a delay before each reply, or their own metadata back. A server can
// also be told to end every call with one status (a failing version), and counts the calls that
// saw their cancellation (client reset, deadline, or a proxy resetting the stream).
//
//   absl::StatusOr<std::unique_ptr<EchoServer>> v1 = EchoServer::Start("v1");
//   auto stub = weir::test::Echo::NewStub(grpc::CreateChannel((*v1)->address(), ...));

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "grpcpp/support/status.h"

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "tests/grpc_testing/echo.grpc.pb.h"

namespace weir_test {

class EchoServer {
 public:
  // The largest request message the server accepts (gRPC's default is 4 MiB).
  static constexpr int kMaxMessageBytes = 64 << 20;

  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(const std::string& backend);
  ~EchoServer();  // ends open streams and stops
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& backend() const { return backend_; }
  uint64_t rpcs() const;  // RPCs started, of every method
  // Calls that ended because the server saw them cancelled (during a delay_ms wait, or a failed
  // write), of every method.
  uint64_t cancelled() const;
  // From now on every call ends with `status` (after its replies, as status_code would), e.g.
  // UNAVAILABLE for a version that fails; an OK status restores the requests' own outcome.
  void FailEveryCall(const grpc::Status& status);

 private:
  class Service;
  explicit EchoServer(std::string backend);

  const std::string backend_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
};

}  // namespace weir_test
