#include "proxy/downstream_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/http/error.hpp"
#include "proxy/draining_read.h"
#include "proxy/http2/preface.h"
#include "proxy/http2_downstream.h"
#include "proxy/local_reply_text.h"
#include "proxy/request_router.h"
#include "proxy/worker.h"

namespace proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using http1::BodyFraming;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxResponseHeaderBytes = 60 * 1024;

using local_reply::kConnectFailure;
using local_reply::kConnectTimeout;
using local_reply::kNoHealthyUpstream;
using local_reply::kResetBeforeHeaders;
using local_reply::kUpstreamProtocolError;
using local_reply::kUpstreamTimeout;

int64_t ElapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

Clock::duration ToClock(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

// RFC 1918, loopback and link-local clients count as internal (Envoy's internal-address rule
// for use_remote_address).
bool IsInternalAddress(const asio::ip::address& address) {
  if (address.is_loopback()) return true;
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    return bytes[0] == 10 || (bytes[0] == 172 && (bytes[1] & 0xf0) == 16) ||
           (bytes[0] == 192 && bytes[1] == 168);
  }
  auto v6 = address.to_v6();
  return v6.is_link_local() || (v6.to_bytes()[0] & 0xfe) == 0xfc;
}


}  // namespace

DownstreamConnection::DownstreamConnection(Worker& worker, std::string listener_name,
                                           Socket socket)
    : worker_(worker),
      listener_name_(std::move(listener_name)),
      socket_(std::move(socket)),
      opened_(Clock::now()) {
  boost::system::error_code ec;
  tcp::endpoint peer = socket_.remote_endpoint(ec);
  if (!ec) remote_address_ = peer.address().to_string();
  socket_.set_option(tcp::no_delay(true), ec);
  Register(&worker_.sweeper());
}

DownstreamConnection::~DownstreamConnection() {
  if (registered_) worker_.OnConnectionClose(this);
}

void DownstreamConnection::OnDeadline() {
  timed_out_ = phase_;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  if (upstream_ != nullptr) upstream_->socket.cancel(ignored);
}

void DownstreamConnection::OnDrain() {
  if (h2_ != nullptr) {
    h2_->OnDrain();
    return;
  }
  if (phase_ == Phase::kIdle && in_.empty()) ArmPhase(Phase::kIdle);
}

Task<bool> DownstreamConnection::ServeHttp2IfChosen() {
  const xds::CodecType codec = listener_->config->http.codec_type;
  if (codec == xds::CodecType::kHttp1) co_return false;
  if (codec == xds::CodecType::kAuto) {
    // An HTTP/2 client with prior knowledge starts with the preface; HTTP/1.1 cannot.
    ArmPhase(Phase::kIdle);
    while (true) {
      const http2::PrefaceMatch match = http2::MatchClientPreface(in_.Data());
      if (match == http2::PrefaceMatch::kNotHttp2) co_return false;
      if (match == http2::PrefaceMatch::kHttp2) break;
      if (!co_await ReadDownstream()) {
        Disarm();
        closed_ = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
        co_return true;  // gone before saying anything
      }
    }
  }
  Disarm();
  h2_ = std::make_unique<Http2DownstreamConnection>(worker_, listener_name_, config_, listener_,
                                                    std::move(socket_), std::string(in_.Data()));
  in_.Consume(in_.size());
  in_.Release(worker_.read_buffers());  // the HTTP/2 connection reads through the pool itself
  co_await h2_->Run();
  co_return true;
}

void DownstreamConnection::OnConfigUpdate() {
  if (h2_ != nullptr) {
    h2_->OnConfigUpdate();
    return;
  }
  if (listener_ == nullptr || listener_gone_) return;
  const ListenerEntry* current = worker_.config()->FindListener(listener_name_);
  if (current != nullptr && current->config->config_hash == listener_hash_) return;
  listener_gone_ = true;
  OnDrain();
}

void DownstreamConnection::RefreshConfig() {
  if (listener_gone_ || worker_.config().get() == config_.get()) return;
  const ListenerEntry* current = worker_.config()->FindListener(listener_name_);
  if (current == nullptr || current->config->config_hash != listener_hash_) {
    listener_gone_ = true;  // keep the old config for the last request
    return;
  }
  config_ = worker_.config();
  listener_ = current;
}

void DownstreamConnection::Abort() {
  if (h2_ != nullptr) h2_->Abort();
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (upstream_ != nullptr) upstream_->socket.close(ignored);
}

void DownstreamConnection::ArmPhase(Phase phase) {
  phase_ = phase;
  const xds::HttpConnectionManagerConfig& hcm = listener_->config->http;
  absl::Duration timeout = hcm.stream_idle_timeout;
  switch (phase) {
    case Phase::kIdle:
      timeout = hcm.idle_timeout;
      // While draining, an idle connection gets a moment for a request already on the wire.
      if (worker_.flags().draining.load(std::memory_order_relaxed) || listener_gone_) {
        timeout = std::min(timeout, absl::Seconds(1));
      }
      break;
    case Phase::kRequestHeaders:
      if (hcm.request_headers_timeout > absl::ZeroDuration()) {
        timeout = hcm.request_headers_timeout;
      }
      break;
    case Phase::kUpstream:
      if (route_timeout_ > absl::ZeroDuration()) timeout = route_timeout_;
      break;
    default:
      break;
  }
  if (timeout <= absl::ZeroDuration()) {
    Disarm();
  } else {
    // From the worker's tick time, one tick late so a deadline never fires early.
    ArmAt(worker_.coarse_now() + DeadlineSweeper::kTick + ToClock(timeout));
  }
  // max_connection_duration closes an idle connection when it comes (a busy one after its
  // response, ShouldClose).
  const auto& max_duration = hcm.max_connection_duration;
  if (phase == Phase::kIdle && max_duration.has_value() && *max_duration > absl::ZeroDuration()) {
    const auto limit = opened_ + DeadlineSweeper::kTick + ToClock(*max_duration);
    if (!armed() || limit < deadline()) ArmAt(limit);
  }
  // request_timeout bounds receiving the whole request, however slowly it trickles in.
  if ((phase == Phase::kRequestHeaders || phase == Phase::kRequestBody) &&
      hcm.request_timeout > absl::ZeroDuration()) {
    const auto limit = request_start_ + ToClock(hcm.request_timeout);
    if (!armed() || limit < deadline()) ArmAt(limit);
  }
}

