#include "proxy/upstream/exchange.h"

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/write.hpp"
#include "boost/beast/http/error.hpp"
#include "proxy/draining_read.h"
#include "proxy/http1/forwarding.h"
#include "proxy/socket_write.h"
#include "proxy/worker.h"

namespace proxy::upstream {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Kind = ExchangeEvent::Kind;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxResponseHeaderBytes = 60 * 1024;

ExchangeEvent Failed(ExchangeFailure failure) {
  ExchangeEvent event;
  event.kind = Kind::kFailed;
  event.failure = failure;
  return event;
}

std::optional<uint64_t> ContentLength(const http::HeaderMap& headers) {
  std::optional<absl::string_view> value = headers.Get("content-length");
  uint64_t length = 0;
  if (!value.has_value() || !absl::SimpleAtoi(*value, &length)) return std::nullopt;
  return length;
}

// ---- HTTP/2 ------------------------------------------------------------------------------

class H2Exchange final : public Exchange, public H2StreamCallbacks {
 public:
  H2Exchange(Worker& worker, WorkerCluster* cluster, size_t host_index, const UpstreamHost& host)
      : worker_(worker),
        executor_(worker.io().get_executor()),
        cluster_(cluster),
        host_index_(host_index),
        host_(host),
        event_(executor_),
        writable_(executor_) {}

  ~H2Exchange() override {
    if (stream_open_) connection_->ResetStream(stream_id_);  // detaches our callbacks
  }

  Task<bool> Start(const ExchangeRequest& request) override {
    request_ = request;  // views into the caller's request, which outlives the exchange
    request.ForEachHeader([&](absl::string_view name, absl::string_view value) {
      request_headers_.Add(name, value);
    });
    co_return co_await Open();
  }

  Task<bool> SendData(absl::string_view data, bool end_stream) override {
    if (!stream_open_ || cancelled_) co_return false;
    http2::SendResult result = connection_->SendData(stream_id_, data, end_stream);
    if (result == http2::SendResult::kClosed) co_return false;
    if (result == http2::SendResult::kBufferFull) {
      // Queued; the producer waits until the upstream took enough of it.
      co_await writable_.Wait();
    }
    co_return stream_open_ && !cancelled_;
  }

  Task<bool> SendTrailers(const http::HeaderMap& trailers) override {
    if (!stream_open_ || cancelled_) co_return false;
    co_return connection_->SendTrailers(stream_id_, trailers);
  }

  Task<ExchangeEvent> Next() override {
    if (delivered_bytes_ > 0) {
      // The previous piece was passed on: let the upstream send more.
      if (stream_open_) connection_->ConsumeData(stream_id_, delivered_bytes_);
      delivered_bytes_ = 0;
    }
    while (true) {
      if (cancelled_) co_return Failed(ExchangeFailure::kCancelled);
      if (retry_refused_) {
        retry_refused_ = false;
        co_await Open();  // on failure failure_ is set
        continue;
      }
      if (has_headers_ && !headers_delivered_) {
        headers_delivered_ = true;
        ExchangeEvent event;
        event.kind = Kind::kHeaders;
        event.status = status_;
        event.headers = &headers_;
        event.end_stream = headers_end_;
        event.content_length = ContentLength(headers_);
        co_return event;
      }
      if (!body_.empty()) {
        delivered_.swap(body_);
        body_.clear();
        delivered_bytes_ = delivered_.size();
        ExchangeEvent event;
        event.kind = Kind::kData;
        event.data = delivered_;
        event.end_stream = body_end_ && !has_trailers_;
        co_return event;
      }
      if (has_trailers_ && !trailers_delivered_) {
        trailers_delivered_ = true;
        ExchangeEvent event;
        event.kind = Kind::kTrailers;
        event.headers = &trailers_;
        co_return event;
      }
      if (failure_ != ExchangeFailure::kNone) co_return Failed(failure_);
      if (complete_) co_return ExchangeEvent{};  // kEnd
      co_await event_.Wait();
    }
  }

