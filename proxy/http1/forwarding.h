#pragma once

// How a request and a response are rewritten on their way through the proxy, as Envoy's
// connection manager and router do: hop-by-hop headers dropped (plus any header the Connection
// header names, except framing and Host), framing regenerated, x-forwarded-for /
// x-forwarded-proto / x-request-id / x-envoy-expected-rq-timeout-ms on requests,
// x-envoy-upstream-service-time / server / date on responses. Pure functions that append a
// serialized HTTP/1.1 head to a string, so they are unit-tested without sockets.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proxy/http/header_map.h"
#include "xds/listener_config.h"

namespace proxy::http1 {

// Whether `name` (lower case) is hop-by-hop for `connection_tokens` (the request's or response's
// Connection header value). TE is kept when it is exactly "trailers" (gRPC needs it).
bool IsHopByHop(absl::string_view name, absl::string_view value,
                absl::string_view connection_tokens);

enum class BodyFraming { kNone, kContentLength, kChunked, kUntilClose };

struct UpstreamRequest {
  absl::string_view method;
  absl::string_view path;       // after prefix/regex rewrite
  absl::string_view authority;  // Host to send (rewritten or the request's)
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  absl::string_view forwarded_proto = "http";
  absl::string_view append_forwarded_for;  // the client address to append to XFF, or ""
  absl::string_view request_id;            // x-request-id to set, or "" to keep the request's
  std::optional<absl::Duration> expected_timeout;  // x-envoy-expected-rq-timeout-ms
};

// The header fields the upstream gets (after Host), in order, framing excluded: what both the
// HTTP/1.1 serializer below and the HTTP/2 upstream use.
void ForEachUpstreamHeader(const UpstreamRequest& request, const http::HeaderMap& headers,
                           absl::FunctionRef<void(absl::string_view, absl::string_view)> fn);

// "METHOD path HTTP/1.1\r\n" + headers + "\r\n".
void AppendUpstreamRequestHead(const UpstreamRequest& request, const http::HeaderMap& headers,
                               std::string* out);

struct DownstreamResponse {
  int status = 200;
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool close_connection = false;
  absl::string_view server_name = "envoy";
  absl::string_view date;                           // IMF-fixdate, added when absent
  std::optional<int64_t> upstream_service_time_ms;  // x-envoy-upstream-service-time
};

// The response header fields the client gets, content-length included when framing says so;
// transfer-encoding and connection are HTTP/1.1's business (AppendDownstreamResponseHead).
void ForEachDownstreamHeader(const DownstreamResponse& response,
                             const http::HeaderMap& upstream_headers,
                             absl::FunctionRef<void(absl::string_view, absl::string_view)> fn);

// The same fields as ForEachDownstreamHeader, made in place: dropped ones removed, added ones
// appended. The HTTP/2 response path sends the upstream's map itself instead of a copy.
void RewriteDownstreamHeaders(const DownstreamResponse& response, http::HeaderMap* headers);

// "HTTP/1.1 <status> <reason>\r\n" + headers + "\r\n".
void AppendDownstreamResponseHead(const DownstreamResponse& response,
                                  const http::HeaderMap& upstream_headers, std::string* out);

// A complete local reply (Envoy's sendLocalReply): text/plain body, content-length, date, server.
void AppendLocalReply(int status, absl::string_view body, bool head_request, bool close_connection,
                      absl::string_view date, absl::string_view server_name,
                      const http::HeaderMap* extra_headers, std::string* out);

// The standard reason phrase ("OK", "Service Unavailable"...), "Unknown" otherwise.
absl::string_view ReasonPhrase(int status);

// Chunked transfer coding pieces.
void AppendChunkHeader(uint64_t size, std::string* out);
constexpr absl::string_view kChunkEnd = "\r\n";
constexpr absl::string_view kLastChunk = "0\r\n\r\n";

// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for the Date header.
std::string HttpDate(absl::Time now);

// Parses an absolute-form request target "http://authority/path?q": sets authority and path
// ("/" when empty). False if `target` is not absolute-form.
bool SplitAbsoluteTarget(absl::string_view target, absl::string_view* authority,
                         absl::string_view* path);

}  // namespace proxy::http1
