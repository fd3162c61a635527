#include "tests/grpc_testing/echo_server.h"

#include <chrono>
#include <mutex>
#include <thread>
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
    Begin(context);
    if (!Delay(*context, *request)) return Cancelled();
    Fill(*context, *request, 0, reply);
    return Outcome(*request);
  }

  grpc::Status ServerStream(grpc::ServerContext* context, const EchoRequest* request,
                            grpc::ServerWriter<EchoReply>* writer) override {
    Begin(context);
    const int count = request->reply_count() > 0 ? request->reply_count() : 1;
    for (int i = 0; i < count; ++i) {
      if (!Delay(*context, *request)) return Cancelled();
      EchoReply reply;
      Fill(*context, *request, i, &reply);
      if (!writer->Write(reply)) return Cancelled();
    }
    return Outcome(*request);
  }

  grpc::Status ClientStream(grpc::ServerContext* context,
                            grpc::ServerReader<EchoRequest>* reader, EchoReply* reply) override {
    Begin(context);
    EchoRequest request, last;
    std::vector<std::string> messages;
    while (reader->Read(&request)) {
      messages.push_back(request.message());
      last = request;
    }
    if (context->IsCancelled() || !Delay(*context, last)) return Cancelled();
    Fill(*context, last, static_cast<int>(messages.size()), reply);
    reply->set_message(absl::StrJoin(messages, ","));
    return Outcome(last);
  }

  grpc::Status BidiStream(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<EchoReply, EchoRequest>* stream) override {
    Begin(context);
    EchoRequest request;
    for (int i = 0; stream->Read(&request); ++i) {
      if (request.status_code() != 0) return Outcome(request);
      if (!Delay(*context, request)) return Cancelled();
      EchoReply reply;
      Fill(*context, request, i, &reply);
      if (!stream->Write(reply)) return Cancelled();
    }
    if (context->IsCancelled()) return Cancelled();
    return Outcome(EchoRequest());
  }

  uint64_t rpcs() const { return rpcs_.load(); }
  uint64_t cancelled() const { return cancelled_.load(); }
  void FailEveryCall(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    forced_ = status;
  }

 private:
  // Counts the call, and names the backend in its trailing metadata too, so that a client can
  // tell who ended a call with an error.
  void Begin(grpc::ServerContext* context) {
    ++rpcs_;
    context->AddTrailingMetadata("echo-backend", backend_);
  }

  // Waits request.delay_ms in small steps; false as soon as the call is cancelled.
  static bool Delay(grpc::ServerContext& context, const EchoRequest& request) {
    if (request.delay_ms() <= 0) return true;
    const auto end =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(request.delay_ms());
    while (std::chrono::steady_clock::now() < end) {
      if (context.IsCancelled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return !context.IsCancelled();
  }

  grpc::Status Cancelled() {
    ++cancelled_;
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }

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

  grpc::Status Outcome(const EchoRequest& request) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!forced_.ok()) return forced_;
    }
    if (request.status_code() == 0) return grpc::Status::OK;
    return grpc::Status(static_cast<grpc::StatusCode>(request.status_code()),
                        request.status_message());
  }

  const std::string backend_;
  std::atomic<uint64_t> rpcs_ = 0;
  std::atomic<uint64_t> cancelled_ = 0;
  std::mutex mutex_;
  grpc::Status forced_;  // OK: each request's own outcome
};

EchoServer::EchoServer(std::string backend)
    : backend_(std::move(backend)), service_(std::make_unique<Service>(backend_)) {}

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(const std::string& backend) {
  std::unique_ptr<EchoServer> server(new EchoServer(backend));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
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

uint64_t EchoServer::cancelled() const { return service_->cancelled(); }

void EchoServer::FailEveryCall(const grpc::Status& status) { service_->FailEveryCall(status); }

}  // namespace weir_test
