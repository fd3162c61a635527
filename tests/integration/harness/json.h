#pragma once

// A small JSON reader for the integration-test harness: enough to read weir's admin output
// (/listeners?format=json, /server_info, /config_dump, /clusters?format=json) without pulling
// a JSON library into the tests. Strict RFC 8259 parsing, bounded nesting, no exceptions.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weir_test {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Members = std::vector<std::pair<std::string, JsonValue>>;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_number() const { return type_ == Type::kNumber; }

  bool bool_value() const { return bool_; }
  // The string's value, or a number's text as written.
  const std::string& string_value() const { return text_; }
  const std::vector<JsonValue>& array() const { return array_; }
  const Members& members() const { return members_; }

  // An object's member (the first one with that key), or nullptr.
  const JsonValue* Find(absl::string_view key) const;
  // Follows object keys separated by '.', e.g. "local_address.socket_address.port_value".
  const JsonValue* FindPath(absl::string_view dotted) const;
  // A non-negative integer from a number, or from a string of digits (proto3 JSON writes 64-bit
  // integers as strings).
  std::optional<uint64_t> AsUint64() const;

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> array_;
  Members members_;
};

absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

}  // namespace weir_test
