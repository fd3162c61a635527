#pragma once

// Exchange: one request/response with an upstream host as the stream proxy (stream_proxy.h)
// drives it, whatever the upstream speaks: H2Exchange is a stream on a pooled, multiplexed
// H2Connection; H1Exchange owns a pooled HTTP/1.1 keep-alive connection for the request's
// lifetime. Both directions can be in flight at once (gRPC bidi streaming needs it): one
// coroutine sends the request body while another reads the response.
//
// The response arrives as events from Next(): kHeaders (the final head; 1xx are skipped), kData
// pieces, kTrailers, then kEnd; or kFailed at any point. Views in an event stay valid until the
// next Next() or NextBuffered() call, which is also when the previous piece counts as passed on
// (flow control: an HTTP/2 upstream gets its WINDOW_UPDATE then). Cancel() wakes every wait with
// failure (a deadline fired, the client left); the destructor resets a stream still open.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "proxy/asio_types.h"
#include "proxy/async_event.h"
#include "proxy/http/header_map.h"
#include "proxy/http1/forwarding.h"
#include "proxy/http1/response_parser.h"
#include "proxy/http2/session.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/h2_connection.h"

namespace proxy {
class Worker;
struct WorkerCluster;
struct UpstreamHost;
}  // namespace proxy

namespace proxy::upstream {

enum class ExchangeFailure {
  kNone,
  kConnectFailure,
  kConnectTimeout,
  kReset,          // the upstream reset the stream or closed the connection
  kRefused,        // HTTP/2 REFUSED_STREAM or GOAWAY: the upstream did not process it
  kProtocolError,  // an invalid response
  kCancelled,      // Cancel() was called
};

struct ExchangeEvent {
  enum class Kind { kHeaders, kData, kTrailers, kEnd, kFailed };
  Kind kind = Kind::kEnd;
  int status = 0;                             // kHeaders
  http::HeaderMap* headers = nullptr;         // kHeaders, kTrailers; the consumer may rewrite them
  absl::string_view data;                     // kData
  bool end_stream = false;                    // kHeaders/kData: nothing but kEnd follows
  std::optional<uint64_t> content_length;     // kHeaders: the response's, when it has one
  ExchangeFailure failure = ExchangeFailure::kNone;  // kFailed
};

// The request head as the upstream gets it.
struct ExchangeRequest {
  // Method, path, authority, framing and the forwarding rules; the header fields after Host are
  // the received ones under those rules (http1::ForEachUpstreamHeader), produced as the head is
  // written: no copy per request.
  const http1::UpstreamRequest* head = nullptr;
  const http::HeaderMap* received_headers = nullptr;
  bool has_body = false;
  bool head_request = false;  // HEAD: the response has no body whatever it says

  void ForEachHeader(absl::FunctionRef<void(absl::string_view, absl::string_view)> fn) const {
    http1::ForEachUpstreamHeader(*head, *received_headers, fn);
  }
};

class Exchange {
 public:
  virtual ~Exchange() = default;

  // Sends the request head (connecting if needed). False: Next() reports why.
  virtual Task<bool> Start(const ExchangeRequest& request) = 0;
  // Request body; waits while the upstream is not taking it. False if the exchange failed.
  virtual Task<bool> SendData(absl::string_view data, bool end_stream) = 0;
  // Request trailers (HTTP/2 upstreams; an HTTP/1.1 upstream ends the body without them).
  virtual Task<bool> SendTrailers(const http::HeaderMap& trailers) = 0;
  virtual Task<ExchangeEvent> Next() = 0;
  // The next event when it is already here (a piece of a response that arrived whole): the
  // same as Next() without the coroutine frame an awaited call costs. nullopt: nothing was
  // taken, co_await Next().
  virtual std::optional<ExchangeEvent> NextBuffered() { return std::nullopt; }
  virtual void Cancel() = 0;
  // Whether the upstream connection came from the pool (a stale one may fail before any byte).
  virtual bool reused() const = 0;
};

// A stream on an H2Connection of the cluster's H2Pool.
std::unique_ptr<Exchange> MakeH2Exchange(Worker& worker, WorkerCluster* cluster, size_t host_index,
                                         const UpstreamHost& host);
// An HTTP/1.1 exchange on a connection of the cluster's ConnPool (parked again afterwards when
// both messages completed cleanly and the connection may be reused).
std::unique_ptr<Exchange> MakeH1Exchange(Worker& worker, WorkerCluster* cluster,
                                         size_t host_index, const UpstreamHost& host,
                                         uint64_t generation);

}  // namespace proxy::upstream
