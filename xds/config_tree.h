#pragma once

// ConfigNode is a parsed configuration file before any schema is applied: a tree of mappings,
// lists and scalars read from YAML (yaml-cpp) or strict JSON (our own small parser), chosen by the
// file extension as Envoy does. Keeping the raw tree lets the schema reader (tree_to_proto_json.h)
// report unknown fields, wrong types and unsupported extensions with their full field path,
// instead of protobuf's single first error.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace xds {

struct ConfigNode {
  enum class Kind { kNull, kScalar, kList, kMap };
  // How a scalar was written. YAML plain scalars are untyped ("5", "true", "5s"); the schema
  // decides what they mean. Quoted YAML and JSON strings are always strings.
  enum class Style { kPlain, kString, kJsonNumber, kJsonBool };

  Kind kind = Kind::kNull;
  Style style = Style::kPlain;
  std::string scalar;
  std::vector<ConfigNode> items;                             // kList
  std::vector<std::pair<std::string, ConfigNode>> entries;   // kMap, in file order

  // The entry with `key`, or nullptr.
  const ConfigNode* Find(std::string_view key) const;
};

absl::StatusOr<ConfigNode> ParseYaml(std::string_view text);
absl::StatusOr<ConfigNode> ParseJson(std::string_view text);

// Reads `path` and parses it as JSON (".json") or YAML (".yaml", ".yml"); any other extension is
// an error, as weir does not read text or binary protobuf bootstraps.
absl::StatusOr<ConfigNode> LoadConfigFile(const std::string& path);

// Reads a whole file; used for config files and DataSource.filename.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace xds