  void Cancel() override {
    cancelled_ = true;
    event_.Notify();
    writable_.Notify();
    if (awaiting_settings_ != nullptr) awaiting_settings_->WakeSettingsWaiters();
  }

  bool reused() const override { return reused_; }

  // H2StreamCallbacks.
  void OnResponseHeaders(int status, const http::HeaderMap& headers, bool end_stream) override {
    if (has_headers_) return;  // a second head is a protocol error the session rejects anyway
    has_headers_ = true;
    status_ = status;
    headers_ = headers;
    headers_end_ = end_stream || request_.head_request;
    body_end_ = end_stream;
    event_.Notify();
  }
  void OnResponseData(absl::string_view data, bool end_stream) override {
    body_.append(data.data(), data.size());
    body_end_ = body_end_ || end_stream;
    event_.Notify();
  }
  void OnResponseTrailers(const http::HeaderMap& trailers) override {
    has_trailers_ = true;
    trailers_ = trailers;
    event_.Notify();
  }
  void OnStreamEnd(H2StreamEnd end, http2::ErrorCode code, bool refused) override {
    stream_open_ = false;
    switch (end) {
      case H2StreamEnd::kComplete:
        complete_ = true;
        break;
      case H2StreamEnd::kConnectFailure:
        failure_ = ExchangeFailure::kConnectFailure;
        break;
      case H2StreamEnd::kConnectTimeout:
        failure_ = ExchangeFailure::kConnectTimeout;
        break;
      case H2StreamEnd::kReset:
        // The server never processed a refused stream (REFUSED_STREAM, or beyond a GOAWAY's last
        // stream id). One without a body is sent again at once on a connection with room: a new
        // connection's streams go out before the server's SETTINGS told its stream limit.
        if (refused && !request_.has_body && refused_retries_ < kMaxRefusedRetries) {
          ++refused_retries_;
          retry_refused_ = true;
          break;
        }
        failure_ = refused ? ExchangeFailure::kRefused
                   : code == http2::ErrorCode::kProtocolError ? ExchangeFailure::kProtocolError
                                                              : ExchangeFailure::kReset;
        break;
      case H2StreamEnd::kConnectionLost:
        failure_ = ExchangeFailure::kReset;
        break;
    }
    event_.Notify();
    writable_.Notify();
  }
  void OnWritable() override { writable_.Notify(); }

 private:
  static constexpr int kMaxRefusedRetries = 3;

  // Opens the request's stream on a connection of the pool with room for it; else waits for the
  // SETTINGS of a new connection (it may have room then); else opens a new connection.
  Task<bool> Open() {
    while (true) {
      if (cancelled_) {
        failure_ = ExchangeFailure::kCancelled;
        co_return false;
      }
      connection_ = cluster_->h2_pool.Find(host_index_);
      reused_ = connection_ != nullptr;
      if (connection_ != nullptr) break;
      std::shared_ptr<H2Connection> pending = cluster_->h2_pool.FindAwaitingSettings(host_index_);
      if (pending == nullptr) {
        ClusterStats* stats = cluster_->entry->stats;
        connection_ = std::make_shared<H2Connection>(
            executor_, worker_.read_buffers(), worker_.peer_close_watch(), host_index_,
            cluster_->entry->cluster->config(), stats, stats->http2.get());
        cluster_->h2_pool.Add(connection_);
        connection_->Start(host_.endpoint);
        break;
      }
      awaiting_settings_ = pending.get();
      co_await pending->WaitForPeerSettings();
      awaiting_settings_ = nullptr;
    }
    http2::RequestHeaders head{.method = request_.head->method,
                               .scheme = "http",
                               .authority = request_.head->authority,
                               .path = request_.head->path,
                               .headers = &request_headers_};
    stream_id_ = connection_->OpenStream(head, !request_.has_body, this);
    if (stream_id_ == 0) {
      failure_ = ExchangeFailure::kRefused;
      co_return false;
    }
    stream_open_ = true;
    co_return true;
  }

