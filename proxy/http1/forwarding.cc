#include "proxy/http1/forwarding.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/beast/http/status.hpp"

namespace proxy::http1 {
namespace {

void AppendHeader(absl::string_view name, absl::string_view value, std::string* out) {
  out->append(name.data(), name.size());
  out->append(": ");
  out->append(value.data(), value.size());
  out->append("\r\n");
}

bool ConnectionNames(absl::string_view connection_tokens, absl::string_view name) {
  for (absl::string_view token : absl::StrSplit(connection_tokens, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(token), name)) return true;
  }
  return false;
}

}  // namespace

bool IsHopByHop(absl::string_view name, absl::string_view value,
                absl::string_view connection_tokens) {
  if (name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
      name == "transfer-encoding" || name == "upgrade" || name == "trailer") {
    return true;
  }
  if (name == "te") return !absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(value), "trailers");
  // Headers the peer declared hop-by-hop, except the ones that frame or route the message:
  // "Connection: Host" must not make the proxy drop the Host header.
  if (!connection_tokens.empty() && name != "host" && name != "content-length" &&
      ConnectionNames(connection_tokens, name)) {
    return true;
  }
  return false;
}

absl::string_view ReasonPhrase(int status) {
  boost::beast::string_view reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  return absl::string_view(reason.data(), reason.size());
}

void AppendChunkHeader(uint64_t size, std::string* out) {
  absl::StrAppend(out, absl::Hex(size), "\r\n");
}

void ForEachUpstreamHeader(const UpstreamRequest& request, const http::HeaderMap& headers,
                           absl::FunctionRef<void(absl::string_view, absl::string_view)> fn) {
  const absl::string_view connection = headers.Get("connection").value_or("");
  std::optional<absl::string_view> xff;
  headers.ForEach([&](absl::string_view name, absl::string_view value) {
    if (name == "host" || name == "content-length" || name == "expect" ||
        name == "x-forwarded-proto" || name == "x-envoy-expected-rq-timeout-ms" ||
        IsHopByHop(name, value, connection)) {
      return;
    }
    if (name == "x-request-id" && !request.request_id.empty()) return;
    if (name == "x-forwarded-for") {
      // Kept in place, possibly with the client appended (below).
      if (!request.append_forwarded_for.empty()) {
        xff = value;
        return;
      }
    }
    fn(name, value);
  });
  if (!request.append_forwarded_for.empty()) {
    if (xff.has_value()) {
      fn("x-forwarded-for", absl::StrCat(*xff, ", ", request.append_forwarded_for));
    } else {
      fn("x-forwarded-for", request.append_forwarded_for);
    }
  }
  fn("x-forwarded-proto", request.forwarded_proto);
  if (!request.request_id.empty()) fn("x-request-id", request.request_id);
  if (request.expected_timeout.has_value()) {
    fn("x-envoy-expected-rq-timeout-ms",
       absl::StrCat(absl::ToInt64Milliseconds(*request.expected_timeout)));
  }
}

void AppendUpstreamRequestHead(const UpstreamRequest& request, const http::HeaderMap& headers,
                               std::string* out) {
  absl::StrAppend(out, request.method, " ", request.path, " HTTP/1.1\r\n");
  AppendHeader("host", request.authority, out);
  ForEachUpstreamHeader(request, headers, [out](absl::string_view name, absl::string_view value) {
    AppendHeader(name, value, out);
  });
  switch (request.framing) {
    case BodyFraming::kContentLength:
      AppendHeader("content-length", absl::StrCat(request.content_length), out);
      break;
    case BodyFraming::kChunked:
      AppendHeader("transfer-encoding", "chunked", out);
      break;
    default:
      break;
  }
  out->append("\r\n");
}

