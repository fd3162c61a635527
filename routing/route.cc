#include "routing/route.h"

#include <limits>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "routing/request_headers.h"

namespace routing {
namespace {

using ScopedField = ValidationErrors::ScopedField;

// The parts of an action that are compiled rather than read from the config at request time.
struct CompiledAction {
  std::optional<WeightedPicker> weighted_picker;
  std::string header_name;
  PathRewrite rewrite;
};

void AddFieldError(ValidationErrors* errors, std::string_view field, std::string_view message) {
  ScopedField scoped(errors, field);
  errors->AddError(message);
}

void CheckNotNegative(absl::Duration duration, std::string_view field, ValidationErrors* errors) {
  if (duration < absl::ZeroDuration()) AddFieldError(errors, field, "must not be negative");
}

void CompileWeightedClusters(const WeightedClustersConfig& config, CompiledAction* out,
                             ValidationErrors* errors) {
  ScopedField field(errors, "weighted_clusters");
  if (config.clusters.empty()) {
    errors->AddError("must contain at least one cluster");
    return;
  }
  std::vector<uint32_t> weights;
  uint64_t total = 0;
  for (size_t i = 0; i < config.clusters.size(); ++i) {
    const WeightedClustersConfig::Entry& entry = config.clusters[i];
    if (entry.name.empty()) {
      ScopedField clusters(errors, "clusters");
      ScopedField index(errors, ValidationErrors::Index(i));
      AddFieldError(errors, "name", "must not be empty");
    }
    weights.push_back(entry.weight);
    total += entry.weight;
  }
  if (total == 0) {
    errors->AddError("sum of weights must be greater than 0");
  } else if (total > std::numeric_limits<uint32_t>::max()) {
    errors->AddError(
        absl::StrCat("sum of weights must not exceed ", std::numeric_limits<uint32_t>::max()));
  } else {
    out->weighted_picker = *WeightedPicker::Create(weights);
  }
  out->header_name = absl::AsciiStrToLower(config.header_name);
}

void CompileRouteAction(const RouteActionConfig& action, CompiledAction* out,
                        ValidationErrors* errors) {
  ScopedField field(errors, "route");
  switch (action.cluster_specifier) {
    case RouteActionConfig::ClusterSpecifier::kCluster:
      if (action.cluster.empty()) AddFieldError(errors, "cluster", "must not be empty");
      break;
    case RouteActionConfig::ClusterSpecifier::kClusterHeader:
      if (action.cluster_header.empty())
        AddFieldError(errors, "cluster_header", "must not be empty");
      out->header_name = absl::AsciiStrToLower(action.cluster_header);
      break;
    case RouteActionConfig::ClusterSpecifier::kWeightedClusters:
      CompileWeightedClusters(action.weighted_clusters, out, errors);
      break;
  }

  if (!action.prefix_rewrite.empty() && action.regex_rewrite.has_value()) {
    errors->AddError("only one of prefix_rewrite and regex_rewrite may be set");
  }
  if (action.regex_rewrite.has_value()) {
    ScopedField regex_rewrite(errors, "regex_rewrite");
    if (std::optional<PathRewrite> rewrite = PathRewrite::Regex(*action.regex_rewrite, errors)) {
      out->rewrite = std::move(*rewrite);
    }
  } else if (!action.prefix_rewrite.empty()) {
    out->rewrite = PathRewrite::Prefix(action.prefix_rewrite);
  }
  if (!action.host_rewrite_literal.empty() && action.auto_host_rewrite) {
    errors->AddError("only one of host_rewrite_literal and auto_host_rewrite may be set");
  }

  CheckNotNegative(action.timeout, "timeout", errors);
  if (action.idle_timeout.has_value())
    CheckNotNegative(*action.idle_timeout, "idle_timeout", errors);
  if (action.grpc_timeout_header_max.has_value()) {
    ScopedField max_stream_duration(errors, "max_stream_duration");
    CheckNotNegative(*action.grpc_timeout_header_max, "grpc_timeout_header_max", errors);
  }
  const uint32_t code = action.cluster_not_found_response_code;
  if (code != 503 && code != 404 && code != 500) {
    AddFieldError(errors, "cluster_not_found_response_code",
                  absl::StrCat("must be 503, 404 or 500, got ", code));
  }
}

void CompileRedirect(const RedirectConfig& redirect, CompiledAction* out,
                     ValidationErrors* errors) {
  ScopedField field(errors, "redirect");
  const uint32_t code = redirect.response_code;
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
    AddFieldError(errors, "response_code",
                  absl::StrCat("must be 301, 302, 303, 307 or 308, got ", code));
  }
  if (redirect.port_redirect > 65535) {
    AddFieldError(errors, "port_redirect",
                  absl::StrCat("must be at most 65535, got ", redirect.port_redirect));
  }
  if (redirect.path_kind == RedirectConfig::PathKind::kPrefix) {
    out->rewrite = PathRewrite::Prefix(redirect.prefix_rewrite);
  } else if (redirect.path_kind == RedirectConfig::PathKind::kRegex) {
    ScopedField regex_rewrite(errors, "regex_rewrite");
    if (std::optional<PathRewrite> rewrite = PathRewrite::Regex(redirect.regex_rewrite, errors)) {
      out->rewrite = std::move(*rewrite);
    }
  }
}

void CheckDirectResponse(const DirectResponseConfig& response, uint32_t max_body_size,
                         ValidationErrors* errors) {
  ScopedField field(errors, "direct_response");
  if (response.status < 200 || response.status > 599) {
    AddFieldError(errors, "status",
                  absl::StrCat("must be between 200 and 599, got ", response.status));
  }
  if (response.body.size() > max_body_size) {
    AddFieldError(errors, "body",
                  absl::StrCat("body is ", response.body.size(),
                               " bytes, more than max_direct_response_body_size_bytes (",
                               max_body_size, ")"));
  }
}

// The first value of a header, "" when absent.
absl::string_view FirstHeaderValue(const RequestView& request, absl::string_view name) {
  absl::string_view first;
  bool found = false;
  ForEachHeaderValue(request, name, [&](absl::string_view value) {
    if (!found) first = value;
    found = true;
  });
  return first;
}

// Envoy's Grpc::Common::hasGrpcContentType: "application/grpc" exactly or followed by '+'
// ("application/grpc-web" and "application/grpc;..." are not gRPC).
bool IsGrpcRequest(const RequestView& request) {
  constexpr absl::string_view kGrpc = "application/grpc";
  const absl::string_view content_type = FirstHeaderValue(request, "content-type");
  return absl::StartsWith(content_type, kGrpc) &&
         (content_type.size() == kGrpc.size() || content_type[kGrpc.size()] == '+');
}

// Envoy's processRequestHost: the request authority, minus its port when a port_redirect
// replaces it or when the scheme changes away from one whose default port the authority names.
absl::string_view RedirectHost(absl::string_view authority, absl::string_view request_scheme,
                               absl::string_view new_scheme, bool port_redirect) {
  size_t host_end;
  if (!authority.empty() && authority.front() == '[') {
    host_end = authority.rfind("]:");
    if (host_end != absl::string_view::npos) ++host_end;
  } else {
    host_end = authority.rfind(':');
  }
  if (host_end == absl::string_view::npos) return authority;
  const absl::string_view port = authority.substr(host_end);
  bool remove_port = port_redirect;
  if (new_scheme != request_scheme) {
    remove_port = remove_port || (request_scheme == "https" && port == ":443") ||
                  (request_scheme == "http" && port == ":80");
  }
  return remove_port ? authority.substr(0, host_end) : authority;
}

}  // namespace