  Worker& worker_;
  Executor executor_;
  WorkerCluster* cluster_;
  size_t host_index_;
  const UpstreamHost& host_;
  std::shared_ptr<H2Connection> connection_;
  int32_t stream_id_ = 0;
  bool stream_open_ = false;
  bool reused_ = false;
  bool cancelled_ = false;
  ExchangeRequest request_;
  http::HeaderMap request_headers_;  // after the forwarding rules, for nghttp2's header list
  int refused_retries_ = 0;
  bool retry_refused_ = false;
  H2Connection* awaiting_settings_ = nullptr;  // while Open() waits for its SETTINGS
  AsyncEvent event_;
  AsyncEvent writable_;

  bool has_headers_ = false;
  bool headers_delivered_ = false;
  bool headers_end_ = false;
  int status_ = 0;
  http::HeaderMap headers_;
  std::string body_;       // received, not yet delivered
  std::string delivered_;  // the piece the last Next() returned
  size_t delivered_bytes_ = 0;
  bool body_end_ = false;
  bool has_trailers_ = false;
  bool trailers_delivered_ = false;
  http::HeaderMap trailers_;
  bool complete_ = false;
  ExchangeFailure failure_ = ExchangeFailure::kNone;
};

// ---- HTTP/1.1 ----------------------------------------------------------------------------

class H1Exchange final : public Exchange {
 public:
  H1Exchange(Worker& worker, WorkerCluster* cluster, size_t host_index, const UpstreamHost& host,
             uint64_t generation)
      : worker_(worker),
        cluster_(cluster),
        stats_(*cluster->entry->stats),
        host_index_(host_index),
        host_(host),
        generation_(generation) {}

  ~H1Exchange() override {
    // The caller is done with the last piece's bytes: a complete exchange parks its connection.
    if (done_ && connection_ != nullptr && failure_ == ExchangeFailure::kNone && !cancelled_) {
      connection_->in.Consume(consume_);
      consume_ = 0;
      Finish();
    }
    CloseConnection(/*remote=*/false);
  }

  Task<bool> Start(const ExchangeRequest& request) override {
    head_request_ = request.head_request;
    replayable_ = !request.has_body;
    head_.reserve(512 + request.head->path.size());  // one allocation for a typical head
    http1::AppendUpstreamRequestHead(*request.head, *request.received_headers, &head_);
    chunked_ = request.head->framing == http1::BodyFraming::kChunked;
    request_done_ = !request.has_body;

    int dead = 0;
    // A connection parked moments ago is taken unchecked (a peek is a syscall per request): if
    // the upstream closed it meanwhile, a request without a body is sent again on a new one
    // (BeginStaleRetry). A request with a body cannot be replayed, so it always gets a checked one.
    connection_ = cluster_->pool.TakeIdle(
        host_index_, worker_.coarse_now(),
        replayable_ ? kUncheckedReuse : Clock::duration::zero(), &dead);
    for (int i = 0; i < dead; ++i) {
      stats_.upstream_cx_active.Dec();
      stats_.upstream_cx_destroy.Inc();
      stats_.upstream_cx_destroy_remote.Inc();
    }
    reused_ = connection_ != nullptr;
    // (Results of co_await are kept in locals: with GCC 12, `co_return co_await` inside an if
    // in these coroutines crashed at run time.)
    bool sent = false;
    if (reused_) {
      sent = co_await Write(head_);
      if (!sent && BeginStaleRetry()) sent = co_await ConnectAndSendHead();
    } else {
      sent = co_await ConnectAndSendHead();
    }
    co_return sent;
  }

  Task<bool> SendData(absl::string_view data, bool end_stream) override {
    if (connection_ == nullptr || cancelled_) co_return false;
    std::string out;
    if (chunked_) {
      if (!data.empty()) {
        http1::AppendChunkHeader(data.size(), &out);
        out.append(data.data(), data.size());
        out.append(http1::kChunkEnd.data(), http1::kChunkEnd.size());
      }
      if (end_stream) out.append(http1::kLastChunk.data(), http1::kLastChunk.size());
    } else {
      out.assign(data.data(), data.size());
    }
    const bool ok = out.empty() || co_await Write(out);
    if (ok && end_stream) request_done_ = true;
    co_return ok;
  }

