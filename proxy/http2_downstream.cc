#include "proxy/http2_downstream.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/write.hpp"
#include "proxy/draining_read.h"
#include "proxy/http2/header_translation.h"
#include "proxy/request_router.h"
#include "proxy/socket_write.h"
#include "proxy/stream_proxy.h"
#include "proxy/worker.h"

namespace proxy {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// How long a closing connection may take to write its last frames (GOAWAY).
constexpr auto kFlushTimeout = std::chrono::seconds(1);

int64_t ElapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

}  // namespace

// One request stream: what the session delivered for it, and its side of DownstreamStream.
class Http2DownstreamConnection::Stream : public DownstreamStream {
 public:
  Stream(Http2DownstreamConnection* connection, int32_t id, Executor executor)
      : connection_(connection), id_(id), data_ready_(executor), writable_(executor) {}

  int32_t id() const { return id_; }

  // The request head, copied out of the session's callback.
  std::string method;
  std::string scheme;
  std::string authority;
  std::string path;
  http::HeaderMap headers;
  // END_STREAM came on the HEADERS frame: the request has no body.
  bool bodyless = false;

  // --- Session events (the connection calls these). ---
  void AddData(absl::string_view data, bool end) {
    pending_.append(data.data(), data.size());
    end_received_ = end_received_ || end;
    data_ready_.Notify();
  }
  void SetTrailers(const http::HeaderMap& trailers) {
    trailers_ = trailers;
    has_trailers_ = true;
    end_received_ = true;
    data_ready_.Notify();
  }
  void OnClosed() {
    closed_ = true;
    end_received_ = true;
    data_ready_.Notify();
    writable_.Notify();
  }
  void OnReset() {
    reset_ = true;
    data_ready_.Notify();
    writable_.Notify();
    if (on_client_reset) on_client_reset();
  }
  void OnWritable() { writable_.Notify(); }
  bool done() const { return closed_ || reset_; }
  bool response_ended() const { return response_ended_; }

  // --- DownstreamStream. ---
  Task<Body> ReadBody() override {
    if (delivered_bytes_ > 0) {
      // The previous piece went upstream: reopen the client's window for it.
      if (!done()) connection_->session_.ConsumeStreamData(id_, delivered_bytes_);
      connection_->Flush();
      delivered_bytes_ = 0;
    }
    while (true) {
      if (cancelled_ || reset_) co_return Body{.failed = true};
      if (!pending_.empty()) {
        delivered_.swap(pending_);
        pending_.clear();
        delivered_bytes_ = delivered_.size();
        co_return Body{.data = delivered_, .end = end_received_ && !has_trailers_};
      }
      if (has_trailers_ && !trailers_delivered_) {
        trailers_delivered_ = true;
        co_return Body{.end = true, .trailers = &trailers_};
      }
      if (end_received_) co_return Body{.end = true};
      co_await data_ready_.Wait();
    }
  }

  Task<bool> SendHeaders(int status, const http::HeaderMap& headers, bool end_stream) override {
    co_return *SendHeadersNow(status, headers, end_stream);
  }

  std::optional<bool> SendHeadersNow(int status, const http::HeaderMap& headers,
                                     bool end_stream) override {
    if (cancelled_ || done()) return false;
    HttpStats& http = *connection_->listener_->http;
    http.codes.Charge(status);
    connection_->listener_->listener->http_codes.Charge(status);
    const bool ok =
        connection_->session_.SubmitResponse(id_, {.status = status, .headers = &headers},
                                             end_stream);
    connection_->Flush();
    response_ended_ = response_ended_ || (ok && end_stream);
    return ok;
  }

  Task<bool> SendData(absl::string_view data, bool end_stream) override {
    const http2::SendResult result = SubmitBody(data, end_stream);
    if (result == http2::SendResult::kClosed) co_return false;
    if (result == http2::SendResult::kBufferFull) {
      // Queued: the producer (the upstream) waits until the client's window lets it drain.
      co_await writable_.Wait();
    }
    co_return !cancelled_ && !reset_;
  }

  std::optional<bool> SendDataNow(absl::string_view data, bool end_stream) override {
    if (!connection_->session_.StreamSendHasRoom(id_, data.size())) return std::nullopt;
    if (SubmitBody(data, end_stream) == http2::SendResult::kClosed) return false;
    return !cancelled_ && !reset_;
  }

  Task<bool> SendTrailers(const http::HeaderMap& trailers) override {
    co_return *SendTrailersNow(trailers);
  }