Task<void> DownstreamConnection::Run() {
  auto self = shared_from_this();
  worker_.OnConnectionOpen(this);
  registered_ = true;
  config_ = worker_.config();
  listener_ = config_->FindListener(listener_name_);
  if (listener_ == nullptr) {
    // The listener was removed between the accept and now.
    boost::system::error_code ignored;
    socket_.close(ignored);
    co_return;
  }
  listener_hash_ = listener_->config->config_hash;
  if (co_await ServeHttp2IfChosen()) co_return;
  // Connection-level metrics stay with the stats the connection opened under, even if the config
  // (and so listener_) changes while it is open.
  HttpStats& http = *listener_->http;
  ListenerStats& listener_stats = *listener_->listener;
  http.downstream_cx_total.Inc();
  http.downstream_cx_http1_total.Inc();
  http.downstream_cx_active.Inc();
  listener_stats.downstream_cx_total.Inc();
  listener_stats.downstream_cx_active.Inc();
  limits_.max_header_bytes = listener_->config->http.max_request_headers_kb * 1024;
  limits_.max_headers = listener_->config->http.max_headers_count;

  while (!closed_) {
    if (!co_await ReadRequestHead()) break;
    if (co_await HandleRequest() == Result::kClose) {
      // Counted when the connection's limits were why its response said `connection: close`. (A
      // duration that ran out after the response left is caught by the idle wait, ArmPhase.)
      if (AtMaxRequests()) {
        http.downstream_cx_max_requests_reached.Inc();
      } else if (PastMaxDuration()) {
        http.downstream_cx_max_duration_reached.Inc();
      }
      break;
    }
  }
  Disarm();
  if (upstream_ != nullptr) {
    boost::system::error_code ignored;
    upstream_->socket.close(ignored);
  }
  if (!closed_) co_await CloseGracefully();
  http.downstream_cx_active.Dec();
  http.downstream_cx_destroy.Inc();
  http.downstream_cx_length_ms.Record(static_cast<uint64_t>(ElapsedMs(opened_)));
  listener_stats.downstream_cx_active.Dec();
  listener_stats.downstream_cx_destroy.Inc();
}

Task<void> DownstreamConnection::CloseGracefully() {
  // Half-close, then read what the client still sends for a short while: closing a socket with
  // unread input makes the kernel send RST, which can destroy a response (e.g. a 400) before the
  // client reads it.
  boost::system::error_code ec;
  socket_.shutdown(Socket::shutdown_send, ec);
  if (!ec) {
    phase_ = Phase::kResponse;
    ArmAt(Clock::now() + std::chrono::seconds(1));
    size_t drained = 0;
    char scratch[4096];
    while (drained < 64 * 1024) {
      auto [read_ec, n] = co_await socket_.async_read_some(asio::buffer(scratch), kNoThrow);
      if (read_ec) break;
      drained += n;
    }
    Disarm();
  }
  closed_ = true;
  socket_.close(ec);
}

Task<bool> DownstreamConnection::ReadDownstream() {
  ReadBufferPool::Buffer pooled;
  auto [ec, n] = co_await socket_.async_read_some(
      NextRead(in_, kReadChunk, limits_.max_header_bytes + kReadChunk, worker_.read_buffers(),
               &pooled, worker_.peer_close_watch()),
      kNoThrow);
  in_.CommitRead(ec ? 0 : n, std::move(pooled));
  co_return !ec;
}

Task<bool> DownstreamConnection::ReadRequestHead() {
  RefreshConfig();
  parser_.emplace(limits_, &request_);
  parsed_bytes_ = 0;
  request_complete_ = false;
  sent_continue_ = false;
  timed_out_.reset();
  route_timeout_ = absl::ZeroDuration();
  bool received = !in_.empty();
  if (received) request_start_ = Clock::now();  // a pipelined request is already here
  ArmPhase(received ? Phase::kRequestHeaders : Phase::kIdle);
  while (true) {
    if (!in_.empty()) {
      boost::beast::error_code ec;
      size_t n = parser_->Put(in_.Data(), ec);
      if (ec && ec != boost::beast::http::error::need_more) {
        http1::ParseError error = parser_->Classify(ec, in_.Data());
        listener_->http->downstream_cx_protocol_error.Inc();
        in_.Consume(in_.size());
        request_.keep_alive = false;
        request_start_ = Clock::now();
        listener_->http->downstream_rq_active.Inc();
        int status = error == http1::ParseError::kHeadersTooLarge ? 431
                     : error == http1::ParseError::kUriTooLong    ? 414
                                                                  : 400;
        if (status == 431) listener_->http->downstream_rq_too_large.Inc();
        co_await SendLocalReply(status, http1::ReasonPhrase(status));
        co_return false;
      }
      if (parser_->is_header_done()) {
        parsed_bytes_ = n;
        request_complete_ = parser_->is_done();
        co_return true;
      }
      // Head bytes are copied into request_ as they parse (Beast may take the start line before
      // the fields are complete), so they can be released at once.
      in_.Consume(n);
      if (in_.Full(limits_.max_header_bytes + kReadChunk)) {
        listener_->http->downstream_rq_too_large.Inc();
        request_.keep_alive = false;
        request_start_ = Clock::now();
        listener_->http->downstream_rq_active.Inc();
        co_await SendLocalReply(431, "Request Header Fields Too Large");
        co_return false;
      }
    }
    if (!co_await ReadDownstream()) {
      if (timed_out_.has_value() && received) {
        // The client started a request but did not finish its head in time.
        listener_->http->downstream_rq_header_timeout.Inc();
        request_.keep_alive = false;
        request_start_ = Clock::now();
        listener_->http->downstream_rq_active.Inc();
        co_await SendLocalReply(408, "request timeout");
      } else if (timed_out_.has_value()) {
        (PastMaxDuration() ? listener_->http->downstream_cx_max_duration_reached
                           : listener_->http->downstream_cx_idle_timeout)
            .Inc();
      }
      co_return false;
    }
    if (!received) {
      received = true;
      request_start_ = Clock::now();
      ArmPhase(Phase::kRequestHeaders);
    }
  }
}

