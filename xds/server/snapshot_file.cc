#include "xds/server/snapshot_file.h"

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "google/protobuf/util/json_util.h"
#include "routing/validation_errors.h"
#include "xds/config_tree.h"
#include "xds/server/snapshot_cache.h"
#include "xds/tree_to_proto_json.h"

namespace xds::server {
namespace {

using routing::ValidationErrors;

struct ResourceList {
  absl::string_view key;
  const google::protobuf::Message* prototype;
};

const ResourceList kResourceLists[] = {
    {"listeners", &envoy::config::listener::v3::Listener::default_instance()},
    {"routes", &envoy::config::route::v3::RouteConfiguration::default_instance()},
    {"clusters", &envoy::config::cluster::v3::Cluster::default_instance()},
    {"endpoints", &envoy::config::endpoint::v3::ClusterLoadAssignment::default_instance()},
};

bool IsScalar(const ConfigNode& node) { return node.kind == ConfigNode::Kind::kScalar; }

// FNV-1a over every resource in type and name order (Snapshot::Add serializes them
// deterministically): the same resources give the same version in every process, whatever the
// file's formatting.
std::string ContentHash(const Snapshot& snapshot) {
  uint64_t hash = 14695981039346656037ULL;
  auto mix = [&hash](absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
  };
  for (ResourceType type : kResourceTypes) {
    for (const auto& [name, any] : snapshot.Of(type)) {
      mix(any.type_url());
      mix(name);
      mix(any.value());
    }
  }
  return absl::StrFormat("%016x", hash);
}

void ReadResources(const ConfigNode& node, SnapshotFile* file, ValidationErrors* errors) {
  if (node.kind == ConfigNode::Kind::kNull) return;
  if (node.kind != ConfigNode::Kind::kMap) {
    errors->AddError("expected a mapping of listeners, routes, clusters and endpoints");
    return;
  }
  absl::flat_hash_set<std::string> seen;
  for (const auto& [key, list] : node.entries) {
    ValidationErrors::ScopedField field(errors, key);
    const ResourceList* kind = nullptr;
    for (const ResourceList& candidate : kResourceLists) {
      if (candidate.key == key) kind = &candidate;
    }
    if (kind == nullptr) {
      errors->AddError("unknown resource list (expected listeners, routes, clusters, endpoints)");
      continue;
    }
    if (!seen.insert(key).second) {
      errors->AddError("key appears more than once");
      continue;
    }
    if (list.kind == ConfigNode::Kind::kNull) continue;
    if (list.kind != ConfigNode::Kind::kList) {
      errors->AddError("expected a list");
      continue;
    }
    for (size_t i = 0; i < list.items.size(); ++i) {
      ValidationErrors::ScopedField index(errors, ValidationErrors::Index(i));
      const size_t errors_before = errors->errors().size();
      const std::string json =
          TreeToProtoJson(list.items[i], *kind->prototype->GetDescriptor(),
                          {.allow_unknown_fields = false, .apply_support_policy = false}, errors);
      if (errors->errors().size() != errors_before) continue;
      std::unique_ptr<google::protobuf::Message> message(kind->prototype->New());
      if (auto parsed = google::protobuf::util::JsonStringToMessage(json, message.get());
          !parsed.ok()) {
        errors->AddError(absl::StrCat("protobuf could not read it: ", parsed.ToString()));
        continue;
      }
      if (absl::Status added = file->snapshot.Add(*message); !added.ok()) {
        errors->AddError(std::string(added.message()));
      }
    }
  }
}

absl::StatusOr<SnapshotFile> FromTree(absl::StatusOr<ConfigNode> tree) {
  if (!tree.ok()) return tree.status();
  SnapshotFile file;
  ValidationErrors errors;
  bool has_version = false;
  if (tree->kind != ConfigNode::Kind::kMap) {
    errors.AddError("expected a mapping with version, nodes and resources");
  }
  absl::flat_hash_set<std::string> seen;
  for (const auto& [key, value] : tree->entries) {
    ValidationErrors::ScopedField field(&errors, key);
    if (!seen.insert(key).second) {
      errors.AddError("key appears more than once");
    } else if (key == "version") {
      if (IsScalar(value) && !value.scalar.empty()) {
        file.snapshot.version = value.scalar;
        has_version = true;
      } else if (value.kind != ConfigNode::Kind::kNull) {
        errors.AddError("expected a non-empty string");
      }
    } else if (key == "nodes") {
      if (value.kind != ConfigNode::Kind::kList || value.items.empty()) {
        errors.AddError("expected a non-empty list of node ids (\"*\": every node)");
        continue;
      }
      for (size_t i = 0; i < value.items.size(); ++i) {
        ValidationErrors::ScopedField index(&errors, ValidationErrors::Index(i));
        if (IsScalar(value.items[i]) && !value.items[i].scalar.empty()) {
          file.nodes.push_back(value.items[i].scalar);
        } else {
          errors.AddError("expected a node id");
        }
      }
    } else if (key == "resources") {
      ReadResources(value, &file, &errors);
    } else {
      errors.AddError("unknown field (expected version, nodes or resources)");
    }
  }
  if (!errors.ok()) return errors.ToStatus();
  if (file.nodes.empty()) file.nodes.push_back(std::string(kAnyNode));
  if (!has_version) file.snapshot.version = ContentHash(file.snapshot);
  file.warnings = errors.warnings();
  if (absl::Status consistent = file.snapshot.Validate(); !consistent.ok()) {
    for (absl::string_view line : absl::StrSplit(consistent.message(), '\n')) {
      file.warnings.emplace_back(line);
    }
  }
  return file;
}

}  // namespace

absl::StatusOr<SnapshotFile> LoadSnapshotFile(const std::string& path) {
  return FromTree(LoadConfigFile(path));
}

absl::StatusOr<SnapshotFile> ParseSnapshotFile(absl::string_view text, bool json) {
  std::string_view view(text.data(), text.size());
  return FromTree(json ? ParseJson(view) : ParseYaml(view));
}

}  // namespace xds::server
