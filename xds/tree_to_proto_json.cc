#include "xds/tree_to_proto_json.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.pb.h"
#include "xds/extension_types.h"
#include "xds/support_policy.h"

namespace xds {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using routing::ValidationErrors;

constexpr absl::string_view kAllowFlag = "--allow-unknown-static-fields";

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string Describe(const ConfigNode& node) {
  switch (node.kind) {
    case ConfigNode::Kind::kNull: return "null";
    case ConfigNode::Kind::kList: return "a list";
    case ConfigNode::Kind::kMap: return "a mapping";
    case ConfigNode::Kind::kScalar: return absl::StrCat("\"", node.scalar, "\"");
  }
  return "?";
}

// YAML 1.1 booleans, as yaml-cpp reads them.
bool ParseBool(const ConfigNode& node, bool* value) {
  if (node.style == ConfigNode::Style::kJsonBool) {
    *value = node.scalar == "true";
    return true;
  }
  if (node.style != ConfigNode::Style::kPlain) return false;
  std::string lower = absl::AsciiStrToLower(node.scalar);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "y") {
    *value = true;
    return true;
  }
  if (lower == "false" || lower == "no" || lower == "off" || lower == "n") {
    *value = false;
    return true;
  }
  return false;
}

// proto3 JSON Duration: decimal seconds with an "s" suffix, at most nanosecond precision.
bool IsValidDuration(absl::string_view text) {
  absl::string_view rest = text;
  if (!absl::ConsumeSuffix(&rest, "s")) return false;
  absl::ConsumePrefix(&rest, "-");
  absl::string_view seconds = rest, fraction;
  if (size_t dot = rest.find('.'); dot != absl::string_view::npos) {
    seconds = rest.substr(0, dot);
    fraction = rest.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 9) return false;
  }
  if (seconds.empty() || seconds.size() > 12) return false;
  for (char c : seconds) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  for (char c : fraction) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  uint64_t value = 0;
  return absl::SimpleAtoi(seconds, &value) && value <= 315576000000ULL;
}

// How errors name an extension, by the message that holds its typed_config.
absl::string_view ExtensionKind(absl::string_view holder) {
  if (holder == "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter") {
    return "http filter";
  }
  if (holder == "envoy.config.listener.v3.Filter") return "network filter";
  if (holder == "envoy.config.listener.v3.ListenerFilter") return "listener filter";
  if (holder == "envoy.config.core.v3.TransportSocket") return "transport socket";
  if (holder == "envoy.config.cluster.v3.Cluster") return "protocol options";
  return "extension";
}

bool IsWellKnown(const Descriptor& d) {
  return d.file()->name().rfind("google/protobuf/", 0) == 0;
}

class TreeReader {
 public:
  TreeReader(const TreeReadOptions& options, ValidationErrors* errors)
      : options_(options), errors_(errors) {}

  void WriteMessage(const ConfigNode& node, const Descriptor& d, std::string* out) {
    if (IsWellKnown(d)) {
      WriteWellKnown(node, d, out);
      return;
    }
    if (node.kind != ConfigNode::Kind::kMap) {
      errors_->AddError(absl::StrCat("expected a mapping (", d.full_name(), "), got ",
                                     Describe(node)));
      out->append("{}");
      return;
    }
    out->push_back('{');
    bool first = true;
    WriteMessageFields(node, d, /*skip_key=*/"", &first, out);
    out->push_back('}');
  }