std::optional<Route> Route::Create(const RouteConfig& config,
                                   uint32_t max_direct_response_body_size_bytes,
                                   ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  std::optional<PathMatcher> path;
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParameterMatcher> query_parameters;
  {
    ScopedField match(errors, "match");
    path = PathMatcher::Create(config.match, errors);
    for (size_t i = 0; i < config.match.headers.size(); ++i) {
      ScopedField field(errors, "headers");
      ScopedField index(errors, ValidationErrors::Index(i));
      if (std::optional<HeaderMatcher> header =
              HeaderMatcher::Create(config.match.headers[i], errors)) {
        headers.push_back(std::move(*header));
      }
    }
    for (size_t i = 0; i < config.match.query_parameters.size(); ++i) {
      ScopedField field(errors, "query_parameters");
      ScopedField index(errors, ValidationErrors::Index(i));
      if (std::optional<QueryParameterMatcher> query =
              QueryParameterMatcher::Create(config.match.query_parameters[i], errors)) {
        query_parameters.push_back(std::move(*query));
      }
    }
  }

  CompiledAction action;
  if (const auto* route_action = std::get_if<RouteActionConfig>(&config.action)) {
    CompileRouteAction(*route_action, &action, errors);
  } else if (const auto* redirect = std::get_if<RedirectConfig>(&config.action)) {
    CompileRedirect(*redirect, &action, errors);
  } else {
    CheckDirectResponse(std::get<DirectResponseConfig>(config.action),
                        max_direct_response_body_size_bytes, errors);
  }
  if (errors->errors().size() != errors_before) return std::nullopt;

  Route route(config, std::move(*path));
  route.headers_ = std::move(headers);
  route.query_parameters_ = std::move(query_parameters);
  route.weighted_picker_ = std::move(action.weighted_picker);
  route.header_name_ = std::move(action.header_name);
  route.rewrite_ = std::move(action.rewrite);
  return route;
}

