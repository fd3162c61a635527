#pragma once

// Envoy's default tag extraction. Envoy turns a dotted stat name such as
// `cluster.v2.upstream_rq_503` into a tag-extracted name (`cluster.upstream_rq`) plus ordered
// tags ((envoy.response_code, 503), (envoy.cluster_name, v2)); the Prometheus output is built from
// those, so they must match Envoy exactly. Each extractor is one of Envoy's default regexes,
// matched by hand (stats/ may not depend on a regex library) with identical results for every
// input: group 1 of the match is removed from the name, group 2 is the tag value. All extractors
// run against the original name, the removals are applied together, and tags come out in
// extractor order. Run once per metric, at registration.
//
// Cluster names should not contain dots: `cluster.a.b.upstream_rq_200` is read, as Envoy reads
// it, as cluster `a` with the stat `b.upstream_rq_200`.

#include <string>
#include <string_view>
#include <vector>

namespace stats {

inline constexpr std::string_view kResponseCodeTag = "envoy.response_code";
inline constexpr std::string_view kResponseCodeClassTag = "envoy.response_code_class";
inline constexpr std::string_view kClusterNameTag = "envoy.cluster_name";
inline constexpr std::string_view kHttpConnManagerPrefixTag = "envoy.http_conn_manager_prefix";
inline constexpr std::string_view kListenerAddressTag = "envoy.listener_address";
inline constexpr std::string_view kRdsRouteConfigTag = "envoy.rds_route_config";
inline constexpr std::string_view kWorkerIdTag = "envoy.worker_id";

struct Tag {
  std::string_view name;  // One of the k*Tag constants above, or another static string.
  std::string value;

  bool operator==(const Tag&) const = default;
};

struct TagExtraction {
  std::string tag_extracted_name;
  std::vector<Tag> tags;
};

TagExtraction ExtractTags(std::string_view name);

}  // namespace stats