 private:
  void WriteMessageFields(const ConfigNode& node, const Descriptor& d, absl::string_view skip_key,
                          bool* first, std::string* out) {
    // An extension's error names it by its sibling `name` (Filter, HttpFilter, ...), and an
    // HttpFilter marked is_optional may be skipped when weir lacks it, as Envoy does.
    const ConfigNode* name = node.Find("name");
    const ConfigNode* optional = node.Find("is_optional");
    bool is_optional = false;
    if (optional != nullptr && optional->kind == ConfigNode::Kind::kScalar) {
      ParseBool(*optional, &is_optional);
    }
    std::string extension_name =
        name != nullptr && name->kind == ConfigNode::Kind::kScalar ? name->scalar : "";
    absl::string_view extension_kind = ExtensionKind(d.full_name());

    absl::flat_hash_set<std::string> seen_keys;
    absl::flat_hash_set<const google::protobuf::OneofDescriptor*> seen_oneofs;
    std::vector<const FieldDescriptor*> set_fields;
    for (const auto& [key, value] : node.entries) {
      if (!skip_key.empty() && key == skip_key) continue;
      ValidationErrors::ScopedField scope(errors_, key);
      if (!seen_keys.insert(key).second) {
        errors_->AddError("key appears more than once");
        continue;
      }
      const FieldDescriptor* field = d.FindFieldByName(key);
      if (field == nullptr) field = d.FindFieldByCamelcaseName(key);
      const std::string field_name = field != nullptr ? field->name() : key;
      FieldSupport support = options_.apply_support_policy
                                 ? GetFieldSupport(d.full_name(), field_name)
                                 : FieldSupport::kSupported;
      if (field == nullptr && support == FieldSupport::kSupported) support = FieldSupport::kUnsupported;
      if (!CheckSupport(d, field, support)) continue;
      if (value.kind == ConfigNode::Kind::kNull) continue;  // proto3 JSON: null = unset
      if (const auto* oneof = field->containing_oneof(); oneof != nullptr) {
        if (!seen_oneofs.insert(oneof).second) {
          std::vector<std::string> members;
          for (const FieldDescriptor* other : set_fields) {
            if (other->containing_oneof() == oneof) members.push_back(other->name());
          }
          errors_->AddError(absl::StrCat("only one of the fields of oneof \"", oneof->name(),
                                         "\" may be set; \"", absl::StrJoin(members, "\", \""),
                                         "\" is already set"));
          continue;
        }
      }
      set_fields.push_back(field);
      if (field->options().deprecated()) {
        errors_->AddWarning("deprecated in Envoy's v3 API");
      }
      std::string value_json;
      extension_name_ = extension_name;
      extension_kind_ = extension_kind;
      extension_optional_ = is_optional;
      if (!WriteFieldValue(value, *field, &value_json)) continue;
      if (!*first) out->push_back(',');
      *first = false;
      AppendJsonString(field->name(), out);
      out->push_back(':');
      out->append(value_json);
    }
  }

  // Applies the support policy; returns whether the field should be read.
  bool CheckSupport(const Descriptor& d, const FieldDescriptor* field, FieldSupport support) {
    switch (support) {
      case FieldSupport::kSupported:
        return true;
      case FieldSupport::kIgnored:
        errors_->AddWarning("has no effect in weir; ignored");
        return false;
      case FieldSupport::kRefused:
        errors_->AddError(absl::StrCat(
            "not supported by weir, and ignoring it would change which requests or connections "
            "the config accepts; refused even with ",
            kAllowFlag));
        return false;
      case FieldSupport::kUnsupported:
        break;
    }
    std::string what = field != nullptr
                           ? std::string("field is not supported by weir")
                           : absl::StrCat("unknown field (not in weir's subset of ", d.full_name(),
                                          ")");
    if (options_.allow_unknown_fields) {
      errors_->AddWarning(absl::StrCat(what, "; ignored (", kAllowFlag, ")"));
    } else {
      errors_->AddError(absl::StrCat(what, " (", kAllowFlag, " ignores it with a warning)"));
    }
    return false;
  }