  Task<bool> SendTrailers(const http::HeaderMap&) override {
    // HTTP/1.1 trailers are not forwarded (Envoy's default); the body ends here.
    co_return co_await SendData("", /*end_stream=*/true);
  }

  std::optional<ExchangeEvent> NextBuffered() override {
    if (piece_ < pieces_.size()) return NextPiece();
    return std::nullopt;
  }

  Task<ExchangeEvent> Next() override {
    if (piece_ < pieces_.size()) co_return NextPiece();
    if (connection_ != nullptr && consume_ > 0) connection_->in.Consume(consume_);
    consume_ = 0;
    pieces_.clear();
    piece_ = 0;
    if (cancelled_) co_return Failed(ExchangeFailure::kCancelled);
    if (failure_ != ExchangeFailure::kNone) co_return Failed(failure_);
    if (done_) {
      Finish();
      co_return ExchangeEvent{};  // kEnd
    }
    if (!parser_.has_value()) {
      parser_.emplace(limits_, &response_);
      if (head_request_) parser_->skip(true);
    }
    while (true) {
      if (!connection_->in.empty()) {
        boost::beast::error_code ec;
        const size_t n = parser_->Put(connection_->in.Data(), ec);
        if (ec && ec != boost::beast::http::error::need_more) {
          stats_.upstream_cx_protocol_error.Inc();
          co_return Fail(ExchangeFailure::kProtocolError);
        }
        if (!headers_delivered_ && parser_->is_header_done()) {
          if (response_.status < 200) {
            connection_->in.Consume(n);
            if (response_.status == 101) {
              stats_.upstream_cx_protocol_error.Inc();
              co_return Fail(ExchangeFailure::kProtocolError);
            }
            parser_.emplace(limits_, &response_);  // 100 Continue, 103: wait for the final one
            if (head_request_) parser_->skip(true);
            continue;
          }
          headers_delivered_ = true;
          TakePieces(n);
          ExchangeEvent event;
          event.kind = Kind::kHeaders;
          event.status = response_.status;
          event.headers = &response_.headers;
          event.content_length = response_.content_length;
          event.end_stream = done_ && pieces_.empty();
          co_return event;
        }
        if (headers_delivered_) {
          TakePieces(n);
          if (!pieces_.empty()) co_return NextPiece();
          connection_->in.Consume(consume_);
          consume_ = 0;
          if (done_) {
            Finish();
            co_return ExchangeEvent{};
          }
          if (ec != boost::beast::http::error::need_more && n < connection_->in.size()) continue;
        } else {
          connection_->in.Consume(n);  // part of the head (copied into response_)
          if (connection_->in.Full(kMaxResponseHeaderBytes + kReadChunk)) {
            stats_.upstream_cx_protocol_error.Inc();
            co_return Fail(ExchangeFailure::kProtocolError);
          }
        }
      }
      ReadBufferPool::Buffer pooled;
      auto [ec, n] = co_await connection_->socket.async_read_some(
          NextRead(connection_->in, kReadChunk, kMaxResponseHeaderBytes + kReadChunk,
                   worker_.read_buffers(), &pooled, worker_.peer_close_watch()),
          kNoThrow);
      if (cancelled_) co_return Failed(ExchangeFailure::kCancelled);
      if (ec == asio::error::eof && headers_delivered_ && parser_->need_eof()) {
        boost::beast::error_code eof_ec;
        parser_->PutEof(eof_ec);
        done_ = true;
        keep_alive_ = false;
        Finish();
        co_return ExchangeEvent{};
      }
      if (ec) {
        if (BeginStaleRetry()) {
          const bool resent = co_await ConnectAndSendHead();
          if (resent) continue;
          co_return Failed(failure_);
        }
        CloseConnection(/*remote=*/true);
        if (failure_ == ExchangeFailure::kNone) failure_ = ExchangeFailure::kReset;
        co_return Failed(failure_);
      }
      got_response_bytes_ = true;
      connection_->in.CommitRead(n, std::move(pooled));
      stats_.upstream_cx_rx_bytes_total.Add(n);
    }
  }

