#include "xds/server/ads_service.h"

#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "spdlog/spdlog.h"
#include "xds/server/ads_stream_state.h"

namespace xds::server {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using RequestKind = AdsStreamState::RequestKind;

// One ADS stream. It owns itself through `self_` until gRPC calls OnDone; the cache's
// notifications hold only a weak_ptr, so a push racing with the end of the stream is harmless.
// gRPC operations are started outside `mu_`, which only guards our own state.
class AdsService::Stream final
    : public grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse> {
 public:
  static Stream* Start(AdsService* service, std::string peer) {
    std::shared_ptr<Stream> stream(new Stream(service, std::move(peer)));
    stream->self_ = stream;
    stream->StartRead(&stream->request_);
    return stream.get();
  }

  void OnReadDone(bool ok) override {
    bool read_more = false;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        RequestFinishLocked(grpc::Status::OK);  // the client half-closed or went away
      } else if (absl::StatusOr<AdsStreamState::Request> request = state_.OnRequest(request_);
                 !request.ok()) {
        spdlog::warn("xds: stream from {} rejected: {}", peer_,
                     std::string(request.status().message()));
        RequestFinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                         std::string(request.status().message())));
      } else {
        if (stream_id_ == 0) RegisterLocked();
        LogAndRecordLocked(*request);
        QueueResponsesLocked();
        read_more = !finish_wanted_;
      }
    }
    Pump();
    if (read_more) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      queue_.pop_front();
      if (!ok) RequestFinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    }
    Pump();
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      if (stream_id_ != 0) {
        cache_->CloseStream(node_id_, stream_id_);
        spdlog::info("xds: node \"{}\" disconnected ({})", node_id_, peer_);
      }
    }
    std::shared_ptr<Stream> last = std::move(self_);  // may delete this on return
    absl::MutexLock lock(&service_->mu_);
    --service_->active_streams_;
  }

 private:
  Stream(AdsService* service, std::string peer)
      : service_(service), cache_(service->cache_), peer_(std::move(peer)) {}

  void RegisterLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    node_id_ = state_.node().id();
    std::weak_ptr<Stream> weak = self_;
    SnapshotCache::Registration registration = cache_->OpenStream(
        node_id_, [weak](uint64_t generation, std::shared_ptr<const Snapshot> snapshot) {
          if (std::shared_ptr<Stream> stream = weak.lock()) {
            stream->OnSnapshot(generation, std::move(snapshot));
          }
        });
    stream_id_ = registration.stream_id;
    generation_ = registration.generation;
    snapshot_ = std::move(registration.snapshot);
    spdlog::info("xds: node \"{}\" (cluster \"{}\") connected from {}", node_id_,
                 state_.node().cluster(), peer_);
  }

  void OnSnapshot(uint64_t generation, std::shared_ptr<const Snapshot> snapshot) {
    {
      absl::MutexLock lock(&mu_);
      // Notifications may arrive out of order; an older one must not undo a newer one.
      if (finish_wanted_ || generation <= generation_) return;
      generation_ = generation;
      snapshot_ = std::move(snapshot);
      QueueResponsesLocked();
    }
    Pump();
  }

  void LogAndRecordLocked(const AdsStreamState::Request& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    switch (request.kind) {
      case RequestKind::kSubscribe:
        spdlog::info("xds: node \"{}\" subscribes to {} [{}]", node_id_, request.type_url,
                     absl::StrJoin(request_.resource_names(), ", "));
        break;
      case RequestKind::kAck:
        spdlog::info("xds: node \"{}\" ACK {} version \"{}\"", node_id_, request.type_url,
                     request.version);
        cache_->RecordAck(node_id_, request.type_url, request.version);
        break;
      case RequestKind::kNack:
        spdlog::warn("xds: node \"{}\" NACK {} version \"{}\": {}", node_id_, request.type_url,
                     request.version, request.error_detail);
        cache_->RecordNack(node_id_, request.type_url, request.version, request.error_detail);
        break;
      case RequestKind::kStale:
        spdlog::debug("xds: node \"{}\" {}: ignoring a request with stale nonce \"{}\"", node_id_,
                      request.type_url, request_.response_nonce());
        break;
      case RequestKind::kUnknownType:
        spdlog::info("xds: node \"{}\" subscribes to {}, which this server does not serve",
                     node_id_, request.type_url);
        break;
    }
  }

  void QueueResponsesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (DiscoveryResponse& response : state_.TakeResponses(snapshot_.get())) {
      cache_->RecordResponse(node_id_, response.type_url(), response.version_info(),
                             response.nonce());
      spdlog::debug("xds: node \"{}\" <- {} version \"{}\" ({} resources, nonce {})", node_id_,
                    response.type_url(), response.version_info(), response.resources_size(),
                    response.nonce());
      queue_.push_back(std::move(response));
    }
  }

  void RequestFinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finish_wanted_) return;
    finish_wanted_ = true;
    finish_status_ = std::move(status);
  }

  // Starts the next write, or finishes once no write is in flight.
  void Pump() {
    const DiscoveryResponse* write = nullptr;
    bool finish = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || writing_) return;
      if (finish_wanted_) {
        finished_ = finish = true;
        status = finish_status_;
      } else if (!queue_.empty()) {
        writing_ = true;
        write = &queue_.front();  // deque: stays put while later responses are queued
      }
    }
    if (write != nullptr) StartWrite(write);
    if (finish) Finish(std::move(status));
  }

  AdsService* const service_;
  SnapshotCache* const cache_;
  const std::string peer_;
  DiscoveryRequest request_;         // one read in flight; read only by OnReadDone
  std::shared_ptr<Stream> self_;  // released by OnDone

  absl::Mutex mu_;
  AdsStreamState state_ ABSL_GUARDED_BY(mu_);
  std::string node_id_ ABSL_GUARDED_BY(mu_);
  uint64_t stream_id_ ABSL_GUARDED_BY(mu_) = 0;  // 0 until registered with the cache
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  std::deque<DiscoveryResponse> queue_ ABSL_GUARDED_BY(mu_);  // front is in flight if writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>*
AdsService::StreamAggregatedResources(grpc::CallbackServerContext* context) {
  {
    absl::MutexLock lock(&mu_);
    ++active_streams_;
  }
  return Stream::Start(this, context->peer());
}

void AdsService::WaitForStreamsDone() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(+[](int* active) { return *active == 0; }, &active_streams_));
}

}  // namespace xds::server
