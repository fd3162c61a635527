#include "tests/grpc_testing/echo_server.h"

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace weir_test {

using weir::test::EchoReply;
using weir::test::EchoRequest;

class EchoServer::Service final : public weir::test::Echo::Service {
 public:
  explicit Service(std::string backend) : backend_(std::move(backend)) {}

  grpc::Status Echo(grpc::ServerContext* context, const EchoRequest* request,
                    EchoReply* reply) override {
    ++rpcs_;
    Fill(*context, *request, 0, reply);
    return Outcome(*request);
  }

  grpc::Status ServerStream(grpc::ServerContext* context, const EchoRequest* request,
                            grpc::ServerWriter<EchoReply>* writer) override {
    ++rpcs_;
    const int count = request->reply_count() > 0 ? request->reply_count() : 1;
    for (int i = 0; i < count; ++i) {
      EchoReply reply;
      Fill(*context, *request, i, &reply);
      if (!writer->Write(reply)) return grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
    }
    return Outcome(*request);
  }

  grpc::Status ClientStream(grpc::ServerContext* context,
                            grpc::ServerReader<EchoRequest>* reader, EchoReply* reply) override {
    ++rpcs_;
    EchoRequest request, last;
    std::vector<std::string> messages;
    while (reader->Read(&request)) {
      messages.push_back(request.message());
      last = request;
    }
    Fill(*context, last, static_cast<int>(messages.size()), reply);
    reply->set_message(absl::StrJoin(messages, ","));
    return Outcome(last);
  }

  grpc::Status BidiStream(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<EchoReply, EchoRequest>* stream) override {
    ++rpcs_;
    EchoRequest request;
    for (int i = 0; stream->Read(&request); ++i) {
      if (request.status_code() != 0) return Outcome(request);
      EchoReply reply;
      Fill(*context, request, i, &reply);
      if (!stream->Write(reply)) return grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
    }
    return grpc::Status::OK;
  }

  uint64_t rpcs() const { return rpcs_.load(); }

 private:
  void Fill(const grpc::ServerContext& context, const EchoRequest& request, int index,
            EchoReply* reply) const {
    reply->set_message(request.message());
    reply->set_backend(backend_);
    reply->set_index(index);
    if (request.reply_bytes() > 0) reply->set_padding(std::string(request.reply_bytes(), 'p'));
    if (request.echo_headers()) {
      for (const auto& [key, value] : context.client_metadata()) {
        (*reply->mutable_request_headers())[std::string(key.data(), key.size())] =
            std::string(value.data(), value.size());
      }
    }
  }

  static grpc::Status Outcome(const EchoRequest& request) {
    if (request.status_code() == 0) return grpc::Status::OK;
    return grpc::Status(static_cast<grpc::StatusCode>(request.status_code()),
                        request.status_message());
  }

  const std::string backend_;
  std::atomic<uint64_t> rpcs_ = 0;
};

EchoServer::EchoServer(std::string backend)
    : backend_(std::move(backend)), service_(std::make_unique<Service>(backend_)) {}

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(const std::string& backend) {
  std::unique_ptr<EchoServer> server(new EchoServer(backend));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("echo server \"", backend, "\": cannot listen"));
  }
  server->port_ = static_cast<uint16_t>(port);
  return server;
}

EchoServer::~EchoServer() {
  // Streams still open are cancelled at once.
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
}

uint64_t EchoServer::rpcs() const { return service_->rpcs(); }

}  // namespace weir_test