  void Cancel() override {
    cancelled_ = true;
    boost::system::error_code ignored;
    if (connect_timer_.has_value()) connect_timer_->cancel();
    if (connection_ != nullptr) connection_->socket.close(ignored);
  }

  bool reused() const override { return reused_; }

 private:
  Task<bool> Connect() {
    stats_.upstream_rq_pending_total.Inc();
    stats_.upstream_rq_pending_active.Inc();
    connection_ = std::make_unique<UpstreamConnection>(worker_.io().get_executor(), host_index_);
    const auto start = Clock::now();
    connecting_ = true;
    // Made here, not per exchange: most exchanges reuse a pooled connection, and constructing an
    // asio timer takes the io_context's service-registry lock.
    if (!connect_timer_.has_value()) connect_timer_.emplace(worker_.io().get_executor());
    connect_timer_->expires_after(
        absl::ToChronoNanoseconds(cluster_->entry->cluster->config().connect_timeout));
    connect_timer_->async_wait([this](boost::system::error_code ec) {
      if (ec || !connecting_) return;  // `this` may be gone when ec is set
      connect_timed_out_ = true;
      boost::system::error_code ignored;
      if (connection_ != nullptr) connection_->socket.close(ignored);
    });
    auto [ec] = co_await connection_->socket.async_connect(host_.endpoint, kNoThrow);
    connecting_ = false;
    connect_timer_->cancel();
    const bool timed_out = connect_timed_out_;
    stats_.upstream_rq_pending_active.Dec();
    if (ec || cancelled_) {
      if (!cancelled_) {
        (timed_out ? stats_.upstream_cx_connect_timeout : stats_.upstream_cx_connect_fail).Inc();
      }
      connection_.reset();
      failure_ = cancelled_  ? ExchangeFailure::kCancelled
                 : timed_out ? ExchangeFailure::kConnectTimeout
                             : ExchangeFailure::kConnectFailure;
      co_return false;
    }
    stats_.upstream_cx_total.Inc();
    stats_.upstream_cx_http1_total.Inc();
    stats_.upstream_cx_active.Inc();
    stats_.upstream_cx_connect_ms.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()));
    boost::system::error_code ignored;
    connection_->socket.set_option(tcp::no_delay(true), ignored);
    worker_.peer_close_watch().Watch(connection_->socket);
    co_return true;
  }

  // Whether a failure on this connection means it was stale: reused, and nothing of the
  // response arrived (the upstream closed it while it was idle in the pool).
  bool Stale() const {
    return reused_ && replayable_ && !retried_ && !got_response_bytes_ && !cancelled_;
  }

  // The pooled connection turned out stale: drops it so that the request is sent again on a new
  // one, as the HTTP/1.1 path does (upstream_rq_retry). False when it was not stale.
  bool BeginStaleRetry() {
    if (!Stale()) return false;
    retried_ = true;
    reused_ = false;
    failure_ = ExchangeFailure::kNone;
    CloseConnection(/*remote=*/true);
    stats_.upstream_rq_retry.Inc();
    return true;
  }

  // Connects and sends the request head. False: failure_ says why.
  Task<bool> ConnectAndSendHead() {
    const bool connected = co_await Connect();
    if (!connected) co_return false;
    const bool sent = co_await Write(head_);
    co_return sent;
  }

  Task<bool> Write(absl::string_view data) {
    // The request body and the response are in flight at once; writes are serialized by the
    // one coroutine that sends the request.
    boost::system::error_code ec;
    size_t n = TryWrite(connection_->socket, data, ec);
    if (!ec && n < data.size()) {
      auto [async_ec, rest] = co_await asio::async_write(
          connection_->socket, asio::buffer(data.data() + n, data.size() - n), kNoThrow);
      ec = async_ec;
      n += rest;
    }
    if (ec) {
      if (!cancelled_ && failure_ == ExchangeFailure::kNone) failure_ = ExchangeFailure::kReset;
      co_return false;
    }
    stats_.upstream_cx_tx_bytes_total.Add(n);
    co_return true;
  }

  // The body pieces of the last Put(); its `n` bytes are released once they are delivered.
  void TakePieces(size_t n) {
    pieces_ = parser_->Body();
    std::erase_if(pieces_, [](absl::string_view p) { return p.empty(); });
    piece_ = 0;
    consume_ = n;
    done_ = parser_->is_done();
  }

  ExchangeEvent NextPiece() {
    ExchangeEvent event;
    event.kind = Kind::kData;
    event.data = pieces_[piece_++];
    event.end_stream = done_ && piece_ == pieces_.size();
    return event;
  }

  ExchangeEvent Fail(ExchangeFailure failure) {
    CloseConnection(/*remote=*/false);
    failure_ = failure;
    return Failed(failure);
  }

  // The response is complete: park the connection when both messages ended cleanly.
  void Finish() {
    if (connection_ == nullptr) return;
    const bool reusable = keep_alive_ && response_.keep_alive && request_done_ &&
                          connection_->in.empty() && !cluster_->removed &&
                          cluster_->generation == generation_;
    if (!reusable) {
      CloseConnection(/*remote=*/false);
      return;
    }
    ++connection_->requests_served;
    const auto& config = cluster_->entry->cluster->config();
    if (config.max_requests_per_connection.has_value() &&
        connection_->requests_served >= *config.max_requests_per_connection) {
      stats_.upstream_cx_max_requests.Inc();
      CloseConnection(/*remote=*/false);
      return;
    }
    cluster_->pool.Park(std::move(connection_), worker_.coarse_now());
  }

  void CloseConnection(bool remote) {
    if (connection_ == nullptr) return;
    boost::system::error_code ignored;
    connection_->socket.close(ignored);
    connection_.reset();
    stats_.upstream_cx_active.Dec();
    stats_.upstream_cx_destroy.Inc();
    (remote ? stats_.upstream_cx_destroy_remote : stats_.upstream_cx_destroy_local).Inc();
  }

  Worker& worker_;
  WorkerCluster* cluster_;
  ClusterStats& stats_;
  size_t host_index_;
  const UpstreamHost& host_;
  uint64_t generation_;
  std::optional<Timer> connect_timer_;
  std::unique_ptr<UpstreamConnection> connection_;
  std::string head_;  // the request head, kept to send it again on a stale connection
  bool replayable_ = false;
  bool retried_ = false;
  bool got_response_bytes_ = false;
  bool reused_ = false;
  bool cancelled_ = false;
  bool chunked_ = false;
  bool request_done_ = false;
  bool head_request_ = false;
  bool keep_alive_ = true;
  bool connecting_ = false;
  bool connect_timed_out_ = false;

  const http1::ParseLimits limits_{.max_header_bytes = kMaxResponseHeaderBytes,
                                   .max_headers = 1000,
                                   .max_request_line = kMaxResponseHeaderBytes};
  http1::MessageHead response_;
  std::optional<http1::ResponseParser> parser_;
  bool headers_delivered_ = false;
  bool done_ = false;
  std::vector<absl::string_view> pieces_;
  size_t piece_ = 0;
  size_t consume_ = 0;
  ExchangeFailure failure_ = ExchangeFailure::kNone;
};

}  // namespace

std::unique_ptr<Exchange> MakeH2Exchange(Worker& worker, WorkerCluster* cluster, size_t host_index,
                                         const UpstreamHost& host) {
  return std::make_unique<H2Exchange>(worker, cluster, host_index, host);
}

std::unique_ptr<Exchange> MakeH1Exchange(Worker& worker, WorkerCluster* cluster,
                                         size_t host_index, const UpstreamHost& host,
                                         uint64_t generation) {
  return std::make_unique<H1Exchange>(worker, cluster, host_index, host, generation);
}

}  // namespace proxy::upstream