void DownstreamConnection::ChargeCluster(ClusterStats& stats, int status) {
  // The router's dynamic_stats: false turns off the per-code cluster stats (Envoy).
  if (listener_->config->http.router_dynamic_stats) stats.codes.Charge(status);
}

void DownstreamConnection::CountDrainClose() {
  const ServerFlags& flags = worker_.flags();
  if (flags.draining.load(std::memory_order_relaxed) ||
      flags.health_check_failed.load(std::memory_order_relaxed)) {
    listener_->http->downstream_cx_drain_close.Inc();
  }
}

bool DownstreamConnection::AtMaxRequests() const {
  const auto& max_requests = listener_->config->http.max_requests_per_connection;
  return max_requests.has_value() && requests_ >= static_cast<int64_t>(*max_requests);
}

bool DownstreamConnection::PastMaxDuration() const {
  const auto& max_duration = listener_->config->http.max_connection_duration;
  return max_duration.has_value() && *max_duration > absl::ZeroDuration() &&
         worker_.coarse_now() - opened_ >= ToClock(*max_duration);
}

bool DownstreamConnection::ShouldClose() const {
  // max_requests_per_connection and max_connection_duration: the last response says
  // `connection: close`.
  if (AtMaxRequests() || PastMaxDuration()) return true;
  return closed_ || listener_gone_ || !request_.keep_alive || !request_complete_ ||
         timed_out_.has_value() ||
         worker_.flags().draining.load(std::memory_order_relaxed) ||
         worker_.flags().health_check_failed.load(std::memory_order_relaxed);
}

void DownstreamConnection::ChargeResponse(int status) {
  // Like Envoy, charged as the response head goes out, so a client that has the response sees it
  // counted (a canary controller scraping right after its probe must not miss it).
  listener_->http->codes.Charge(status);
  listener_->listener->http_codes.Charge(status);
}

void DownstreamConnection::FinishRequest() {
  HttpStats& http = *listener_->http;
  http.downstream_rq_time.Record(static_cast<uint64_t>(ElapsedMs(request_start_)));
  http.downstream_rq_active.Dec();
}

Task<bool> DownstreamConnection::WriteDownstream(absl::string_view data) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                                            kNoThrow);
  co_return !ec;
}

Task<bool> DownstreamConnection::WriteDownstream(absl::string_view head,
                                                            absl::string_view body) {
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(head.data(), head.size()),
                                               asio::buffer(body.data(), body.size())};
  auto [ec, n] = co_await asio::async_write(socket_, buffers, kNoThrow);
  co_return !ec;
}

Task<DownstreamConnection::Result> DownstreamConnection::SendLocalReply(
    int status, absl::string_view body, const http::HeaderMap* extra_headers) {
  // Also closed when the rest of the request body was never read (ShouldClose): the connection
  // cannot carry another request then. A 400 closes it unless stream_error_on_invalid_http_message
  // is set (Envoy); a request the parser rejected has cleared keep_alive already.
  const bool close =
      ShouldClose() || status == 408 || status == 414 || status == 431 ||
      (status == 400 && !listener_->config->http.stream_error_on_invalid_http_message);
  if (close) CountDrainClose();
  out_.clear();
  std::string text = body.empty() ? "" : absl::StrCat(body, "\n");
  http1::AppendLocalReply(status, text, head_request_, close, worker_.date_header(),
                          listener_->config->http.server_name, extra_headers, &out_);
  ChargeResponse(status);
  ArmPhase(Phase::kResponse);
  bool written = co_await WriteDownstream(out_);
  FinishRequest();
  // Release the parsed head bytes (nothing was forwarded).
  in_.Consume(std::min(parsed_bytes_, in_.size()));
  parsed_bytes_ = 0;
  co_return (close || !written) ? Result::kClose : Result::kKeepAlive;
}

Task<DownstreamConnection::Result> DownstreamConnection::HandleRequest() {
  ++requests_;
  HttpStats& http = *listener_->http;
  http.downstream_rq_total.Inc();
  http.downstream_rq_http1_total.Inc();
  http.downstream_rq_active.Inc();
  const xds::HttpConnectionManagerConfig& hcm = listener_->config->http;
  head_request_ = request_.method == "HEAD";

  // Where the request is going: absolute-form target, else the Host header.
  absl::string_view authority;
  absl::string_view path = request_.target;
  const size_t hosts = request_.headers.Count("host");
  if (http1::SplitAbsoluteTarget(request_.target, &authority, &path)) {
    // The target's authority wins over Host (RFC 9112 §3.2.2); route and forward by the same one.
  } else if (hosts > 1) {
    co_return co_await SendLocalReply(400, "multiple host headers");
  } else if (hosts == 1) {
    authority = *request_.headers.Get("host");
  } else if (request_.version == 11) {
    co_return co_await SendLocalReply(400, "missing host header");
  }
  if (path.empty() || (path.front() != '/' && !(request_.method == "OPTIONS" && path == "*"))) {
    if (request_.method == "CONNECT") {
      // CONNECT needs a route with connect_matcher, which weir does not support (Envoy: 404).
      http.no_route.Inc();
      co_return co_await SendLocalReply(404, "CONNECT is not supported");
    }
    co_return co_await SendLocalReply(400, "invalid request target");
  }
  if (hcm.strip_any_host_port) authority = StripPort(authority);
  routing::RequestView view{.authority = authority,
                            .path = path,
                            .method = request_.method,
                            .scheme = "http",
                            .headers = &request_.headers};

  RouteDecision decision = RouteRequest(*listener_, worker_.flags(), view, worker_.random());
  switch (decision.kind) {
    case RouteDecision::Kind::kLocalReply:
      co_return co_await SendLocalReply(decision.status, "", &decision.headers);
    case RouteDecision::Kind::kDirect: {
      out_.clear();
      const bool close = ShouldClose();
      if (close) CountDrainClose();
      http1::AppendLocalReply(decision.status, decision.body, head_request_, close,
                              worker_.date_header(), hcm.server_name, nullptr, &out_);
      ChargeResponse(decision.status);
      ArmPhase(Phase::kResponse);
      bool written = co_await WriteDownstream(out_);
      FinishRequest();
      in_.Consume(std::min(parsed_bytes_, in_.size()));
      parsed_bytes_ = 0;
      co_return (close || !written) ? Result::kClose : Result::kKeepAlive;
    }
    case RouteDecision::Kind::kProxy:
      break;
  }
  // An HTTP/2 upstream goes through the codec-neutral router (stream_proxy.h).
  if (const ClusterEntry* entry = config_->FindCluster(decision.pick.cluster);
      entry != nullptr &&
      entry->cluster->config().protocol == routing::UpstreamProtocol::kHttp2) {
    co_return co_await ProxyViaStream(decision, authority, path);
  }
  if (!decision.rewritten_path.empty()) path = decision.rewritten_path;
  co_return co_await Proxy(*decision.action, decision.pick, authority, path);
}

