#pragma once

// Plain, copyable configuration for HTTP routing: the protocol-neutral form of Envoy's
// RouteConfiguration / VirtualHost / Route. xds/ fills these from protobuf (bootstrap or RDS);
// tests and benchmarks build them directly. Nothing here is validated yet: RouteTable::Create
// (route_table.h) checks them and compiles the immutable table that workers read.
//
// Field names follow Envoy's so that validation errors can name Envoy field paths.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"

namespace routing {

// envoy.type.matcher.v3.StringMatcher.
struct StringMatcherConfig {
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kSafeRegex };
  Kind kind = Kind::kExact;
  std::string value;         // the literal, or the RE2 pattern for kSafeRegex (full match)
  bool ignore_case = false;  // ASCII case folding; not applied to kSafeRegex (as Envoy)

  friend bool operator==(const StringMatcherConfig&, const StringMatcherConfig&) = default;
};

// envoy.config.route.v3.HeaderMatcher. Several values of one header are joined with "," before
// matching, as Envoy does.
struct HeaderMatcherConfig {
  enum class Kind {
    kPresent,      // present_match, or no specifier at all (presence)
    kLegacyExact,  // deprecated exact_match: an empty value matches any value
    kString,       // string_match, or deprecated prefix/suffix/contains/safe_regex_match
    kRange,        // range_match: value parses as int64 in [range_start, range_end)
  };
  std::string name;  // lower case; pseudo headers (":authority", ":path", ...) allowed
  Kind kind = Kind::kPresent;
  bool present = true;  // kPresent: true = header must be present, false = must be absent
  std::string legacy_exact_value;    // kLegacyExact
  StringMatcherConfig string_match;  // kString
  int64_t range_start = 0;           // kRange
  int64_t range_end = 0;             // kRange, exclusive
  bool invert_match = false;
  bool treat_missing_header_as_empty = false;

  friend bool operator==(const HeaderMatcherConfig&, const HeaderMatcherConfig&) = default;
};

// envoy.config.route.v3.QueryParameterMatcher. Matches the first value of the parameter, after
// percent-decoding.
struct QueryParameterMatcherConfig {
  std::string name;
  std::optional<StringMatcherConfig> string_match;  // nullopt: present_match

  friend bool operator==(const QueryParameterMatcherConfig&,
                         const QueryParameterMatcherConfig&) = default;
};

// envoy.config.route.v3.RouteMatch.
struct RouteMatchConfig {
  enum class PathKind {
    kPrefix,               // prefix: the path (query included, as Envoy) starts with `path`
    kPath,                 // path: the path without query equals `path`
    kSafeRegex,            // safe_regex: RE2 full match of the path without query
    kPathSeparatedPrefix,  // path_separated_prefix: equal, or followed by '/', without query
  };
  PathKind path_kind = PathKind::kPrefix;
  std::string path;
  bool case_sensitive = true;  // prefix/path/path_separated_prefix only
  std::vector<HeaderMatcherConfig> headers;
  std::vector<QueryParameterMatcherConfig> query_parameters;
  bool grpc = false;  // only requests with a gRPC content-type match

  friend bool operator==(const RouteMatchConfig&, const RouteMatchConfig&) = default;
};

// envoy.type.matcher.v3.RegexMatchAndSubstitute (RE2, all matches replaced; \1 style groups).
struct RegexRewriteConfig {
  std::string pattern;
  std::string substitution;

  friend bool operator==(const RegexRewriteConfig&, const RegexRewriteConfig&) = default;
};

// envoy.config.route.v3.WeightedCluster. The deprecated total_weight is handled (and ignored, as
// Envoy has since 1.24) by xds/; the sum of the weights is the total.
struct WeightedClustersConfig {
  struct Entry {
    std::string name;
    uint32_t weight = 0;  // zero allowed: never picked
    std::string host_rewrite_literal;