  // Writes the JSON value of `field`; false if nothing should be written for it.
  bool WriteFieldValue(const ConfigNode& node, const FieldDescriptor& field, std::string* out) {
    if (field.is_map()) {
      if (node.kind != ConfigNode::Kind::kMap) {
        errors_->AddError(absl::StrCat("expected a mapping, got ", Describe(node)));
        return false;
      }
      const FieldDescriptor& value_field = *field.message_type()->map_value();
      out->push_back('{');
      bool first = true;
      absl::flat_hash_set<std::string> keys;
      for (const auto& [key, value] : node.entries) {
        ValidationErrors::ScopedField scope(errors_, ValidationErrors::Key(key));
        if (!keys.insert(key).second) {
          errors_->AddError("key appears more than once");
          continue;
        }
        std::string value_json;
        extension_name_ = key;  // typed_extension_protocol_options is keyed by extension name
        if (!WriteSingular(value, value_field, &value_json)) continue;
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        out->append(value_json);
      }
      out->push_back('}');
      return true;
    }
    if (field.is_repeated()) {
      if (node.kind != ConfigNode::Kind::kList) {
        errors_->AddError(absl::StrCat("expected a list, got ", Describe(node)));
        return false;
      }
      out->push_back('[');
      bool first = true;
      for (size_t i = 0; i < node.items.size(); ++i) {
        ValidationErrors::ScopedField scope(errors_, ValidationErrors::Index(i));
        std::string item_json;
        if (node.items[i].kind == ConfigNode::Kind::kNull) {
          errors_->AddError("list items must not be null");
          continue;
        }
        if (!WriteSingular(node.items[i], field, &item_json)) continue;
        if (!first) out->push_back(',');
        first = false;
        out->append(item_json);
      }
      out->push_back(']');
      return true;
    }
    return WriteSingular(node, field, out);
  }

