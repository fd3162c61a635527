#pragma once

// EchoServer: an in-process grpc++ server of weir.test.Echo (echo.proto) on 127.0.0.1:0, for
// tests of gRPC through weir and of gRPC's xDS client. Each reply carries the backend name the
// server was started with; requests can ask for several replies, a final non-OK status, large
// replies or their own metadata back.
//
//   absl::StatusOr<std::unique_ptr<EchoServer>> v1 = EchoServer::Start("v1");
//   auto stub = weir::test::Echo::NewStub(grpc::CreateChannel((*v1)->address(), ...));

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "tests/grpc_testing/echo.grpc.pb.h"

namespace weir_test {

class EchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(const std::string& backend);
  ~EchoServer();  // ends open streams and stops
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& backend() const { return backend_; }
  uint64_t rpcs() const;  // RPCs started, of every method

 private:
  class Service;
  explicit EchoServer(std::string backend);

  const std::string backend_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
};

}  // namespace weir_test
