#include "xds/translate_route.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "xds/config_tree.h"
#include "xds/translate_util.h"

namespace xds {
namespace {

namespace route = envoy::config::route::v3;
namespace matcher = envoy::type::matcher::v3;
using routing::ValidationErrors;
using Field = routing::ValidationErrors::ScopedField;

routing::StringMatcherConfig TranslateStringMatcher(const matcher::StringMatcher& proto,
                                                    ValidationErrors* errors) {
  routing::StringMatcherConfig config;
  config.ignore_case = proto.ignore_case();
  using Kind = routing::StringMatcherConfig::Kind;
  switch (proto.match_pattern_case()) {
    case matcher::StringMatcher::kExact:
      config.kind = Kind::kExact;
      config.value = proto.exact();
      break;
    case matcher::StringMatcher::kPrefix:
      config.kind = Kind::kPrefix;
      config.value = proto.prefix();
      break;
    case matcher::StringMatcher::kSuffix:
      config.kind = Kind::kSuffix;
      config.value = proto.suffix();
      break;
    case matcher::StringMatcher::kContains:
      config.kind = Kind::kContains;
      config.value = proto.contains();
      break;
    case matcher::StringMatcher::kSafeRegex:
      config.kind = Kind::kSafeRegex;
      config.value = proto.safe_regex().regex();
      break;
    default:
      errors->AddError("one of exact, prefix, suffix, contains or safe_regex is required");
  }
  return config;
}

routing::StringMatcherConfig Literal(routing::StringMatcherConfig::Kind kind, std::string value) {
  routing::StringMatcherConfig config;
  config.kind = kind;
  config.value = std::move(value);
  return config;
}

routing::RouteMatchConfig TranslateMatch(const route::RouteMatch& proto,
                                         ValidationErrors* errors) {
  routing::RouteMatchConfig config;
  using PathKind = routing::RouteMatchConfig::PathKind;
  switch (proto.path_specifier_case()) {
    case route::RouteMatch::kPrefix:
      config.path_kind = PathKind::kPrefix;
      config.path = proto.prefix();
      break;
    case route::RouteMatch::kPath:
      config.path_kind = PathKind::kPath;
      config.path = proto.path();
      break;
    case route::RouteMatch::kSafeRegex:
      config.path_kind = PathKind::kSafeRegex;
      config.path = proto.safe_regex().regex();
      break;
    case route::RouteMatch::kPathSeparatedPrefix:
      config.path_kind = PathKind::kPathSeparatedPrefix;
      config.path = proto.path_separated_prefix();
      break;
    default:
      errors->AddError("one of prefix, path, safe_regex or path_separated_prefix is required");
  }
  if (proto.has_case_sensitive()) config.case_sensitive = proto.case_sensitive().value();
  for (int i = 0; i < proto.headers_size(); ++i) {
    Field headers(errors, "headers");
    Field index(errors, ValidationErrors::Index(i));
    config.headers.push_back(TranslateHeaderMatcher(proto.headers(i), errors));
  }
  for (int i = 0; i < proto.query_parameters_size(); ++i) {
    Field params(errors, "query_parameters");
    Field index(errors, ValidationErrors::Index(i));
    const route::QueryParameterMatcher& param = proto.query_parameters(i);
    routing::QueryParameterMatcherConfig& out = config.query_parameters.emplace_back();
    out.name = param.name();
    if (param.name().empty()) {
      Field name(errors, "name");
      errors->AddError("must not be empty");
    }
    if (param.has_string_match()) {
      Field string_match(errors, "string_match");
      out.string_match = TranslateStringMatcher(param.string_match(), errors);
    } else if (param.query_parameter_match_specifier_case() ==
                   route::QueryParameterMatcher::kPresentMatch &&
               !param.present_match()) {
      // Envoy treats "present_match: false" as a presence match too; say so instead of guessing.
      Field present(errors, "present_match");
      errors->AddWarning("present_match: false still requires the parameter to be present");
    }
  }
  config.grpc = proto.has_grpc();
  return config;
}

uint32_t RedirectCode(route::RedirectAction::RedirectResponseCode code) {
  switch (code) {
    case route::RedirectAction::FOUND: return 302;
    case route::RedirectAction::SEE_OTHER: return 303;
    case route::RedirectAction::TEMPORARY_REDIRECT: return 307;
    case route::RedirectAction::PERMANENT_REDIRECT: return 308;
    default: return 301;
  }
}

routing::RegexRewriteConfig TranslateRegexRewrite(const matcher::RegexMatchAndSubstitute& proto) {
  return routing::RegexRewriteConfig{.pattern = proto.pattern().regex(),
                                     .substitution = proto.substitution()};
}

routing::RedirectConfig TranslateRedirect(const route::RedirectAction& proto) {
  routing::RedirectConfig config;
  if (proto.https_redirect()) {
    config.scheme_redirect = "https";
  } else if (!proto.scheme_redirect().empty()) {
    config.scheme_redirect = absl::AsciiStrToLower(proto.scheme_redirect());
  }
  config.host_redirect = proto.host_redirect();
  config.port_redirect = proto.port_redirect();
  using PathKind = routing::RedirectConfig::PathKind;
  switch (proto.path_rewrite_specifier_case()) {
    case route::RedirectAction::kPathRedirect:
      config.path_kind = PathKind::kPath;
      config.path_redirect = proto.path_redirect();
      break;
    case route::RedirectAction::kPrefixRewrite:
      config.path_kind = PathKind::kPrefix;
      config.prefix_rewrite = proto.prefix_rewrite();
      break;
    case route::RedirectAction::kRegexRewrite:
      config.path_kind = PathKind::kRegex;
      config.regex_rewrite = TranslateRegexRewrite(proto.regex_rewrite());
      break;
    default:
      break;
  }
  config.response_code = RedirectCode(proto.response_code());
  config.strip_query = proto.strip_query();
  return config;
}

// DirectResponseAction.body: a DataSource read now, so the proxy never touches the disk.
std::string ReadDataSource(const envoy::config::core::v3::DataSource& proto,
                           ValidationErrors* errors) {
  switch (proto.specifier_case()) {
    case envoy::config::core::v3::DataSource::kInlineString:
      return proto.inline_string();
    case envoy::config::core::v3::DataSource::kInlineBytes:
      return proto.inline_bytes();
    case envoy::config::core::v3::DataSource::kFilename: {
      absl::StatusOr<std::string> text = ReadFileToString(proto.filename());
      if (!text.ok()) {
        Field field(errors, "filename");
        errors->AddError(std::string(text.status().message()));
        return "";
      }
      return *std::move(text);
    }
    case envoy::config::core::v3::DataSource::kEnvironmentVariable: {
      const char* value = std::getenv(proto.environment_variable().c_str());
      if (value == nullptr) {
        Field field(errors, "environment_variable");
        errors->AddError(absl::StrCat("environment variable ", proto.environment_variable(),
                                      " is not set"));
        return "";
      }
      return value;
    }
    default:
      errors->AddError("one of inline_string, inline_bytes, filename or environment_variable is "
                       "required");
      return "";
  }
}

routing::RouteActionConfig TranslateRouteAction(const route::RouteAction& proto,
                                                ValidationErrors* errors) {
  routing::RouteActionConfig config;
  using Specifier = routing::RouteActionConfig::ClusterSpecifier;
  switch (proto.cluster_specifier_case()) {
    case route::RouteAction::kCluster:
      config.cluster_specifier = Specifier::kCluster;
      config.cluster = proto.cluster();
      break;
    case route::RouteAction::kClusterHeader:
      config.cluster_specifier = Specifier::kClusterHeader;
      config.cluster_header = absl::AsciiStrToLower(proto.cluster_header());
      break;
    case route::RouteAction::kWeightedClusters: {
      Field field(errors, "weighted_clusters");
      config.cluster_specifier = Specifier::kWeightedClusters;
      const route::WeightedCluster& weighted = proto.weighted_clusters();
      uint64_t sum = 0;
      for (int i = 0; i < weighted.clusters_size(); ++i) {
        Field clusters(errors, "clusters");
        Field index(errors, ValidationErrors::Index(i));
        const route::WeightedCluster::ClusterWeight& entry = weighted.clusters(i);
        if (!entry.has_weight()) {
          Field weight(errors, "weight");
          errors->AddError("is required (0 is allowed)");
        }
        sum += entry.weight().value();
        config.weighted_clusters.clusters.push_back({.name = entry.name(),
                                                     .weight = entry.weight().value(),
                                                     .host_rewrite_literal =
                                                         entry.host_rewrite_literal()});
      }
      config.weighted_clusters.header_name = absl::AsciiStrToLower(weighted.header_name());
      if (weighted.has_total_weight() && weighted.total_weight().value() != sum && sum > 0) {
        Field total(errors, "total_weight");
        errors->AddWarning(absl::StrCat("total_weight ", weighted.total_weight().value(),
                                        " differs from the sum of the weights (", sum,
                                        "); the sum is used, as Envoy does since 1.24"));
      }
      break;
    }
    default:
      errors->AddError("one of cluster, cluster_header or weighted_clusters is required");
  }
  config.prefix_rewrite = proto.prefix_rewrite();
  if (proto.has_regex_rewrite()) config.regex_rewrite = TranslateRegexRewrite(proto.regex_rewrite());
  switch (proto.host_rewrite_specifier_case()) {
    case route::RouteAction::kHostRewriteLiteral:
      config.host_rewrite_literal = proto.host_rewrite_literal();
      break;
    case route::RouteAction::kAutoHostRewrite:
      config.auto_host_rewrite = proto.auto_host_rewrite().value();
      break;
    default:
      break;
  }
  if (proto.has_timeout()) {
    Field field(errors, "timeout");
    config.timeout = NonNegativeDuration(proto.timeout(), errors);
  }
  if (proto.has_idle_timeout()) {
    Field field(errors, "idle_timeout");
    config.idle_timeout = NonNegativeDuration(proto.idle_timeout(), errors);
  }
  switch (proto.cluster_not_found_response_code()) {
    case route::RouteAction::NOT_FOUND:
      config.cluster_not_found_response_code = 404;
      break;
    case route::RouteAction::INTERNAL_SERVER_ERROR:
      config.cluster_not_found_response_code = 500;
      break;
    default:
      config.cluster_not_found_response_code = 503;
  }
  if (proto.max_stream_duration().has_grpc_timeout_header_max()) {
    Field field(errors, "max_stream_duration");
    Field max(errors, "grpc_timeout_header_max");
    config.grpc_timeout_header_max =
        NonNegativeDuration(proto.max_stream_duration().grpc_timeout_header_max(), errors);
  }
  return config;
}

routing::RouteConfig TranslateRoute(const route::Route& proto, ValidationErrors* errors) {
  routing::RouteConfig config;
  config.name = proto.name();
  {
    Field field(errors, "match");
    config.match = TranslateMatch(proto.match(), errors);
  }
  switch (proto.action_case()) {
    case route::Route::kRoute: {
      Field field(errors, "route");
      config.action = TranslateRouteAction(proto.route(), errors);
      break;
    }
    case route::Route::kRedirect: {
      Field field(errors, "redirect");
      config.action = TranslateRedirect(proto.redirect());
      break;
    }
    case route::Route::kDirectResponse: {
      Field field(errors, "direct_response");
      routing::DirectResponseConfig direct;
      direct.status = proto.direct_response().status();
      if (proto.direct_response().has_body()) {
        Field body(errors, "body");
        direct.body = ReadDataSource(proto.direct_response().body(), errors);
      }
      config.action = std::move(direct);
      break;
    }
    default:
      errors->AddError("one of route, redirect or direct_response is required");
  }
  return config;
}

}  // namespace

routing::HeaderMatcherConfig TranslateHeaderMatcher(const route::HeaderMatcher& proto,
                                                    ValidationErrors* errors) {
  using Kind = routing::HeaderMatcherConfig::Kind;
  using StringKind = routing::StringMatcherConfig::Kind;
  routing::HeaderMatcherConfig config;
  config.name = absl::AsciiStrToLower(proto.name());
  config.invert_match = proto.invert_match();
  config.treat_missing_header_as_empty = proto.treat_missing_header_as_empty();
  switch (proto.header_match_specifier_case()) {
    case route::HeaderMatcher::kExactMatch:
      config.kind = Kind::kLegacyExact;
      config.legacy_exact_value = proto.exact_match();
      break;
    case route::HeaderMatcher::kRangeMatch:
      config.kind = Kind::kRange;
      config.range_start = proto.range_match().start();
      config.range_end = proto.range_match().end();
      break;
    case route::HeaderMatcher::kPresentMatch:
      config.kind = Kind::kPresent;
      config.present = proto.present_match();
      break;
    case route::HeaderMatcher::kPrefixMatch:
      config.kind = Kind::kString;
      config.string_match = Literal(StringKind::kPrefix, proto.prefix_match());
      break;
    case route::HeaderMatcher::kSuffixMatch:
      config.kind = Kind::kString;
      config.string_match = Literal(StringKind::kSuffix, proto.suffix_match());
      break;
    case route::HeaderMatcher::kContainsMatch:
      config.kind = Kind::kString;
      config.string_match = Literal(StringKind::kContains, proto.contains_match());
      break;
    case route::HeaderMatcher::kSafeRegexMatch:
      config.kind = Kind::kString;
      config.string_match = Literal(StringKind::kSafeRegex, proto.safe_regex_match().regex());
      break;
    case route::HeaderMatcher::kStringMatch: {
      Field field(errors, "string_match");
      config.kind = Kind::kString;
      config.string_match = TranslateStringMatcher(proto.string_match(), errors);
      break;
    }
    default:
      config.kind = Kind::kPresent;  // no specifier: the header must be present (Envoy)
      config.present = true;
  }
  return config;
}

routing::RouteTableConfig TranslateRouteConfiguration(const route::RouteConfiguration& proto,
                                                      ValidationErrors* errors) {
  routing::RouteTableConfig config;
  config.name = proto.name();
  config.ignore_port_in_host_matching = proto.ignore_port_in_host_matching();
  if (proto.has_max_direct_response_body_size_bytes()) {
    config.max_direct_response_body_size_bytes = proto.max_direct_response_body_size_bytes().value();
  }
  for (int i = 0; i < proto.virtual_hosts_size(); ++i) {
    Field hosts(errors, "virtual_hosts");
    Field index(errors, ValidationErrors::Index(i));
    const route::VirtualHost& host = proto.virtual_hosts(i);
    routing::VirtualHostConfig& out = config.virtual_hosts.emplace_back();
    out.name = host.name();
    out.domains.assign(host.domains().begin(), host.domains().end());
    for (int j = 0; j < host.routes_size(); ++j) {
      Field routes(errors, "routes");
      Field route_index(errors, ValidationErrors::Index(j));
      out.routes.push_back(TranslateRoute(host.routes(j), errors));
    }
  }
  return config;
}

std::shared_ptr<const routing::RouteTable> CompileRouteConfiguration(
    const route::RouteConfiguration& proto, ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  routing::RouteTableConfig config = TranslateRouteConfiguration(proto, errors);
  if (errors->errors().size() != errors_before) return nullptr;
  return routing::RouteTable::Create(config, errors);
}

}  // namespace xds
