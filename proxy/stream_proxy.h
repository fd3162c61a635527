#pragma once

// The router for requests that involve HTTP/2 on either side (HTTP/2 clients, HTTP/2
// upstreams, gRPC): one coroutine per request that picks the upstream host, opens an
// upstream::Exchange (HTTP/1.1 or HTTP/2), and relays both directions at once: the request body
// (and trailers) upstream while the response head, body and trailers come back, so gRPC's
// streaming calls work in every direction. HTTP/1.1 to HTTP/1.1 keeps its own, byte-level path
// (downstream_connection.h).
//
// Backpressure is end to end: a piece of body is read from one side only after the previous one
// was taken by the other (DownstreamStream::ReadBody / Exchange::Next release the previous piece,
// which is when HTTP/2 flow-control windows reopen).
//
// Failures map as in Envoy: no cluster → cluster_not_found_response_code, no healthy host or
// connect failure or reset before the response → 503, route timeout → 504, and a failure after
// the response started resets the stream. Toward a gRPC client (content-type application/grpc)
// those are gRPC errors instead: HTTP 200 with grpc-status 14 UNAVAILABLE (4 DEADLINE_EXCEEDED for
// timeouts) in a trailers-only response. A gRPC call's grpc-timeout caps the route timeout.
// Per-cluster gRPC counters (cluster.<name>.grpc.*) count every call by its final grpc-status.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "proxy/asio_types.h"
#include "proxy/http/header_map.h"
#include "proxy/request_router.h"
#include "proxy/serving_config.h"

namespace proxy {

class Worker;

// The client side of one request, as the router sees it: an HTTP/2 stream, or an HTTP/1.1
// connection's current request. Every call returns false (or a failed Body) once the client is
// gone or Cancel() was called.
class DownstreamStream {
 public:
  struct Body {
    absl::string_view data;                      // valid until the next ReadBody()
    bool end = false;                            // the request is complete
    const http::HeaderMap* trailers = nullptr;   // with `end`, when the request had trailers
    bool failed = false;                         // reset by the client, or cancelled
  };

  virtual ~DownstreamStream() = default;
  // The next piece of request body; calling it again releases the previous piece.
  virtual Task<Body> ReadBody() = 0;
  // The response head: `headers` are the final fields (content-length among them when known).
  virtual Task<bool> SendHeaders(int status, const http::HeaderMap& headers, bool end_stream) = 0;
  virtual Task<bool> SendData(absl::string_view data, bool end_stream) = 0;
  // Ends the response with trailers (an HTTP/1.1 client gets the end of the body without them).
  virtual Task<bool> SendTrailers(const http::HeaderMap& trailers) = 0;
  // The same calls completed at once where the stream never has to wait for them (an HTTP/2
  // stream queues the head and trailers in its session, and data while the stream's send buffer
  // has room): an awaited call costs a coroutine frame, several per response. nullopt: nothing
  // was done, use the awaitable form.
  virtual std::optional<bool> SendHeadersNow(int /*status*/, const http::HeaderMap& /*headers*/,
                                             bool /*end_stream*/) {
    return std::nullopt;
  }
  virtual std::optional<bool> SendDataNow(absl::string_view /*data*/, bool /*end_stream*/) {
    return std::nullopt;
  }
  virtual std::optional<bool> SendTrailersNow(const http::HeaderMap& /*trailers*/) {
    return std::nullopt;
  }
  // The response cannot be completed: the client must see it broken (RST_STREAM, or the
  // HTTP/1.1 connection closed without the final chunk).
  virtual void Reset() = 0;
  // Wakes any ReadBody/Send* wait with failure.
  virtual void Cancel() = 0;

  // Set by the router while it proxies: the stream calls it when the client resets the request,
  // so that an upstream wait ends at once.
  std::function<void()> on_client_reset;
};

// What the router needs to know about the request.
struct StreamRequest {
  absl::string_view method;
  absl::string_view authority;  // for routing and forwarding (port stripped if configured)
  absl::string_view path;       // as received; the route's rewrite applies on top
  // Regular header fields as received (an HTTP/2 client's cookie crumbs joined into one).
  const http::HeaderMap* headers = nullptr;
  bool has_body = false;
  std::optional<uint64_t> content_length;
  bool head_request = false;
  absl::string_view remote_address;  // for x-forwarded-for
  absl::string_view forwarded_proto = "http";
  // When the request head was received. The upstream request's clock (route timeout,
  // x-envoy-upstream-service-time, upstream_rq_time) starts here too: routing takes microseconds,
  // and a clock read per request is not free.
  std::chrono::steady_clock::time_point received_at;
};

// Whether the request is gRPC (content-type application/grpc[+proto|...]).
bool IsGrpcRequest(const http::HeaderMap& headers);

// A reply made by the proxy. For a gRPC request it is a trailers-only gRPC error (HTTP 200,
// grpc-status from GrpcStatusForHttp, grpc-message `body`); otherwise `status` with `body` as
// text/plain. `headers` are extra fields (location, x-envoy-...).
struct LocalReply {
  int status = 0;
  absl::string_view body;
  const http::HeaderMap* headers = nullptr;
  bool grpc = false;
  bool timeout = false;  // an upstream timeout: DEADLINE_EXCEEDED for gRPC
  bool head_request = false;
};
Task<bool> SendLocalReply(DownstreamStream& downstream, const LocalReply& reply,
                          absl::string_view server_name, absl::string_view date);

// Proxies a request the route sent to a cluster (decision.kind == kProxy).
Task<void> ProxyStream(Worker& worker, const ListenerEntry& listener,
                       const RouteDecision& decision, const StreamRequest& request,
                       DownstreamStream& downstream);

}  // namespace proxy
