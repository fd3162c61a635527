#pragma once

// DownstreamConnection: one client connection on a worker, speaking HTTP/1.1. A coroutine reads
// a request head, routes it (routing::RouteTable), and either answers locally (404, direct
// response, redirect, 503 no healthy upstream...) or proxies it to an upstream host over a pooled
// keep-alive connection, streaming both bodies with bounded buffers: a body is read only as fast
// as the other side takes it. Requests on a connection are handled one at a time, so pipelined
// requests are answered in order.
//
// Failures map to Envoy's statuses and counters: no route 404, unknown cluster 503 (or the
// route's cluster_not_found_response_code), no healthy upstream / connect failure / reset before
// headers 503, route timeout 504, reset after headers closes the downstream connection without
// completing the response; malformed requests 400, headers too large 431, request line too long
// 414, all with the connection closed afterwards.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "boost/asio/ip/tcp.hpp"
#include "proxy/asio_types.h"
#include "proxy/deadline_sweeper.h"
#include "proxy/http1/forwarding.h"
#include "proxy/http1/message_parser.h"
#include "proxy/http1/response_parser.h"
#include "proxy/io_buffer.h"
#include "proxy/request_router.h"
#include "proxy/serving_config.h"
#include "proxy/stream_proxy.h"
#include "proxy/upstream/upstream_connection.h"
#include "routing/route.h"

namespace proxy {

class Http2DownstreamConnection;
class Worker;
struct WorkerCluster;

class DownstreamConnection : public std::enable_shared_from_this<DownstreamConnection>,
                             public Deadline {
 public:
  DownstreamConnection(Worker& worker, std::string listener_name, Socket socket);
  ~DownstreamConnection() override;

  // Serves requests until the connection closes.
  Task<void> Run();

  // Draining began: a connection waiting between requests gets a short deadline (1 s) to close,
  // long enough for a request already on the wire; busy ones close after their response.
  void OnDrain();
  // Closes the connection now, whatever it is doing (shutdown).
  void Abort();
  // The worker has a new config. If this connection's listener was removed or changed by LDS,
  // the connection drains: it finishes the request in progress on the config it started with,
  // then closes (an idle one within a second).
  void OnConfigUpdate();

 private:
  enum class Phase {
    kIdle,            // waiting for the first byte of a request
    kRequestHeaders,  // reading a request head
    kRequestBody,     // reading the request body (proxying it)
    kConnect,         // connecting to the upstream
    kUpstream,        // waiting for or reading the upstream response
    kResponse,        // writing the response
  };
  enum class Result { kKeepAlive, kClose };

  void OnDeadline() override;
  void ArmPhase(Phase phase);

  // codec_type HTTP2, or AUTO and the client sent the HTTP/2 preface: serves the connection as
  // HTTP/2 (Http2DownstreamConnection) and returns true when it is done.
  Task<bool> ServeHttp2IfChosen();
  Task<bool> ReadRequestHead();
  Task<Result> HandleRequest();
  struct ProxyContext;
  enum class Step { kOk, kStale, kDone };

  class StreamAdapter;
  // A request whose cluster speaks HTTP/2: proxied by the codec-neutral router.
  Task<Result> ProxyViaStream(const RouteDecision& decision, absl::string_view authority,
                              absl::string_view path);
  Task<Result> Proxy(const routing::RouteActionConfig& action,
                                       routing::ClusterPick pick, absl::string_view authority,
                                       absl::string_view path);
  // The steps of one proxied request. kStale: a pooled connection turned out dead before any
  // response byte, the request may be retried on a fresh one. kDone: a reply was sent (or the
  // client is gone) and `result_` says what to do with the connection.
  Task<Step> ConnectUpstream(ProxyContext& ctx);
  Task<Step> SendRequestHead(ProxyContext& ctx);
  Task<Step> StreamRequestBody(ProxyContext& ctx);
  Task<Step> ReadResponseHead(ProxyContext& ctx);
  Task<Result> ForwardResponse(ProxyContext& ctx);
  void CloseUpstream(ProxyContext& ctx, bool remote);
  void AppendBodyPieces(const std::vector<absl::string_view>& pieces, bool chunked, bool last);
  Task<Result> SendLocalReply(int status, absl::string_view body,
                                                const http::HeaderMap* extra_headers = nullptr);
  Task<bool> WriteDownstream(absl::string_view data);
  Task<bool> WriteDownstream(absl::string_view head, absl::string_view body);
  // Reads more request bytes into in_; false on EOF, error or timeout.
  Task<bool> ReadDownstream();
  // Reads and discards what is left of the request body (after a local reply), within limits;
  // false if the connection cannot be reused.
  Task<bool> DiscardRequestBody();
  Task<void> CloseGracefully();

  void ChargeResponse(int status);
  void FinishRequest();
  void ChargeCluster(ClusterStats& stats, int status);
  // Counts downstream_cx_drain_close when a closing response is due to draining.
  void CountDrainClose();
  bool ShouldClose() const;
  // The connection served the listener's max_requests_per_connection.
  bool AtMaxRequests() const;
  // The connection is older than the listener's max_connection_duration.
  bool PastMaxDuration() const;
  // Takes the worker's current config between requests, unless the listener is gone.
  void RefreshConfig();

  Worker& worker_;
  std::unique_ptr<Http2DownstreamConnection> h2_;  // set when the connection speaks HTTP/2
  const std::string listener_name_;
  uint64_t listener_hash_ = 0;  // the listener version this connection was accepted by
  bool listener_gone_ = false;  // that version was removed or replaced: drain
  Socket socket_;
  std::string remote_address_;  // client IP, for x-forwarded-for
  std::chrono::steady_clock::time_point opened_;

  std::shared_ptr<const ServingConfig> config_;  // refreshed between requests
  const ListenerEntry* listener_ = nullptr;

  IoBuffer in_{0};  // storage from the worker's ReadBufferPool while a message is in (NextRead)
  http1::MessageHead request_;
  std::optional<http1::RequestParser> parser_;
  size_t parsed_bytes_ = 0;  // bytes of in_ the parser consumed but we have not yet released
  http1::ParseLimits limits_;
  std::string out_;

  http1::MessageHead response_;
  std::optional<http1::ResponseParser> response_parser_;
  std::unique_ptr<upstream::UpstreamConnection> upstream_;  // the request's upstream connection

  Phase phase_ = Phase::kIdle;
  std::optional<Phase> timed_out_;  // set by OnDeadline for the phase that expired
  absl::Duration route_timeout_ = absl::ZeroDuration();
  std::chrono::steady_clock::time_point request_start_;
  bool head_request_ = false;
  bool request_complete_ = false;  // the whole request body has been read
  bool sent_continue_ = false;
  bool ctx_expect_continue_ = false;  // the current request has "expect: 100-continue"
  bool closed_ = false;
  Result result_ = Result::kClose;  // of the local reply a kDone step sent
  bool registered_ = false;
  int requests_ = 0;
};

}  // namespace proxy