bool Route::MatchesBeyondPath(const RequestView& request) const {
  if (config_.match.grpc && !IsGrpcRequest(request)) return false;
  for (const HeaderMatcher& header : headers_) {
    if (!header.Matches(request)) return false;
  }
  for (const QueryParameterMatcher& query : query_parameters_) {
    if (!query.Matches(request.path)) return false;
  }
  return true;
}

ClusterPick Route::PickCluster(const RequestView& request, uint64_t random) const {
  const RouteActionConfig* action = route_action();
  if (action == nullptr) return {};
  switch (action->cluster_specifier) {
    case RouteActionConfig::ClusterSpecifier::kCluster:
      return {action->cluster};
    case RouteActionConfig::ClusterSpecifier::kClusterHeader:
      return {FirstHeaderValue(request, header_name_)};
    case RouteActionConfig::ClusterSpecifier::kWeightedClusters: {
      uint64_t value = random;
      if (!header_name_.empty()) {
        absl::string_view header;
        int count = 0;
        ForEachHeaderValue(request, header_name_, [&](absl::string_view v) {
          if (count++ == 0) header = v;
        });
        uint64_t pinned;
        if (count == 1 && absl::SimpleAtoi(header, &pinned)) value = pinned;
      }
      const WeightedClustersConfig::Entry& entry =
          action->weighted_clusters.clusters[weighted_picker_->Pick(value)];
      return {entry.name, &entry};
    }
  }
  return {};
}

std::string Route::RewritePath(absl::string_view path) const {
  if (route_action() == nullptr || rewrite_.empty()) return std::string(path);
  return rewrite_.Apply(path, path_.MatchedLength(path));
}

std::string Route::RedirectLocation(const RequestView& request) const {
  const RedirectConfig* redirect = this->redirect();
  if (redirect == nullptr) return "";

  const absl::string_view scheme =
      redirect->scheme_redirect.empty() ? request.scheme : redirect->scheme_redirect;
  std::string host(
      redirect->host_redirect.empty()
          ? RedirectHost(request.authority, request.scheme, scheme, redirect->port_redirect != 0)
          : redirect->host_redirect);
  if (redirect->port_redirect != 0) absl::StrAppend(&host, ":", redirect->port_redirect);

  std::string path;
  bool path_redirect_has_query = false;
  switch (redirect->path_kind) {
    case RedirectConfig::PathKind::kPath:
      if (redirect->path_redirect.empty()) {
        path = std::string(request.path);
      } else if (redirect->path_redirect.find('?') != std::string::npos) {
        path = redirect->path_redirect;
        path_redirect_has_query = true;
      } else {
        const size_t query = request.path.find('?');
        path = absl::StrCat(redirect->path_redirect, query == absl::string_view::npos
                                                         ? absl::string_view()
                                                         : request.path.substr(query));
      }
      break;
    case RedirectConfig::PathKind::kPrefix:
    case RedirectConfig::PathKind::kRegex:
      path = rewrite_.Apply(request.path, path_.MatchedLength(request.path));
      break;
    case RedirectConfig::PathKind::kKeep:
      path = std::string(request.path);
      break;
  }
  // (StrCat rather than insert(0, "/"): GCC 12 reports a false -Wrestrict for the latter.)
  if (!absl::StartsWith(path, "/")) path = absl::StrCat("/", path);
  if (redirect->strip_query && !path_redirect_has_query) {
    const size_t query = path.find('?');
    if (query != std::string::npos) path.resize(query);
  }
  return absl::StrCat(scheme, "://", host, path);
}

}  // namespace routing