namespace {

// An upstream response field the client does not get: framing and hop-by-hop fields, and the ones
// weir sets itself.
bool DroppedFromResponse(absl::string_view name, absl::string_view value,
                         absl::string_view connection) {
  return name == "content-length" || name == "server" || name == "x-envoy-upstream-service-time" ||
         IsHopByHop(name, value, connection);
}

// The fields weir adds after the upstream's kept ones.
void ForEachAddedResponseField(const DownstreamResponse& response, bool has_date,
                               absl::FunctionRef<void(absl::string_view, absl::string_view)> fn) {
  if (!has_date && !response.date.empty()) fn("date", response.date);
  fn("server", response.server_name);
  if (response.upstream_service_time_ms.has_value()) {
    fn("x-envoy-upstream-service-time", absl::StrCat(*response.upstream_service_time_ms));
  }
  if (response.framing == BodyFraming::kContentLength) {
    fn("content-length", absl::StrCat(response.content_length));
  }
}

}  // namespace

void ForEachDownstreamHeader(const DownstreamResponse& response,
                             const http::HeaderMap& upstream_headers,
                             absl::FunctionRef<void(absl::string_view, absl::string_view)> fn) {
  const absl::string_view connection = upstream_headers.Get("connection").value_or("");
  bool has_date = false;
  upstream_headers.ForEach([&](absl::string_view name, absl::string_view value) {
    if (DroppedFromResponse(name, value, connection)) return;
    if (name == "date") has_date = true;
    fn(name, value);
  });
  ForEachAddedResponseField(response, has_date, fn);
}

void RewriteDownstreamHeaders(const DownstreamResponse& response, http::HeaderMap* headers) {
  // Used before the additions below, which may move the arena it points into.
  const absl::string_view connection = headers->Get("connection").value_or("");
  headers->RemoveIf([&](absl::string_view name, absl::string_view value) {
    return DroppedFromResponse(name, value, connection);
  });
  ForEachAddedResponseField(
      response, headers->Has("date"),
      [headers](absl::string_view name, absl::string_view value) { headers->Add(name, value); });
}

void AppendDownstreamResponseHead(const DownstreamResponse& response,
                                  const http::HeaderMap& upstream_headers, std::string* out) {
  absl::StrAppend(out, "HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status), "\r\n");
  ForEachDownstreamHeader(response, upstream_headers,
                          [out](absl::string_view name, absl::string_view value) {
                            AppendHeader(name, value, out);
                          });
  if (response.framing == BodyFraming::kChunked) AppendHeader("transfer-encoding", "chunked", out);
  if (response.close_connection) AppendHeader("connection", "close", out);
  out->append("\r\n");
}

void AppendLocalReply(int status, absl::string_view body, bool head_request, bool close_connection,
                      absl::string_view date, absl::string_view server_name,
                      const http::HeaderMap* extra_headers, std::string* out) {
  absl::StrAppend(out, "HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n");
  if (extra_headers != nullptr) {
    extra_headers->ForEach(
        [&](absl::string_view name, absl::string_view value) { AppendHeader(name, value, out); });
  }
  if (!body.empty()) AppendHeader("content-type", "text/plain", out);
  // 1xx, 204 and 304 carry no body and no content-length.
  if (status >= 200 && status != 204 && status != 304) {
    AppendHeader("content-length", absl::StrCat(body.size()), out);
  }
  if (!date.empty()) AppendHeader("date", date, out);
  AppendHeader("server", server_name, out);
  if (close_connection) AppendHeader("connection", "close", out);
  out->append("\r\n");
  if (!head_request) out->append(body.data(), body.size());
}

std::string HttpDate(absl::Time now) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now, absl::UTCTimeZone());
}

bool SplitAbsoluteTarget(absl::string_view target, absl::string_view* authority,
                         absl::string_view* path) {
  absl::string_view rest = target;
  if (!absl::ConsumePrefix(&rest, "http://") && !absl::ConsumePrefix(&rest, "https://")) {
    // Case-insensitive scheme, as URIs are.
    if (absl::StartsWithIgnoreCase(target, "http://")) {
      rest = target.substr(7);
    } else if (absl::StartsWithIgnoreCase(target, "https://")) {
      rest = target.substr(8);
    } else {
      return false;
    }
  }
  size_t slash = rest.find_first_of("/?");
  *authority = rest.substr(0, slash);
  *path = slash == absl::string_view::npos ? absl::string_view("/") : rest.substr(slash);
  return true;
}

}  // namespace proxy::http1