// This connection's current request as a DownstreamStream, for the codec-neutral router.
class DownstreamConnection::StreamAdapter : public DownstreamStream {
 public:
  explicit StreamAdapter(DownstreamConnection& c) : c_(c) {}

  Task<Body> ReadBody() override {
    // Pieces parsed with the head come first; then the rest, read and parsed as it arrives.
    if (!head_released_) {
      head_released_ = true;
      CopyPieces();
      c_.in_.Consume(std::min(c_.parsed_bytes_, c_.in_.size()));
      c_.parsed_bytes_ = 0;
      if (!chunk_.empty() || c_.request_complete_) {
        co_return Body{.data = chunk_, .end = c_.request_complete_};
      }
    }
    bool need_more = c_.in_.empty();
    while (!c_.request_complete_) {
      if (cancelled_ || c_.closed_) co_return Body{.failed = true};
      if (c_.ctx_expect_continue_ && !c_.sent_continue_) {
        c_.sent_continue_ = true;
        if (!co_await c_.WriteDownstream("HTTP/1.1 100 Continue\r\n\r\n")) {
          co_return Body{.failed = true};
        }
      }
      if (need_more) {
        if (!co_await c_.ReadDownstream()) {
          c_.listener_->http->downstream_rq_rx_reset.Inc();
          c_.closed_ = true;
          co_return Body{.failed = true};
        }
      }
      boost::beast::error_code ec;
      const size_t n = c_.parser_->Put(c_.in_.Data(), ec);
      if (ec && ec != boost::beast::http::error::need_more) {
        c_.listener_->http->downstream_cx_protocol_error.Inc();
        c_.request_.keep_alive = false;
        co_return Body{.failed = true};
      }
      need_more = ec == boost::beast::http::error::need_more || n == c_.in_.size();
      c_.request_complete_ = c_.parser_->is_done();
      CopyPieces();
      c_.in_.Consume(n);
      if (!chunk_.empty() || c_.request_complete_) {
        co_return Body{.data = chunk_, .end = c_.request_complete_};
      }
    }
    co_return Body{.end = true};
  }

  Task<bool> SendHeaders(int status, const http::HeaderMap& headers, bool end_stream) override {
    c_.ChargeResponse(status);
    status_ = status;
    const bool no_body =
        c_.head_request_ || status == 204 || status == 304 || (status >= 100 && status < 200);
    close_ = c_.ShouldClose();
    std::string& out = c_.out_;
    out.clear();
    absl::StrAppend(&out, "HTTP/1.1 ", status, " ", http1::ReasonPhrase(status), "\r\n");
    bool has_length = false;
    headers.ForEach([&](absl::string_view name, absl::string_view value) {
      if (name == "content-length") has_length = true;
      absl::StrAppend(&out, name, ": ", value, "\r\n");
    });
    if (!no_body && !has_length) {
      if (end_stream) {
        out.append("content-length: 0\r\n");
      } else if (c_.request_.version == 11) {
        chunked_ = true;
        out.append("transfer-encoding: chunked\r\n");
      } else {
        close_ = true;  // HTTP/1.0: the body ends with the connection
      }
    }
    if (close_) {
      c_.CountDrainClose();
      out.append("connection: close\r\n");
    }
    out.append("\r\n");
    discard_body_ = no_body;
    if (end_stream) complete_ = true;
    co_return co_await c_.WriteDownstream(out);
  }

  Task<bool> SendData(absl::string_view data, bool end_stream) override {
    if (end_stream) complete_ = true;
    std::string& out = c_.out_;
    out.clear();
    if (!discard_body_ && !data.empty()) {
      if (chunked_) {
        http1::AppendChunkHeader(data.size(), &out);
        out.append(data.data(), data.size());
        out.append(http1::kChunkEnd.data(), http1::kChunkEnd.size());
      } else {
        out.append(data.data(), data.size());
      }
    }
    if (end_stream && chunked_) out.append(http1::kLastChunk.data(), http1::kLastChunk.size());
    if (out.empty()) co_return true;
    co_return co_await c_.WriteDownstream(out);
  }

  Task<bool> SendTrailers(const http::HeaderMap&) override {
    // HTTP/1.1 clients do not get trailers (Envoy's default): the body just ends.
    co_return co_await SendData("", /*end_stream=*/true);
  }

  void Reset() override {
    // Closing without the final chunk (or short of content-length) marks the response broken.
    complete_ = false;
    c_.Abort();
  }