  std::optional<bool> SendTrailersNow(const http::HeaderMap& trailers) override {
    if (cancelled_ || done()) return false;
    const bool ok = connection_->session_.SubmitTrailers(id_, trailers);
    connection_->Flush();
    response_ended_ = response_ended_ || ok;
    return ok;
  }

  void Reset() override {
    if (done()) return;
    connection_->session_.ResetStream(id_, http2::ErrorCode::kInternalError);
    connection_->Flush();
  }

  void Cancel() override {
    cancelled_ = true;
    data_ready_.Notify();
    writable_.Notify();
  }

 private:
  // Queues response body bytes (kClosed if the stream cannot take them) and schedules the flush.
  http2::SendResult SubmitBody(absl::string_view data, bool end_stream) {
    if (cancelled_ || done()) return http2::SendResult::kClosed;
    const http2::SendResult result = connection_->session_.SubmitData(id_, data, end_stream);
    connection_->Flush();
    if (result != http2::SendResult::kClosed && end_stream) response_ended_ = true;
    return result;
  }

  Http2DownstreamConnection* connection_;
  const int32_t id_;
  AsyncEvent data_ready_;
  AsyncEvent writable_;
  std::string pending_;    // received, not yet read
  std::string delivered_;  // the piece the last ReadBody() returned
  size_t delivered_bytes_ = 0;
  http::HeaderMap trailers_;
  bool has_trailers_ = false;
  bool trailers_delivered_ = false;
  bool end_received_ = false;
  bool closed_ = false;
  bool reset_ = false;
  bool cancelled_ = false;
  bool response_ended_ = false;
};

Http2DownstreamConnection::Http2DownstreamConnection(Worker& worker, std::string listener_name,
                                                     std::shared_ptr<const ServingConfig> config,
                                                     const ListenerEntry* listener,
                                                     Socket socket, std::string preface_bytes)
    : worker_(worker),
      listener_name_(std::move(listener_name)),
      config_(std::move(config)),
      listener_(listener),
      listener_hash_(listener->config->config_hash),
      socket_(std::move(socket)),
      preface_bytes_(std::move(preface_bytes)),
      session_(http2::Role::kServer, http2::ServerSessionOptions(listener->config->http), this),
      writer_idle_(socket_.get_executor()),
      streams_done_(socket_.get_executor()),
      opened_(Clock::now()) {
  boost::system::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) remote_address_ = peer.address().to_string();
  Register(&worker_.sweeper());
}

Http2DownstreamConnection::~Http2DownstreamConnection() = default;

Task<void> Http2DownstreamConnection::Run() {
  HttpStats& http = *listener_->http;
  ListenerStats& listener_stats = *listener_->listener;
  http.downstream_cx_total.Inc();
  http.downstream_cx_http2_total.Inc();
  http.downstream_cx_active.Inc();
  listener_stats.downstream_cx_total.Inc();
  listener_stats.downstream_cx_active.Inc();

  const auto& max_duration = listener_->config->http.max_connection_duration;
  if (max_duration.has_value() && *max_duration > absl::ZeroDuration()) {
    max_duration_at_ = opened_ + absl::ToChronoNanoseconds(*max_duration);
  }
  if (worker_.flags().draining.load(std::memory_order_relaxed)) OnDrain();
  ArmDeadline();
  http2::ConnectionStatus status;
  if (!preface_bytes_.empty()) {
    status = session_.Receive(preface_bytes_);
    preface_bytes_.clear();
    ExportStats();
    Flush();
  }
  // The codec takes every byte it is given, so the buffer goes back to the worker's pool at once:
  // an idle connection holds none.
  ReadBufferPool& pool = worker_.read_buffers();
  ReadBufferPool::Buffer buffer;
  while (status.ok && !closed_ && !session_.WantsClose()) {
    auto [ec, n] = co_await socket_.async_read_some(
        DrainingReadBuffer(pool, &buffer, worker_.peer_close_watch()), kNoThrow);
    if (ec || closed_) break;
    status = session_.Receive(absl::string_view(buffer.get(), n));
    pool.Return(std::move(buffer));
    ExportStats();
    Flush();
  }
  pool.Return(std::move(buffer));
  if (!status.ok) http.downstream_cx_protocol_error.Inc();

  // Closing: the streams stop, the writer gets a moment for the last frames (GOAWAY).
  for (auto& [id, stream] : streams_) {
    stream->OnReset();
    stream->Cancel();
  }
  while (serving_ > 0) co_await streams_done_.Wait();
  closed_ = true;
  ArmAt(Clock::now() + kFlushTimeout);  // OnDeadline closes the socket if the writer is stuck
  WriteOutput();
  while (flush_posted_ || writer_running_) co_await writer_idle_.Wait();
  writer_done_ = true;  // no more posted flushes: this object may be gone when they would run
  Disarm();
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_send, ignored);
  socket_.close(ignored);

  http.downstream_cx_active.Dec();
  http.downstream_cx_destroy.Inc();
  http.downstream_cx_length_ms.Record(static_cast<uint64_t>(ElapsedMs(opened_)));
  listener_stats.downstream_cx_active.Dec();
  listener_stats.downstream_cx_destroy.Inc();
}

