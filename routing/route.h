#pragma once

// Route: one compiled envoy.config.route.v3.Route. It owns its RouteConfig plus the compiled
// matchers (path specifier, headers, query parameters, gRPC flag) and action helpers (weighted
// picker, path rewrite). Everything is immutable after Create, so workers share routes through
// the RouteTable without synchronisation; the request path allocates only when a rewrite or
// redirect builds a new string, or a repeated header has to be joined.
//
// Action semantics follow Envoy's RouteEntryImplBase:
//   - cluster_header: the first value of the header, "" if absent (the proxy answers
//     cluster_not_found_response_code);
//   - weighted_clusters: value = the request's `header_name` header if it is present exactly
//     once and parses as uint64, else the caller's random value; WeightedPicker does the rest;
//   - prefix_rewrite replaces the matched prefix (or, for path / safe_regex matches, the whole
//     path without query, as Envoy); regex_rewrite rewrites the path and keeps the query;
//   - redirects are built as Envoy's Http::Utility::newUri (see RedirectLocation).

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "routing/header_matcher.h"
#include "routing/path_matcher.h"
#include "routing/path_rewrite.h"
#include "routing/query_params.h"
#include "routing/request_view.h"
#include "routing/route_config.h"
#include "routing/validation_errors.h"
#include "routing/weighted_picker.h"

namespace routing {

// The upstream cluster chosen for one request.
struct ClusterPick {
  // The cluster name: a view into the route table, or into the request's headers for
  // cluster_header. Empty when the cluster header is absent or the route has no route action.
  absl::string_view cluster;
  // For weighted_clusters, the chosen entry (for its host_rewrite_literal); otherwise null.
  const WeightedClustersConfig::Entry* weighted_cluster = nullptr;
};

class Route {
 public:
  // Validates `config`, adding errors beneath the current path (which the caller has set to the
  // route, e.g. "virtual_hosts[0].routes[3]"). Returns nullopt if any error was added.
  static std::optional<Route> Create(const RouteConfig& config,
                                     uint32_t max_direct_response_body_size_bytes,
                                     ValidationErrors* errors);

  const RouteConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }

  // The action, by kind; null when the route has another kind of action.
  const RouteActionConfig* route_action() const {
    return std::get_if<RouteActionConfig>(&config_.action);
  }
  const RedirectConfig* redirect() const { return std::get_if<RedirectConfig>(&config_.action); }
  const DirectResponseConfig* direct_response() const {
    return std::get_if<DirectResponseConfig>(&config_.action);
  }

  // True when the path specifier, every header matcher, every query-parameter matcher and the
  // grpc flag match.
  bool Matches(const RequestView& request) const {
    // The path first, inline: cheapest and most selective when scanning many routes.
    return path_.Matches(request.path) && MatchesBeyondPath(request);
  }

  // The cluster for a request this route matched; `random` is the worker's random value.
  ClusterPick PickCluster(const RequestView& request, uint64_t random) const;

  // The :path to send upstream for a matched request path (query kept): prefix_rewrite or
  // regex_rewrite of the route action applied; unchanged when there is none.
  std::string RewritePath(absl::string_view path) const;

  // The Location of a redirect route ("" for other routes): scheme_redirect or the request's
  // scheme; host_redirect or the request's authority; port_redirect replaces the port, and when
  // only the scheme changes the default port of the old scheme (":80" for http, ":443" for https)
  // is dropped. The path is path_redirect (its own query, if any, replaces the request's), the
  // prefix/regex rewrite of the request path, or the request path; the request query is kept
  // unless strip_query (or path_redirect carried a query).
  std::string RedirectLocation(const RequestView& request) const;

 private:
  bool MatchesBeyondPath(const RequestView& request) const;

  Route(RouteConfig config, PathMatcher path)
      : config_(std::move(config)), path_(std::move(path)) {}

  RouteConfig config_;
  PathMatcher path_;
  std::vector<HeaderMatcher> headers_;
  std::vector<QueryParameterMatcher> query_parameters_;
  std::optional<WeightedPicker> weighted_picker_;  // weighted_clusters only
  std::string header_name_;  // lower-cased cluster_header or weighted_clusters.header_name
  PathRewrite rewrite_;      // of the route action or of the redirect
};

}  // namespace routing