  void Cancel() override {
    cancelled_ = true;
    boost::system::error_code ignored;
    c_.socket_.cancel(ignored);
  }

  // Whether the connection can carry another request.
  bool reusable() const { return complete_ && !close_ && !cancelled_ && !c_.closed_; }

 private:
  void CopyPieces() {
    chunk_.clear();
    for (absl::string_view piece : c_.parser_->Body()) chunk_.append(piece.data(), piece.size());
  }

  DownstreamConnection& c_;
  std::string chunk_;
  int status_ = 0;
  bool head_released_ = false;
  bool chunked_ = false;
  bool close_ = false;
  bool discard_body_ = false;
  bool complete_ = false;
  bool cancelled_ = false;
};

Task<DownstreamConnection::Result> DownstreamConnection::ProxyViaStream(
    const RouteDecision& decision, absl::string_view authority, absl::string_view path) {
  Disarm();  // the router keeps the request's deadlines
  ctx_expect_continue_ =
      absl::EqualsIgnoreCase(request_.headers.Get("expect").value_or(""), "100-continue");
  StreamAdapter adapter(*this);
  StreamRequest request{.method = request_.method,
                        .authority = authority,
                        .path = path,
                        .headers = &request_.headers,
                        .has_body = request_.chunked || request_.content_length.value_or(0) > 0,
                        .content_length = request_.content_length,
                        .head_request = head_request_,
                        .remote_address = remote_address_,
                        .received_at = request_start_};
  if (!request.has_body) {
    in_.Consume(std::min(parsed_bytes_, in_.size()));
    parsed_bytes_ = 0;
  }
  co_await ProxyStream(worker_, *listener_, decision, request, adapter);
  FinishRequest();
  co_return adapter.reusable() && request_complete_ ? Result::kKeepAlive : Result::kClose;
}

// Everything one proxied request needs across its steps.
struct DownstreamConnection::ProxyContext {
  WorkerCluster* cluster = nullptr;
  ClusterStats* stats = nullptr;
  size_t host_index = 0;
  const UpstreamHost* host = nullptr;
  http1::UpstreamRequest upstream_request;
  Worker::RequestId request_id;
  bool has_body = false;
  bool expect_continue = false;
  bool reused = false;
  bool got_response_bytes = false;
  uint64_t generation = 0;  // of the cluster's host list when the host was picked
  Clock::time_point upstream_start;
  Clock::time_point request_end;
};

void DownstreamConnection::CloseUpstream(ProxyContext& ctx, bool remote) {
  if (upstream_ == nullptr) return;
  boost::system::error_code ignored;
  upstream_->socket.close(ignored);
  upstream_.reset();
  ctx.stats->upstream_cx_active.Dec();
  ctx.stats->upstream_cx_destroy.Inc();
  (remote ? ctx.stats->upstream_cx_destroy_remote : ctx.stats->upstream_cx_destroy_local).Inc();
}

void DownstreamConnection::AppendBodyPieces(const std::vector<absl::string_view>& pieces,
                                            bool chunked, bool last) {
  for (absl::string_view piece : pieces) {
    if (piece.empty()) continue;
    if (chunked) {
      http1::AppendChunkHeader(piece.size(), &out_);
      out_.append(piece.data(), piece.size());
      out_.append(http1::kChunkEnd.data(), http1::kChunkEnd.size());
    } else {
      out_.append(piece.data(), piece.size());
    }
  }
  if (chunked && last) out_.append(http1::kLastChunk.data(), http1::kLastChunk.size());
}

Task<DownstreamConnection::Result> DownstreamConnection::Proxy(
    const routing::RouteActionConfig& action, routing::ClusterPick pick,
    absl::string_view authority, absl::string_view path) {
  HttpStats& http = *listener_->http;
  const xds::HttpConnectionManagerConfig& hcm = listener_->config->http;
  WorkerCluster* cluster = worker_.AcquireCluster(pick.cluster);
  if (cluster == nullptr) {
    http.no_cluster.Inc();
    co_return co_await SendLocalReply(static_cast<int>(action.cluster_not_found_response_code),
                                      absl::StrCat("cluster not found: ", pick.cluster));
  }
  absl::Cleanup release_cluster = [&] { worker_.ReleaseCluster(cluster); };
  ProxyContext ctx;
  ctx.cluster = cluster;
  ctx.stats = cluster->entry->stats;
  ClusterStats& stats = *ctx.stats;
  std::optional<size_t> host_index =
      cluster->picker != nullptr ? cluster->picker->Pick(worker_.random().Next()) : std::nullopt;
  if (!host_index.has_value()) {
    stats.upstream_cx_none_healthy.Inc();
    ChargeCluster(stats, 503);
    co_return co_await SendLocalReply(503, kNoHealthyUpstream);
  }
  ctx.host_index = *host_index;
  ctx.host = &cluster->entry->hosts[*host_index];
  ctx.generation = cluster->generation;
  cluster->picker->OnRequestStart(ctx.host_index);
  stats.upstream_rq_total.Inc();
  stats.upstream_rq_active.Inc();
  absl::Cleanup end_request = [&] {
    stats.upstream_rq_active.Dec();
    if (cluster->generation == ctx.generation) cluster->picker->OnRequestEnd(ctx.host_index);
    CloseUpstream(ctx, /*remote=*/false);  // unless ForwardResponse parked it
  };

  // The upstream request head.
  http1::UpstreamRequest& up = ctx.upstream_request;
  up.method = request_.method;
  up.path = path;
  if (pick.weighted_cluster != nullptr && !pick.weighted_cluster->host_rewrite_literal.empty()) {
    up.authority = pick.weighted_cluster->host_rewrite_literal;
  } else if (!action.host_rewrite_literal.empty()) {
    up.authority = action.host_rewrite_literal;
  } else if (action.auto_host_rewrite && !ctx.host->hostname.empty()) {
    up.authority = ctx.host->hostname;
  } else {
    up.authority = authority;
  }
  ctx.has_body = request_.chunked || request_.content_length.has_value();
  if (request_.chunked) {
    up.framing = BodyFraming::kChunked;
  } else if (request_.content_length.has_value()) {
    up.framing = BodyFraming::kContentLength;
    up.content_length = *request_.content_length;
  }
  bool external = false;
  if (hcm.use_remote_address && !remote_address_.empty()) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(remote_address_, ec);
    external = ec || !IsInternalAddress(address);
    if (!hcm.skip_xff_append) up.append_forwarded_for = remote_address_;
  }
  if (hcm.generate_request_id &&
      (!request_.headers.Has("x-request-id") || (external && !hcm.preserve_external_request_id))) {
    ctx.request_id = worker_.NewRequestId();
    up.request_id = absl::string_view(ctx.request_id.data(), ctx.request_id.size());
  }
  route_timeout_ = action.timeout;
  if (route_timeout_ > absl::ZeroDuration() && !hcm.suppress_envoy_headers) {
    up.expected_timeout = route_timeout_;
  }
  ctx.expect_continue =
      absl::EqualsIgnoreCase(request_.headers.Get("expect").value_or(""), "100-continue");

  // Attempts: a second one only when a pooled connection turned out dead before any response
  // byte and the request has no body (so it can be replayed as is).
  for (int attempt = 0;; ++attempt) {
    Step step = co_await ConnectUpstream(ctx);
    if (step == Step::kDone) co_return result_;
    step = co_await SendRequestHead(ctx);
    if (step == Step::kStale && attempt == 0 && !ctx.has_body) {
      stats.upstream_rq_retry.Inc();
      continue;
    }
    if (step != Step::kOk) co_return result_;
    step = co_await StreamRequestBody(ctx);
    if (step == Step::kDone) co_return result_;
    step = co_await ReadResponseHead(ctx);
    if (step == Step::kStale && attempt == 0 && !ctx.has_body) {
      stats.upstream_rq_retry.Inc();
      continue;
    }
    if (step != Step::kOk) co_return result_;
    break;
  }
  co_return co_await ForwardResponse(ctx);
}

