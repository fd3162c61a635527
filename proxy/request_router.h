#pragma once

// What the connection manager decides for a request before any upstream is involved, the same
// for HTTP/1.1 and HTTP/2 connections: the health check filter, route matching, direct
// responses, redirects, and, for a route to a cluster, the cluster pick and the rewritten path.
// Pure but for counting (no_route, rq_direct_response, rq_redirect, rq_total) and one random
// draw for the weighted pick.

#include <string>

#include "absl/strings/string_view.h"
#include "proxy/http/header_map.h"
#include "proxy/serving_config.h"
#include "routing/random.h"
#include "routing/route.h"

namespace proxy {

struct ServerFlags;

struct RouteDecision {
  enum class Kind {
    kLocalReply,  // answer `status` with `body` (text) and `headers` (health check, 404, redirect)
    kDirect,      // the route's direct_response: `status` and `body` exactly as configured
    kProxy,       // to `pick.cluster` with `path` (rewritten) via `action`
  };
  Kind kind = Kind::kLocalReply;
  int status = 0;
  std::string body;
  http::HeaderMap headers;
  const routing::Route* route = nullptr;
  const routing::RouteActionConfig* action = nullptr;
  routing::ClusterPick pick;
  std::string rewritten_path;  // empty: the request's path
};

// `view` describes the request (authority already stripped of its port if the listener says so).
RouteDecision RouteRequest(const ListenerEntry& listener, const ServerFlags& flags,
                           const routing::RequestView& view, routing::Random& random);

// "host:port" → "host", "[v6]:port" → "[v6]" (strip_any_host_port).
absl::string_view StripPort(absl::string_view authority);

// Parses a grpc-timeout header value ("100m", "5S": up to 8 digits and a unit H M S m u n);
// nullopt if malformed.
std::optional<absl::Duration> ParseGrpcTimeout(absl::string_view value);

// The gRPC status Envoy sends for an HTTP status it produced itself (local replies): 504 is
// DEADLINE_EXCEEDED when it is an upstream timeout, otherwise grpc's HTTP-to-status mapping.
int GrpcStatusForHttp(int http_status, bool timeout);

}  // namespace proxy
