#include "tests/integration/harness/scripted_ads_server.h"

#include "absl/strings/str_cat.h"

namespace weir_test {

namespace discovery = envoy::service::discovery::v3;

class ScriptedAdsServer::Service final : public discovery::AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    {
      absl::MutexLock lock(&mu_);
      // A newer stream replaces an older one (weir reconnected).
      if (context_ != nullptr) context_->TryCancel();
      context_ = context;
      stream_ = stream;
      ++streams_;
      close_status_ = grpc::Status::OK;
    }
    DiscoveryRequest request;
    while (stream->Read(&request)) {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
    }
    absl::MutexLock lock(&mu_);
    // Wait until no Send() is using the stream, then forget it.
    mu_.Await(absl::Condition(
        +[](int* writers) { return *writers == 0; }, &writers_));
    if (stream_ == stream) {
      stream_ = nullptr;
      context_ = nullptr;
    }
    return close_status_;
  }

  absl::StatusOr<DiscoveryRequest> Next(const std::string& type_url, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      for (auto it = requests_.begin(); it != requests_.end(); ++it) {
        if (!type_url.empty() && it->type_url() != type_url) continue;
        DiscoveryRequest request = std::move(*it);
        requests_.erase(it);
        return request;
      }
      const size_t seen = requests_.size();
      struct Grown {
        const std::deque<DiscoveryRequest>* queue;
        size_t seen;
      } grown{&requests_, seen};
      if (mu_.AwaitWithDeadline(
              absl::Condition(+[](Grown* g) { return g->queue->size() > g->seen; }, &grown),
              deadline)) {
        continue;
      }
      return absl::DeadlineExceededError(
          absl::StrCat("no ", type_url.empty() ? "" : type_url + " ", "request within ",
                       absl::FormatDuration(timeout)));
    }
  }

  absl::StatusOr<std::string> Send(DiscoveryResponse response) {
    grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream;
    {
      absl::MutexLock lock(&mu_);
      if (stream_ == nullptr) return absl::FailedPreconditionError("no stream is open");
      if (response.nonce().empty()) response.set_nonce(absl::StrCat("n", ++nonces_));
      stream = stream_;
      ++writers_;
    }
    const bool ok = stream->Write(response);
    absl::MutexLock lock(&mu_);
    --writers_;
    if (!ok) return absl::UnavailableError("the stream is closed");
    return response.nonce();
  }

  void Close(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    if (context_ == nullptr) return;
    close_status_ = std::move(status);
    context_->TryCancel();
  }

  int streams() const {
    absl::MutexLock lock(&mu_);
    return streams_;
  }

  bool WaitForStream(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>** s) {
              return *s != nullptr;
            },
            &stream_),
        timeout);
  }

  void CancelAll() {
    absl::MutexLock lock(&mu_);
    if (context_ != nullptr) context_->TryCancel();
  }

 private:
  mutable absl::Mutex mu_;
  grpc::ServerContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream_ ABSL_GUARDED_BY(mu_) =
      nullptr;
  std::deque<DiscoveryRequest> requests_ ABSL_GUARDED_BY(mu_);
  grpc::Status close_status_ ABSL_GUARDED_BY(mu_);
  int writers_ ABSL_GUARDED_BY(mu_) = 0;
  int streams_ ABSL_GUARDED_BY(mu_) = 0;
  int nonces_ ABSL_GUARDED_BY(mu_) = 0;
};

absl::StatusOr<std::unique_ptr<ScriptedAdsServer>> ScriptedAdsServer::Start(uint16_t port) {
  std::unique_ptr<ScriptedAdsServer> server(new ScriptedAdsServer());
  server->service_ = std::make_unique<Service>();
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.SetMaxReceiveMessageSize(512 << 20);
  builder.SetMaxSendMessageSize(512 << 20);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || bound == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on 127.0.0.1:", port));
  }
  server->port_ = static_cast<uint16_t>(bound);
  return server;
}

ScriptedAdsServer::~ScriptedAdsServer() {
  if (server_ == nullptr) return;
  service_->CancelAll();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
}

absl::StatusOr<DiscoveryRequest> ScriptedAdsServer::NextRequest(absl::Duration timeout) {
  return service_->Next("", timeout);
}

absl::StatusOr<DiscoveryRequest> ScriptedAdsServer::NextRequestFor(const std::string& type_url,
                                                                   absl::Duration timeout) {
  return service_->Next(type_url, timeout);
}

absl::StatusOr<std::string> ScriptedAdsServer::Send(DiscoveryResponse response) {
  return service_->Send(std::move(response));
}

void ScriptedAdsServer::CloseStream(grpc::Status status) { service_->Close(std::move(status)); }

int ScriptedAdsServer::streams() const { return service_->streams(); }

bool ScriptedAdsServer::WaitForStream(absl::Duration timeout) {
  return service_->WaitForStream(timeout);
}

DiscoveryResponse MakeResponse(const std::string& type_url, const std::string& version,
                               const std::vector<std::string>& serialized_resources) {
  DiscoveryResponse response;
  response.set_type_url(type_url);
  response.set_version_info(version);
  for (const std::string& resource : serialized_resources) {
    auto* any = response.add_resources();
    any->set_type_url(type_url);
    any->set_value(resource);
  }
  return response;
}

}  // namespace weir_test