Task<DownstreamConnection::Step> DownstreamConnection::ConnectUpstream(
    ProxyContext& ctx) {
  ClusterStats& stats = *ctx.stats;
  int dead = 0;
  // A request that cannot be replayed (it has a body) always gets a checked connection.
  upstream_ = ctx.cluster->pool.TakeIdle(
      ctx.host_index, worker_.coarse_now(),
      ctx.has_body ? Clock::duration::zero() : upstream::kUncheckedReuse, &dead);
  for (int i = 0; i < dead; ++i) {
    stats.upstream_cx_active.Dec();
    stats.upstream_cx_destroy.Inc();
    stats.upstream_cx_destroy_remote.Inc();
  }
  ctx.reused = upstream_ != nullptr;
  ctx.got_response_bytes = false;
  if (ctx.reused) co_return Step::kOk;

  stats.upstream_rq_pending_total.Inc();
  stats.upstream_rq_pending_active.Inc();
  upstream_ = std::make_unique<upstream::UpstreamConnection>(socket_.get_executor(),
                                                              ctx.host_index);
  const auto connect_start = Clock::now();
  phase_ = Phase::kConnect;
  ArmAt(connect_start + ToClock(ctx.cluster->entry->cluster->config().connect_timeout));
  auto [ec] = co_await upstream_->socket.async_connect(ctx.host->endpoint, kNoThrow);
  stats.upstream_rq_pending_active.Dec();
  if (ec || closed_) {
    const bool timeout = timed_out_ == Phase::kConnect;
    timed_out_.reset();
    (timeout ? stats.upstream_cx_connect_timeout : stats.upstream_cx_connect_fail).Inc();
    boost::system::error_code ignored;
    upstream_->socket.close(ignored);
    upstream_.reset();
    if (closed_) {
      result_ = Result::kClose;
      co_return Step::kDone;
    }
    ChargeCluster(stats, 503);
    result_ = co_await SendLocalReply(503, timeout ? kConnectTimeout : kConnectFailure);
    co_return Step::kDone;
  }
  stats.upstream_cx_total.Inc();
  stats.upstream_cx_http1_total.Inc();
  stats.upstream_cx_active.Inc();
  stats.upstream_cx_connect_ms.Record(static_cast<uint64_t>(ElapsedMs(connect_start)));
  boost::system::error_code ignored;
  upstream_->socket.set_option(tcp::no_delay(true), ignored);
  worker_.peer_close_watch().Watch(upstream_->socket);
  co_return Step::kOk;
}

Task<DownstreamConnection::Step> DownstreamConnection::SendRequestHead(
    ProxyContext& ctx) {
  // Head plus whatever of the body arrived with it, in one write.
  out_.clear();
  http1::AppendUpstreamRequestHead(ctx.upstream_request, request_.headers, &out_);
  AppendBodyPieces(parser_->Body(), request_.chunked, request_complete_);
  ArmPhase(Phase::kRequestBody);
  ctx.upstream_start = Clock::now();
  auto [ec, written] = co_await asio::async_write(upstream_->socket, asio::buffer(out_), kNoThrow);
  if (ec) {
    const bool stale = ctx.reused && !closed_ && !timed_out_.has_value();
    CloseUpstream(ctx, /*remote=*/true);
    if (stale) co_return Step::kStale;
    if (closed_) {
      result_ = Result::kClose;
      co_return Step::kDone;
    }
    ChargeCluster(*ctx.stats, 503);
    result_ = co_await SendLocalReply(503, kResetBeforeHeaders);
    co_return Step::kDone;
  }
  ctx.stats->upstream_cx_tx_bytes_total.Add(written);
  co_return Step::kOk;
}