void Http2DownstreamConnection::Flush() {
  if (flush_posted_ || writer_running_ || write_failed_ || writer_done_) return;
  // Most requests leave nothing to send when their HEADERS frame is read: no handler for that.
  if (!session_.HasOutput()) return;
  // After the handlers already queued: the frames of every stream they complete go out together.
  flush_posted_ = true;
  asio::post(socket_.get_executor(), [this] {
    flush_posted_ = false;
    WriteOutput();
    if (closed_) writer_idle_.Notify();  // Run() waits for this handler before it returns
  });
}

void Http2DownstreamConnection::WriteOutput() {
  while (!writer_running_ && !write_failed_) {
    absl::string_view pending = session_.PendingOutput();
    if (pending.empty()) return;
    boost::system::error_code ec;
    const size_t n = TryWrite(socket_, pending, ec);
    if (ec) {
      OnWriteFailed();
      return;
    }
    session_.ConsumeOutput(n);
    if (n < pending.size()) {
      // The socket buffer is full: the rest waits for room in WriteLoop.
      writer_running_ = true;
      asio::co_spawn(socket_.get_executor(), WriteLoop(), asio::detached);
    }
  }
}

Task<void> Http2DownstreamConnection::WriteLoop() {
  while (!write_failed_) {
    absl::string_view pending = session_.PendingOutput();
    if (pending.empty()) break;
    // Copied out: the session's buffer may move while the write is in flight.
    write_buffer_.assign(pending.data(), pending.size());
    session_.ConsumeOutput(pending.size());
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(write_buffer_), kNoThrow);
    if (ec) OnWriteFailed();
  }
  writer_running_ = false;
  writer_idle_.Notify();
}

void Http2DownstreamConnection::OnWriteFailed() {
  write_failed_ = true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);  // the reader stops too
}

void Http2DownstreamConnection::ExportStats() {
  if (listener_->http->http2 != nullptr) {
    listener_->http->http2->Export(session_.stats(), &exported_);
  }
}

void Http2DownstreamConnection::ArmDeadline() {
  if (closed_) return;
  const xds::HttpConnectionManagerConfig& hcm = listener_->config->http;
  // One tick late, so that a deadline never fires early.
  const Clock::time_point now = worker_.coarse_now() + DeadlineSweeper::kTick;
  Clock::time_point at = Clock::time_point::max();
  if (draining_) {
    // The final GOAWAY: drain_timeout after the notice, or a second (for requests that crossed
    // the notice) after the last stream.
    at = final_goaway_due_;
    if (serving_ == 0) at = std::min(at, now + std::chrono::seconds(1));
  } else if (serving_ == 0 && hcm.idle_timeout > absl::ZeroDuration()) {
    at = now + absl::ToChronoNanoseconds(hcm.idle_timeout);
  }
  duration_due_ = !draining_ && max_duration_at_.has_value() && *max_duration_at_ <= at;
  if (duration_due_) at = *max_duration_at_;
  if (at == Clock::time_point::max()) {
    Disarm();
  } else {
    ArmAt(at);
  }
}

void Http2DownstreamConnection::OnDeadline() {
  boost::system::error_code ignored;
  if (closed_) {
    socket_.close(ignored);  // the last frames did not get out in time
    return;
  }
  if (duration_due_) {
    listener_->http->downstream_cx_max_duration_reached.Inc();
    StartDrain();
    return;
  }
  if (serving_ > 0) {
    // drain_timeout after the shutdown notice, with streams still running: the final GOAWAY now
    // (no new streams); they finish, then the connection closes.
    if (draining_) {
      session_.SubmitGoAway(http2::ErrorCode::kNoError);
      ExportStats();
      Flush();
    }
    return;
  }
  // Idle (or drained): say goodbye and stop reading.
  if (!draining_) listener_->http->downstream_cx_idle_timeout.Inc();
  session_.SubmitGoAway(http2::ErrorCode::kNoError);
  ExportStats();
  Flush();
  closed_ = true;
  socket_.cancel(ignored);
}

