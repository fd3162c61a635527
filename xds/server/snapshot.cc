#include "xds/server/snapshot.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace xds::server {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// The RDS name an HttpConnectionManager packed in `any` refers to, if it is one that uses RDS.
void AddRdsReference(const google::protobuf::Any& any, std::set<std::string>* names) {
  HttpConnectionManager hcm;
  if (!any.Is<HttpConnectionManager>() || !any.UnpackTo(&hcm) || !hcm.has_rds()) return;
  names->insert(hcm.rds().route_config_name());
}

std::set<std::string> ReferencedRoutes(const Snapshot& snapshot) {
  std::set<std::string> names;
  for (const auto& [name, any] : snapshot.Of(ResourceType::kListener)) {
    Listener listener;
    if (!any.UnpackTo(&listener)) continue;
    for (const auto& chain : listener.filter_chains()) {
      for (const auto& filter : chain.filters()) AddRdsReference(filter.typed_config(), &names);
    }
    for (const auto& filter : listener.default_filter_chain().filters()) {
      AddRdsReference(filter.typed_config(), &names);
    }
    AddRdsReference(listener.api_listener().api_listener(), &names);
  }
  return names;
}

std::set<std::string> ReferencedEndpoints(const Snapshot& snapshot) {
  std::set<std::string> names;
  for (const auto& [name, any] : snapshot.Of(ResourceType::kCluster)) {
    Cluster cluster;
    if (!any.UnpackTo(&cluster) || cluster.type() != Cluster::EDS) continue;
    const std::string& service = cluster.eds_cluster_config().service_name();
    names.insert(service.empty() ? cluster.name() : service);
  }
  return names;
}

// Appends "what: a, b" lines for names referenced but absent, and present but unreferenced.
void Compare(absl::string_view what, absl::string_view referrer,
             const std::set<std::string>& referenced, const Snapshot::Resources& present,
             std::vector<std::string>* problems) {
  std::vector<std::string> missing, extra;
  for (const std::string& name : referenced) {
    if (!present.contains(name)) missing.push_back(name);
  }
  for (const auto& [name, any] : present) {
    if (!referenced.contains(name)) extra.push_back(name);
  }
  if (!missing.empty()) {
    problems->push_back(absl::StrCat(what, " referenced by ", referrer, " but missing: ",
                                     absl::StrJoin(missing, ", ")));
  }
  if (!extra.empty()) {
    problems->push_back(absl::StrCat(what, " not referenced by any of the ", referrer, ": ",
                                     absl::StrJoin(extra, ", ")));
  }
}

}  // namespace

absl::string_view TypeUrl(ResourceType type) {
  switch (type) {
    case ResourceType::kCluster: return kClusterType;
    case ResourceType::kEndpoint: return kEndpointType;
    case ResourceType::kListener: return kListenerType;
    case ResourceType::kRoute: return kRouteType;
  }
  return "";
}

std::optional<ResourceType> ResourceTypeFromUrl(absl::string_view type_url) {
  for (ResourceType type : kResourceTypes) {
    if (TypeUrl(type) == type_url) return type;
  }
  return std::nullopt;
}

absl::string_view ShortName(ResourceType type) {
  switch (type) {
    case ResourceType::kCluster: return "CDS";
    case ResourceType::kEndpoint: return "EDS";
    case ResourceType::kListener: return "LDS";
    case ResourceType::kRoute: return "RDS";
  }
  return "?";
}

absl::Status Snapshot::Add(const google::protobuf::Message& message) {
  const std::string& full_name = message.GetDescriptor()->full_name();
  std::optional<ResourceType> type =
      ResourceTypeFromUrl(absl::StrCat("type.googleapis.com/", full_name));
  if (!type.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(full_name, " is not an xDS resource type"));
  }
  const google::protobuf::FieldDescriptor* name_field = message.GetDescriptor()->FindFieldByName(
      *type == ResourceType::kEndpoint ? "cluster_name" : "name");
  std::string name = message.GetReflection()->GetString(message, name_field);
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(full_name, " has no ", name_field->name()));
  }
  // Packed by hand with deterministic serialization (map fields in key order), so the same
  // resource gives the same bytes in every process and content hashes are stable.
  google::protobuf::Any any;
  any.set_type_url(absl::StrCat("type.googleapis.com/", full_name));
  {
    google::protobuf::io::StringOutputStream stream(any.mutable_value());
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  if (!Of(*type).emplace(name, std::move(any)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("duplicate ", full_name, " \"", name, "\""));
  }
  return absl::OkStatus();
}

absl::Status Snapshot::Validate() const {
  std::vector<std::string> problems;
  Compare("route configurations", "listeners", ReferencedRoutes(*this), Of(ResourceType::kRoute),
          &problems);
  Compare("cluster load assignments", "EDS clusters", ReferencedEndpoints(*this),
          Of(ResourceType::kEndpoint), &problems);
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("snapshot ", version, " is inconsistent:\n", absl::StrJoin(problems, "\n")));
}

}  // namespace xds::server