Task<DownstreamConnection::Step> DownstreamConnection::StreamRequestBody(
    ProxyContext& ctx) {
  // The head (and the body bytes parsed with it) went out; release them.
  in_.Consume(std::min(parsed_bytes_, in_.size()));
  parsed_bytes_ = 0;
  HttpStats& http = *listener_->http;
  bool need_more = in_.empty();  // a partial chunk header can sit in in_ while more is needed
  while (!request_complete_) {
    if (ctx.expect_continue && !sent_continue_) {
      sent_continue_ = true;
      if (!co_await WriteDownstream("HTTP/1.1 100 Continue\r\n\r\n")) {
        result_ = Result::kClose;
        co_return Step::kDone;
      }
    }
    if (need_more) {
      ArmPhase(Phase::kRequestBody);
      if (!co_await ReadDownstream()) {
        if (timed_out_.has_value() && !closed_) {
          http.downstream_rq_idle_timeout.Inc();
          timed_out_.reset();
          result_ = co_await SendLocalReply(408, "request timeout");
          co_return Step::kDone;
        }
        // The client went away mid-request: the upstream request is cancelled with it.
        http.downstream_rq_rx_reset.Inc();
        http.downstream_cx_destroy_remote_active_rq.Inc();
        ctx.stats->upstream_rq_cancelled.Inc();
        FinishRequest();
        closed_ = true;
        result_ = Result::kClose;
        co_return Step::kDone;
      }
    }
    boost::beast::error_code ec;
    size_t n = parser_->Put(in_.Data(), ec);
    if (ec && ec != boost::beast::http::error::need_more) {
      http.downstream_cx_protocol_error.Inc();
      request_.keep_alive = false;
      in_.Consume(in_.size());
      result_ = co_await SendLocalReply(400, "Bad Request");
      co_return Step::kDone;
    }
    need_more = ec == boost::beast::http::error::need_more || n == in_.size();
    request_complete_ = parser_->is_done();
    out_.clear();
    AppendBodyPieces(parser_->Body(), request_.chunked, request_complete_);
    in_.Consume(n);
    if (out_.empty()) continue;
    ArmPhase(Phase::kRequestBody);
    auto [write_ec, written] =
        co_await asio::async_write(upstream_->socket, asio::buffer(out_), kNoThrow);
    if (write_ec) {
      if (closed_ || timed_out_.has_value()) {
        result_ = Result::kClose;
        co_return Step::kDone;
      }
      // The upstream stopped reading. It may have answered early (413...): read that below;
      // the rest of the request body is never read, so the connection closes afterwards.
      break;
    }
    ctx.stats->upstream_cx_tx_bytes_total.Add(written);
  }
  co_return Step::kOk;
}

Task<DownstreamConnection::Step> DownstreamConnection::ReadResponseHead(
    ProxyContext& ctx) {
  ClusterStats& stats = *ctx.stats;
  // The route timeout runs from the end of the request to the end of the response (Envoy).
  ctx.request_end = Clock::now();
  ArmPhase(Phase::kUpstream);
  const http1::ParseLimits limits{.max_header_bytes = kMaxResponseHeaderBytes,
                                  .max_headers = 1000,
                                  .max_request_line = kMaxResponseHeaderBytes};
  response_parser_.emplace(limits, &response_);
  if (head_request_) response_parser_->skip(true);
  while (true) {
    if (!upstream_->in.empty()) {
      boost::beast::error_code ec;
      size_t n = response_parser_->Put(upstream_->in.Data(), ec);
      if (ec && ec != boost::beast::http::error::need_more) {
        stats.upstream_cx_protocol_error.Inc();
        CloseUpstream(ctx, /*remote=*/false);
        ChargeCluster(stats, 503);
        result_ = co_await SendLocalReply(503, kUpstreamProtocolError);
        co_return Step::kDone;
      }
      if (response_parser_->is_header_done()) {
        if (response_.status >= 200) {
          parsed_bytes_ = n;  // head and any body bytes, released by ForwardResponse
          co_return Step::kOk;
        }
        upstream_->in.Consume(n);
        if (response_.status == 101) {  // an upgrade nobody asked for
          stats.upstream_cx_protocol_error.Inc();
          CloseUpstream(ctx, /*remote=*/false);
          ChargeCluster(stats, 503);
          result_ = co_await SendLocalReply(503, kUpstreamProtocolError);
          co_return Step::kDone;
        }
        // An interim response (100 Continue, 103 Early Hints): wait for the final one.
        response_parser_.emplace(limits, &response_);
        if (head_request_) response_parser_->skip(true);
        continue;
      }
      upstream_->in.Consume(n);  // the part of the head parsed so far (copied into response_)
      if (upstream_->in.Full(kMaxResponseHeaderBytes + kReadChunk)) {
        stats.upstream_cx_protocol_error.Inc();
        listener_->http->rs_too_large.Inc();
        CloseUpstream(ctx, /*remote=*/false);
        ChargeCluster(stats, 503);
        result_ = co_await SendLocalReply(503, kUpstreamProtocolError);
        co_return Step::kDone;
      }
    }
    ReadBufferPool::Buffer pooled;
    auto [ec, n] = co_await upstream_->socket.async_read_some(
        NextRead(upstream_->in, kReadChunk, kMaxResponseHeaderBytes + kReadChunk,
                 worker_.read_buffers(), &pooled, worker_.peer_close_watch()),
        kNoThrow);
    if (ec) {
      if (closed_) {
        stats.upstream_rq_cancelled.Inc();
        result_ = Result::kClose;
        co_return Step::kDone;
      }
      if (timed_out_ == Phase::kUpstream) {
        timed_out_.reset();
        stats.upstream_rq_timeout.Inc();
        CloseUpstream(ctx, /*remote=*/false);
        ChargeCluster(stats, 504);
        result_ = co_await SendLocalReply(504, kUpstreamTimeout);
        co_return Step::kDone;
      }
      const bool stale = ctx.reused && !ctx.got_response_bytes;
      CloseUpstream(ctx, /*remote=*/true);
      if (stale && !ctx.has_body) co_return Step::kStale;
      stats.upstream_rq_rx_reset.Inc();
      ChargeCluster(stats, 503);
      result_ = co_await SendLocalReply(503, kResetBeforeHeaders);
      co_return Step::kDone;
    }
    ctx.got_response_bytes = true;
    upstream_->in.CommitRead(n, std::move(pooled));
    stats.upstream_cx_rx_bytes_total.Add(n);
  }
}