void Http2DownstreamConnection::OnDrain() {
  if (draining_) return;
  listener_->http->downstream_cx_drain_close.Inc();
  StartDrain();
}

void Http2DownstreamConnection::StartDrain() {
  if (draining_) return;
  draining_ = true;
  // Envoy's sequence: a GOAWAY announcing no limit (the shutdown notice) so that the client stops
  // opening streams while those already on their way are still served, and the final GOAWAY
  // drain_timeout later, or once the connection is idle (ArmDeadline).
  final_goaway_due_ = worker_.coarse_now() + DeadlineSweeper::kTick +
                      absl::ToChronoNanoseconds(listener_->config->http.drain_timeout);
  session_.SubmitShutdownNotice();
  ExportStats();
  Flush();
  ArmDeadline();
}

void Http2DownstreamConnection::Abort() {
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void Http2DownstreamConnection::OnConfigUpdate() {
  const ListenerEntry* current = worker_.config()->FindListener(listener_name_);
  if (current != nullptr && current->config->config_hash == listener_hash_) {
    // New routes and clusters apply to the next streams.
    config_ = worker_.config();
    listener_ = current;
    return;
  }
  OnDrain();
}

Http2DownstreamConnection::Stream* Http2DownstreamConnection::Find(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2DownstreamConnection::RemoveStream(int32_t stream_id) { streams_.erase(stream_id); }

void Http2DownstreamConnection::OnRequestHeaders(int32_t stream_id,
                                                 const http2::RequestHeaders& request,
                                                 bool end_stream) {
  auto stream = std::make_shared<Stream>(this, stream_id, socket_.get_executor());
  stream->method.assign(request.method.data(), request.method.size());
  stream->scheme.assign(request.scheme.data(), request.scheme.size());
  stream->path.assign(request.path.data(), request.path.size());
  stream->authority.assign(request.authority.data(), request.authority.size());
  if (stream->authority.empty()) {
    stream->authority = std::string(request.headers->Get("host").value_or(""));
  }
  // Host first (from :authority), cookie crumbs joined: the head an HTTP/1.1 upstream gets.
  http2::H2HeadersToH1(stream->authority, *request.headers, &stream->headers);
  stream->bodyless = end_stream;
  if (end_stream) stream->AddData("", true);
  streams_[stream_id] = stream;
  ++serving_;
  ArmDeadline();  // busy: no idle timeout
  const auto& max_requests = listener_->config->http.max_requests_per_connection;
  if (max_requests.has_value() && ++requests_ == *max_requests) {
    // Like Envoy, approximate under concurrency: streams the client opened before it reads the
    // GOAWAY are still served.
    listener_->http->downstream_cx_max_requests_reached.Inc();
    StartDrain();
  }
  // Started inline (it runs until its first suspension, usually with the upstream request
  // written). Posting the start, to decode every readable connection's frames before any stream
  // runs, was measured: -1.7% CPU at 64 connections x 1 stream with Beast's response parser,
  // nothing after our own, and +3.4% at 1 x 16 (bench/RESULTS.md).
  asio::co_spawn(socket_.get_executor(), ServeStream(std::move(stream)), asio::detached);
}

void Http2DownstreamConnection::OnHeadersTooLarge(int32_t stream_id) {
  HttpStats& http = *listener_->http;
  http.downstream_rq_too_large.Inc();
  if (Find(stream_id) != nullptr) {
    // Trailers over the limit: the request cannot be completed.
    session_.ResetStream(stream_id, http2::ErrorCode::kProtocolError);
    return;
  }
  http::HeaderMap headers;
  headers.Add("content-length", "0");
  headers.Add("date", worker_.date_header());
  headers.Add("server", listener_->config->http.server_name);
  http.codes.Charge(431);
  listener_->listener->http_codes.Charge(431);
  session_.SubmitResponse(stream_id, {.status = 431, .headers = &headers}, /*end_stream=*/true);
}

void Http2DownstreamConnection::OnData(int32_t stream_id, absl::string_view data,
                                       bool end_stream) {
  if (Stream* stream = Find(stream_id)) {
    stream->AddData(data, end_stream);
  } else {
    session_.ConsumeStreamData(stream_id, data.size());
  }
}

void Http2DownstreamConnection::OnTrailers(int32_t stream_id, const http::HeaderMap& trailers) {
  if (Stream* stream = Find(stream_id)) stream->SetTrailers(trailers);
}

void Http2DownstreamConnection::OnStreamClosed(int32_t stream_id) {
  if (Stream* stream = Find(stream_id)) {
    stream->OnClosed();
    RemoveStream(stream_id);
  }
}

void Http2DownstreamConnection::OnStreamReset(int32_t stream_id, http2::ErrorCode,
                                              bool remote) {
  if (Stream* stream = Find(stream_id)) {
    if (remote && !stream->response_ended()) listener_->http->downstream_rq_rx_reset.Inc();
    stream->OnReset();
    RemoveStream(stream_id);
  }
}

void Http2DownstreamConnection::OnStreamWritable(int32_t stream_id) {
  if (Stream* stream = Find(stream_id)) stream->OnWritable();
}

Task<void> Http2DownstreamConnection::ServeStream(std::shared_ptr<Stream> stream) {
  // The config this stream runs on, for its whole life.
  std::shared_ptr<const ServingConfig> config = config_;
  const ListenerEntry& listener = *listener_;
  HttpStats& http = *listener.http;
  const xds::HttpConnectionManagerConfig& hcm = listener.config->http;
  const auto start = Clock::now();
  http.downstream_rq_total.Inc();
  http.downstream_rq_http2_total.Inc();
  http.downstream_rq_active.Inc();

  const bool grpc = IsGrpcRequest(stream->headers);
  auto local_reply = [&](int status, absl::string_view body,
                         const http::HeaderMap* headers = nullptr) -> Task<bool> {
    LocalReply reply{.status = status,
                     .body = body,
                     .headers = headers,
                     .grpc = grpc && status >= 400,
                     .head_request = stream->method == "HEAD"};
    co_return co_await SendLocalReply(*stream, reply, hcm.server_name, worker_.date_header());
  };

  absl::string_view authority = stream->authority;
  if (hcm.strip_any_host_port) authority = StripPort(authority);
  if (stream->method == "CONNECT") {
    http.no_route.Inc();
    co_await local_reply(404, "CONNECT is not supported");
  } else if (authority.empty()) {
    co_await local_reply(400, "missing host header");
  } else if (stream->path.empty() || (stream->path.front() != '/' &&
                                      !(stream->method == "OPTIONS" && stream->path == "*"))) {
    co_await local_reply(400, "invalid request target");
  } else {
    routing::RequestView view{.authority = authority,
                              .path = stream->path,
                              .method = stream->method,
                              .scheme = stream->scheme.empty() ? "http" : stream->scheme,
                              .headers = &stream->headers};
    RouteDecision decision = RouteRequest(listener, worker_.flags(), view, worker_.random());
    switch (decision.kind) {
      case RouteDecision::Kind::kLocalReply:
        co_await local_reply(decision.status, "", &decision.headers);
        break;
      case RouteDecision::Kind::kDirect: {
        LocalReply reply{.status = decision.status,
                         .body = decision.body,
                         .head_request = stream->method == "HEAD"};
        co_await SendLocalReply(*stream, reply, hcm.server_name, worker_.date_header());
        break;
      }
      case RouteDecision::Kind::kProxy: {
        StreamRequest request{.method = stream->method,
                              .authority = authority,
                              .path = stream->path,
                              .headers = &stream->headers,
                              .has_body = !stream->bodyless,
                              .head_request = stream->method == "HEAD",
                              .remote_address = remote_address_,
                              .received_at = start};
        if (std::optional<absl::string_view> length = stream->headers.Get("content-length")) {
          uint64_t value = 0;
          if (absl::SimpleAtoi(*length, &value)) request.content_length = value;
        }
        co_await ProxyStream(worker_, listener, decision, request, *stream);
        break;
      }
    }
  }
  // A response that could not be completed is reset. A complete one is left to finish: a reset
  // now could overtake its queued DATA; a client still sending ends the stream itself (what it
  // sends meanwhile is bounded by the stream window, which is not reopened).
  if (!stream->done() && !stream->response_ended()) {
    session_.ResetStream(stream->id(), http2::ErrorCode::kInternalError);
    Flush();
  }
  http.downstream_rq_time.Record(static_cast<uint64_t>(ElapsedMs(start)));
  http.downstream_rq_active.Dec();
  if (--serving_ == 0) {
    streams_done_.Notify();
    ArmDeadline();
    // Drained after the final GOAWAY: nothing left to finish. (After only the notice,
    // ArmDeadline's grace keeps serving requests that crossed it.)
    if (draining_ && !closed_ && session_.goaway_submitted()) OnDeadline();
  }
}

}  // namespace proxy
