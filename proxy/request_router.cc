#include "proxy/request_router.h"

#include "absl/strings/numbers.h"
#include "proxy/worker.h"

namespace proxy {

RouteDecision RouteRequest(const ListenerEntry& listener, const ServerFlags& flags,
                           const routing::RequestView& view, routing::Random& random) {
  const xds::HttpConnectionManagerConfig& hcm = listener.config->http;
  HttpStats& http = *listener.http;
  RouteDecision decision;

  // envoy.filters.http.health_check.
  if (hcm.health_check.has_value() && !listener.health_check_headers.empty()) {
    bool is_health_check = true;
    for (const routing::HeaderMatcher& matcher : listener.health_check_headers) {
      is_health_check = is_health_check && matcher.Matches(view);
    }
    const bool failed = flags.health_check_failed.load(std::memory_order_relaxed) ||
                        flags.draining.load(std::memory_order_relaxed);
    if (is_health_check && (failed || !hcm.health_check->pass_through_mode)) {
      if (failed) decision.headers.Add("x-envoy-immediate-health-check-fail", "true");
      decision.status = failed ? 503 : 200;
      return decision;
    }
  }

  const routing::RouteTable* table = hcm.route_table.get();
  const routing::Route* route = table != nullptr ? table->Match(view) : nullptr;
  if (route == nullptr) {
    http.no_route.Inc();
    decision.status = 404;
    return decision;
  }
  decision.route = route;
  if (const routing::DirectResponseConfig* direct = route->direct_response()) {
    http.rq_direct_response.Inc();
    decision.kind = RouteDecision::Kind::kDirect;
    decision.status = static_cast<int>(direct->status);
    decision.body = direct->body;
    return decision;
  }
  if (const routing::RedirectConfig* redirect = route->redirect()) {
    http.rq_redirect.Inc();
    decision.status = static_cast<int>(redirect->response_code);
    decision.headers.Add("location", route->RedirectLocation(view));
    return decision;
  }
  decision.kind = RouteDecision::Kind::kProxy;
  decision.action = route->route_action();
  http.rq_total.Inc();
  decision.pick = route->PickCluster(view, random.Next());
  if (!decision.action->prefix_rewrite.empty() || decision.action->regex_rewrite.has_value()) {
    decision.rewritten_path = route->RewritePath(view.path);
  }
  return decision;
}

absl::string_view StripPort(absl::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    return close == absl::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  size_t colon = authority.rfind(':');
  return colon == absl::string_view::npos ? authority : authority.substr(0, colon);
}

std::optional<absl::Duration> ParseGrpcTimeout(absl::string_view value) {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  int64_t amount = 0;
  if (!absl::SimpleAtoi(value.substr(0, value.size() - 1), &amount) || amount < 0) {
    return std::nullopt;
  }
  switch (value.back()) {
    case 'H': return absl::Hours(amount);
    case 'M': return absl::Minutes(amount);
    case 'S': return absl::Seconds(amount);
    case 'm': return absl::Milliseconds(amount);
    case 'u': return absl::Microseconds(amount);
    case 'n': return absl::Nanoseconds(amount);
    default: return std::nullopt;
  }
}

int GrpcStatusForHttp(int http_status, bool timeout) {
  if (timeout) return 4;  // DEADLINE_EXCEEDED
  switch (http_status) {
    case 400: return 13;  // INTERNAL
    case 401: return 16;  // UNAUTHENTICATED
    case 403: return 7;   // PERMISSION_DENIED
    case 404: return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504: return 14;  // UNAVAILABLE
    default: return 2;    // UNKNOWN
  }
}

}  // namespace proxy