  bool WriteSingular(const ConfigNode& node, const FieldDescriptor& field, std::string* out) {
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const Descriptor& d = *field.message_type();
      if (d.full_name() == "google.protobuf.Any") return WriteAny(node, out);
      WriteMessage(node, d, out);
      return true;
    }
    return WriteScalar(node, field, out);
  }

  bool ExpectScalar(const ConfigNode& node, absl::string_view what) {
    if (node.kind == ConfigNode::Kind::kScalar) return true;
    errors_->AddError(absl::StrCat("expected ", what, ", got ", Describe(node)));
    return false;
  }

  bool WriteScalar(const ConfigNode& node, const FieldDescriptor& field, std::string* out) {
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        if (!ExpectScalar(node, "a string")) return false;
        if (field.type() == FieldDescriptor::TYPE_BYTES) {
          std::string decoded;
          if (!absl::Base64Unescape(node.scalar, &decoded)) {
            errors_->AddError("expected base64-encoded bytes");
            return false;
          }
        }
        AppendJsonString(node.scalar, out);
        return true;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool value = false;
        if (node.kind != ConfigNode::Kind::kScalar || !ParseBool(node, &value)) {
          errors_->AddError(absl::StrCat("expected true or false, got ", Describe(node)));
          return false;
        }
        out->append(value ? "true" : "false");
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        return WriteInteger(node, field, out);
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double value = 0;
        if (node.kind != ConfigNode::Kind::kScalar ||
            node.style == ConfigNode::Style::kJsonBool ||
            !absl::SimpleAtod(node.scalar, &value) || !std::isfinite(value)) {
          errors_->AddError(absl::StrCat("expected a number, got ", Describe(node)));
          return false;
        }
        absl::StrAppend(out, absl::StrFormat("%.17g", value));
        return true;
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        return WriteEnum(node, *field.enum_type(), out);
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return false;
  }

  bool WriteInteger(const ConfigNode& node, const FieldDescriptor& field, std::string* out) {
    const char* kind = "an integer";
    bool ok = node.kind == ConfigNode::Kind::kScalar && node.style != ConfigNode::Style::kJsonBool;
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        kind = "a non-negative integer";
        uint64_t value = 0;
        ok = ok && absl::SimpleAtoi(node.scalar, &value);
        if (ok && field.cpp_type() == FieldDescriptor::CPPTYPE_UINT32 &&
            value > std::numeric_limits<uint32_t>::max()) {
          errors_->AddError(absl::StrCat("value ", value, " is out of range (at most 4294967295)"));
          return false;
        }
        if (ok) absl::StrAppend(out, value);
        break;
      }
      default: {
        int64_t value = 0;
        ok = ok && absl::SimpleAtoi(node.scalar, &value);
        if (ok && field.cpp_type() == FieldDescriptor::CPPTYPE_INT32 &&
            (value > std::numeric_limits<int32_t>::max() ||
             value < std::numeric_limits<int32_t>::min())) {
          errors_->AddError(absl::StrCat("value ", value, " is out of range for a 32-bit integer"));
          return false;
        }
        if (ok) absl::StrAppend(out, value);
        break;
      }
    }
    if (!ok) errors_->AddError(absl::StrCat("expected ", kind, ", got ", Describe(node)));
    return ok;
  }

  bool WriteEnum(const ConfigNode& node, const EnumDescriptor& e, std::string* out) {
    if (!ExpectScalar(node, absl::StrCat("a value of ", e.full_name()))) return false;
    const google::protobuf::EnumValueDescriptor* value = e.FindValueByName(node.scalar);
    if (value == nullptr) {
      int number = 0;
      if (absl::SimpleAtoi(node.scalar, &number)) value = e.FindValueByNumber(number);
    }
    if (value == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < e.value_count(); ++i) names.push_back(e.value(i)->name());
      errors_->AddError(absl::StrCat("unknown value \"", node.scalar, "\" for ", e.full_name(),
                                     " (expected one of ", absl::StrJoin(names, ", "), ")"));
      return false;
    }
    AppendJsonString(value->name(), out);
    return true;
  }

  void WriteWellKnown(const ConfigNode& node, const Descriptor& d, std::string* out) {
    const std::string& name = d.full_name();
    if (name == "google.protobuf.Duration") {
      if (ExpectScalar(node, "a duration such as \"1.5s\"") &&
          node.style != ConfigNode::Style::kJsonBool) {
        if (IsValidDuration(node.scalar)) {
          AppendJsonString(node.scalar, out);
          return;
        }
        errors_->AddError(absl::StrCat("invalid duration ", Describe(node),
                                       ": expected seconds with an \"s\" suffix, e.g. \"1.5s\""));
      }
      out->append("\"0s\"");
      return;
    }
    if (name == "google.protobuf.Struct") {
      if (node.kind != ConfigNode::Kind::kMap) {
        errors_->AddError(absl::StrCat("expected a mapping, got ", Describe(node)));
        out->append("{}");
        return;
      }
      WriteGeneric(node, out);
      return;
    }
    if (name == "google.protobuf.Value") {
      WriteGeneric(node, out);
      return;
    }
    if (name == "google.protobuf.ListValue") {
      if (node.kind != ConfigNode::Kind::kList) {
        errors_->AddError(absl::StrCat("expected a list, got ", Describe(node)));
        out->append("[]");
        return;
      }
      WriteGeneric(node, out);
      return;
    }
    if (name == "google.protobuf.Empty") {
      if (node.kind != ConfigNode::Kind::kMap || !node.entries.empty()) {
        errors_->AddError(absl::StrCat("expected an empty mapping {}, got ", Describe(node)));
      }
      out->append("{}");
      return;
    }
    if (d.field_count() == 1 && d.field(0)->name() == "value") {  // wrappers
      std::string value;
      if (!WriteScalar(node, *d.field(0), &value)) value = "null";
      out->append(value);
      return;
    }
    errors_->AddError(absl::StrCat(name, " is not supported in configuration files"));
    out->append("null");
  }

  // Struct/Value contents: YAML plain scalars become booleans or numbers when they look like
  // them, as Envoy's YAML loader does.
  void WriteGeneric(const ConfigNode& node, std::string* out) {
    switch (node.kind) {
      case ConfigNode::Kind::kNull:
        out->append("null");
        return;
      case ConfigNode::Kind::kScalar: {
        if (node.style == ConfigNode::Style::kJsonBool ||
            node.style == ConfigNode::Style::kJsonNumber) {
          out->append(node.scalar);
          return;
        }
        bool b;
        double number;
        if (node.style == ConfigNode::Style::kPlain &&
            (node.scalar == "true" || node.scalar == "false") && ParseBool(node, &b)) {
          out->append(b ? "true" : "false");
        } else if (node.style == ConfigNode::Style::kPlain &&
                   absl::SimpleAtod(node.scalar, &number) && std::isfinite(number)) {
          absl::StrAppend(out, absl::StrFormat("%.17g", number));
        } else {
          AppendJsonString(node.scalar, out);
        }
        return;
      }
      case ConfigNode::Kind::kList: {
        out->push_back('[');
        for (size_t i = 0; i < node.items.size(); ++i) {
          if (i > 0) out->push_back(',');
          WriteGeneric(node.items[i], out);
        }
        out->push_back(']');
        return;
      }
      case ConfigNode::Kind::kMap: {
        out->push_back('{');
        bool first = true;
        for (const auto& [key, value] : node.entries) {
          if (!first) out->push_back(',');
          first = false;
          AppendJsonString(key, out);
          out->push_back(':');
          WriteGeneric(value, out);
        }
        out->push_back('}');
        return;
      }
    }
  }

  // google.protobuf.Any: {"@type": "type.googleapis.com/<message>", <message fields>}. The type
  // must be one weir implements; anything else is an extension weir cannot run.
  bool WriteAny(const ConfigNode& node, std::string* out) {
    if (node.kind != ConfigNode::Kind::kMap) {
      errors_->AddError(absl::StrCat("expected a mapping with \"@type\", got ", Describe(node)));
      return false;
    }
    const ConfigNode* type_url = node.Find("@type");
    if (type_url == nullptr || type_url->kind != ConfigNode::Kind::kScalar) {
      errors_->AddError("missing \"@type\" (the extension's type URL)");
      return false;
    }
    std::string type_name = type_url->scalar;
    if (size_t slash = type_name.rfind('/'); slash != std::string::npos) {
      type_name = type_name.substr(slash + 1);
    }
    const Descriptor* d = FindExtensionType(type_name);
    if (d == nullptr) {
      std::string what =
          extension_name_.empty()
              ? absl::StrCat(extension_kind_, " of type ", type_name)
              : absl::StrCat(extension_kind_, " \"", extension_name_, "\" (type ", type_name, ")");
      std::string reason = " is not supported by weir";
      if (type_name == "udpa.type.v1.TypedStruct" || type_name == "xds.type.v3.TypedStruct") {
        reason = ": TypedStruct-wrapped configs are not supported; use the extension's own @type";
      }
      if (extension_optional_) {
        errors_->AddWarning(absl::StrCat(what, reason, "; skipped because it is marked "
                                                       "is_optional"));
      } else {
        errors_->AddError(absl::StrCat(what, reason));
      }
      return false;
    }
    out->append("{\"@type\":");
    AppendJsonString(absl::StrCat("type.googleapis.com/", type_name), out);
    bool first = false;
    WriteMessageFields(node, *d, "@type", &first, out);
    out->push_back('}');
    return true;
  }

  const TreeReadOptions& options_;
  ValidationErrors* errors_;
  std::string extension_name_;
  absl::string_view extension_kind_ = "extension";
  bool extension_optional_ = false;
};

}  // namespace

std::string TreeToProtoJson(const ConfigNode& node, const Descriptor& descriptor,
                            const TreeReadOptions& options, ValidationErrors* errors) {
  if (node.kind == ConfigNode::Kind::kNull) return "{}";
  std::string out;
  TreeReader(options, errors).WriteMessage(node, descriptor, &out);
  return out;
}

}  // namespace xds