    friend bool operator==(const Entry&, const Entry&) = default;
  };
  std::vector<Entry> clusters;
  // When set and the request carries exactly one such header holding a uint64, that value
  // replaces the random value, so a request can be pinned to a version.
  std::string header_name;  // lower case; empty = random value

  friend bool operator==(const WeightedClustersConfig&, const WeightedClustersConfig&) = default;
};

// envoy.config.route.v3.RouteAction (the parts weir implements).
struct RouteActionConfig {
  enum class ClusterSpecifier { kCluster, kClusterHeader, kWeightedClusters };
  ClusterSpecifier cluster_specifier = ClusterSpecifier::kCluster;
  std::string cluster;         // kCluster
  std::string cluster_header;  // kClusterHeader, lower case
  WeightedClustersConfig weighted_clusters;  // kWeightedClusters

  std::string prefix_rewrite;  // replaces the matched prefix (prefix / path_separated_prefix)
  std::optional<RegexRewriteConfig> regex_rewrite;  // exclusive with prefix_rewrite
  std::string host_rewrite_literal;
  bool auto_host_rewrite = false;  // Host = the picked endpoint's hostname (proxy applies it)
  absl::Duration timeout = absl::Seconds(15);   // zero disables, as Envoy
  std::optional<absl::Duration> idle_timeout;   // per-stream idle timeout override
  // max_stream_duration.grpc_timeout_header_max: when set, a gRPC request's grpc-timeout header
  // becomes its timeout, capped by this (0: uncapped). Unset: grpc-timeout still caps the route
  // timeout (a call cannot outlive its deadline), where Envoy would ignore the header.
  std::optional<absl::Duration> grpc_timeout_header_max;
  uint32_t cluster_not_found_response_code = 503;  // 503, 404 or 500

  friend bool operator==(const RouteActionConfig&, const RouteActionConfig&) = default;
};

// envoy.config.route.v3.RedirectAction.
struct RedirectConfig {
  enum class PathKind { kKeep, kPath, kPrefix, kRegex };
  std::string scheme_redirect;  // "" keeps the scheme; https_redirect sets "https"
  std::string host_redirect;    // "" keeps the host
  uint32_t port_redirect = 0;   // 0 keeps the port
  PathKind path_kind = PathKind::kKeep;
  std::string path_redirect;    // kPath; may carry its own query, which then replaces the request's
  std::string prefix_rewrite;   // kPrefix: replaces the matched prefix
  RegexRewriteConfig regex_rewrite;  // kRegex
  uint32_t response_code = 301;      // 301, 302, 303, 307 or 308
  bool strip_query = false;

  friend bool operator==(const RedirectConfig&, const RedirectConfig&) = default;
};

// envoy.config.route.v3.DirectResponseAction; the body is already read (inline or file).
struct DirectResponseConfig {
  uint32_t status = 200;  // 200..599
  std::string body;

  friend bool operator==(const DirectResponseConfig&, const DirectResponseConfig&) = default;
};

// envoy.config.route.v3.Route: one rule of a virtual host.
struct RouteConfig {
  std::string name;
  RouteMatchConfig match;
  std::variant<RouteActionConfig, RedirectConfig, DirectResponseConfig> action;

  friend bool operator==(const RouteConfig&, const RouteConfig&) = default;
};

// envoy.config.route.v3.VirtualHost.
struct VirtualHostConfig {
  std::string name;
  std::vector<std::string> domains;  // exact, "*.suffix", "prefix*", or "*"
  std::vector<RouteConfig> routes;   // first match wins

  friend bool operator==(const VirtualHostConfig&, const VirtualHostConfig&) = default;
};

// envoy.config.route.v3.RouteConfiguration.
struct RouteTableConfig {
  std::string name;
  std::vector<VirtualHostConfig> virtual_hosts;
  bool ignore_port_in_host_matching = false;  // also set by HCM strip_any_host_port
  uint32_t max_direct_response_body_size_bytes = 4096;

  friend bool operator==(const RouteTableConfig&, const RouteTableConfig&) = default;
};

}  // namespace routing