Task<DownstreamConnection::Result> DownstreamConnection::ForwardResponse(
    ProxyContext& ctx) {
  ClusterStats& stats = *ctx.stats;
  HttpStats& http = *listener_->http;
  const xds::HttpConnectionManagerConfig& hcm = listener_->config->http;
  const int status = response_.status;
  // Envoy charges the upstream code when the response headers arrive.
  ChargeCluster(stats, status);

  http1::DownstreamResponse head;
  head.status = status;
  head.server_name = hcm.server_name;
  head.date = worker_.date_header();
  if (!hcm.suppress_envoy_headers) head.upstream_service_time_ms = ElapsedMs(ctx.upstream_start);
  const bool no_body = head_request_ || status == 204 || status == 304;
  if (no_body) {
    if (head_request_ && response_.content_length.has_value()) {
      head.framing = BodyFraming::kContentLength;
      head.content_length = *response_.content_length;
    }
  } else if (response_.content_length.has_value()) {
    head.framing = BodyFraming::kContentLength;
    head.content_length = *response_.content_length;
  } else if (request_.version == 11) {
    head.framing = BodyFraming::kChunked;
  } else {
    head.framing = BodyFraming::kUntilClose;
  }
  const bool close = ShouldClose() || head.framing == BodyFraming::kUntilClose;
  if (close) CountDrainClose();
  head.close_connection = close;
  const bool chunked_out = head.framing == BodyFraming::kChunked;

  out_.clear();
  http1::AppendDownstreamResponseHead(head, response_.headers, &out_);
  bool done = response_parser_->is_done();
  AppendBodyPieces(response_parser_->Body(), chunked_out, done);
  upstream_->in.Consume(parsed_bytes_);
  parsed_bytes_ = 0;
  ChargeResponse(status);
  ArmPhase(Phase::kResponse);
  bool ok = co_await WriteDownstream(out_);
  // While the body streams, the route timeout still counts from the end of the request.
  auto arm_upstream = [&] {
    phase_ = Phase::kUpstream;
    const absl::Duration timeout =
        route_timeout_ > absl::ZeroDuration() ? route_timeout_ : hcm.stream_idle_timeout;
    ArmAt((route_timeout_ > absl::ZeroDuration() ? ctx.request_end : Clock::now()) +
          ToClock(timeout));
  };
  bool need_more = upstream_->in.empty();
  while (ok && !done) {
    if (need_more) {
      arm_upstream();
      ReadBufferPool::Buffer pooled;
      auto [ec, n] = co_await upstream_->socket.async_read_some(
          NextRead(upstream_->in, kReadChunk, kMaxResponseHeaderBytes + kReadChunk,
                   worker_.read_buffers(), &pooled, worker_.peer_close_watch()),
          kNoThrow);
      if (ec == asio::error::eof && response_parser_->need_eof()) {
        boost::beast::error_code eof_ec;
        response_parser_->PutEof(eof_ec);
        done = true;
        out_.clear();
        if (chunked_out) out_.append(http1::kLastChunk.data(), http1::kLastChunk.size());
        CloseUpstream(ctx, /*remote=*/true);
        if (!out_.empty()) {
          ArmPhase(Phase::kResponse);
          ok = co_await WriteDownstream(out_);
        }
        break;
      }
      if (ec) {
        if (timed_out_ == Phase::kUpstream) stats.upstream_rq_timeout.Inc();
        ok = false;
        break;
      }
      upstream_->in.CommitRead(n, std::move(pooled));
      stats.upstream_cx_rx_bytes_total.Add(n);
    }
    boost::beast::error_code ec;
    size_t n = response_parser_->Put(upstream_->in.Data(), ec);
    if (ec && ec != boost::beast::http::error::need_more) {
      stats.upstream_cx_protocol_error.Inc();
      ok = false;
      break;
    }
    need_more = ec == boost::beast::http::error::need_more || n == upstream_->in.size();
    done = response_parser_->is_done();
    out_.clear();
    AppendBodyPieces(response_parser_->Body(), chunked_out, done);
    upstream_->in.Consume(n);
    if (!out_.empty()) {
      ArmPhase(Phase::kResponse);
      ok = co_await WriteDownstream(out_);
    }
  }
  if (hcm.router_dynamic_stats) {
    stats.upstream_rq_time.Record(static_cast<uint64_t>(ElapsedMs(ctx.request_end)));
  }
  if (!ok || !done) {
    // The response started but cannot be completed: the client must see a broken response, never
    // a complete-looking one, so the connection closes without the final chunk.
    http.rq_reset_after_downstream_response_started.Inc();
    stats.upstream_rq_rx_reset.Inc();
    CloseUpstream(ctx, /*remote=*/true);
    FinishRequest();
    Abort();
    co_return Result::kClose;
  }
  // Park the upstream connection for the next request when it is clean and reusable.
  if (upstream_ != nullptr) {
    ++upstream_->requests_served;
    const auto& cluster_config = ctx.cluster->entry->cluster->config();
    const bool at_max_requests =
        cluster_config.max_requests_per_connection.has_value() &&
        upstream_->requests_served >= *cluster_config.max_requests_per_connection;
    if (at_max_requests) stats.upstream_cx_max_requests.Inc();
    const bool reusable = response_.keep_alive && upstream_->in.empty() && !ctx.cluster->removed &&
                          request_complete_ && !at_max_requests;
    // A new host list (generation) renumbers hosts: the connection cannot be filed by index.
    if (reusable && ctx.cluster->generation == ctx.generation) {
      ctx.cluster->pool.Park(std::move(upstream_), worker_.coarse_now());
    }
  }
  FinishRequest();
  co_return close ? Result::kClose : Result::kKeepAlive;
}

}  // namespace proxy
