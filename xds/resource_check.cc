#include "xds/resource_check.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "xds/extension_types.h"
#include "xds/support_policy.h"

namespace xds {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using routing::ValidationErrors;
using Field = routing::ValidationErrors::ScopedField;

constexpr absl::string_view kHttpFilter =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter";

bool IsWellKnown(const Descriptor& d) {
  return d.file()->name().rfind("google/protobuf/", 0) == 0;
}

class Checker {
 public:
  explicit Checker(ValidationErrors* errors) : errors_(errors) {}

  void CheckMessage(const Message& message) {
    const Descriptor& d = *message.GetDescriptor();
    const Reflection& reflection = *message.GetReflection();
    if (d.full_name() == "google.protobuf.Any") {
      CheckAny(static_cast<const google::protobuf::Any&>(message));
      return;
    }
    if (IsWellKnown(d)) return;
    const google::protobuf::UnknownFieldSet& unknown = reflection.GetUnknownFields(message);
    if (!unknown.empty()) {
      std::vector<int> numbers;
      for (int i = 0; i < unknown.field_count(); ++i) numbers.push_back(unknown.field(i).number());
      errors_->AddWarning(absl::StrCat("field number(s) ", absl::StrJoin(numbers, ", "),
                                       " of ", d.full_name(),
                                       " are not in weir's subset of Envoy's API; ignored"));
    }
    // An HttpFilter marked is_optional may name an extension weir lacks, as Envoy allows.
    const bool optional_filter =
        d.full_name() == kHttpFilter && HasTrueBool(message, reflection, "is_optional");

    std::vector<const FieldDescriptor*> fields;
    reflection.ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) {
      Field scope(errors_, field->name());
      switch (GetFieldSupport(d.full_name(), field->name())) {
        case FieldSupport::kSupported:
          break;
        case FieldSupport::kIgnored:
          errors_->AddWarning("has no effect in weir; ignored");
          continue;
        case FieldSupport::kUnsupported:
          errors_->AddWarning("field is not supported by weir; ignored");
          continue;
        case FieldSupport::kRefused:
          errors_->AddError(
              "not supported by weir, and ignoring it would change which requests or "
              "connections the config accepts");
          continue;
      }
      if (field->options().deprecated()) errors_->AddWarning("deprecated in Envoy's v3 API");
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      optional_filter_ = optional_filter;
      if (field->is_map()) {
        const FieldDescriptor* key = field->message_type()->map_key();
        const FieldDescriptor* value = field->message_type()->map_value();
        for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
          const Message& entry = reflection.GetRepeatedMessage(message, field, i);
          const Reflection& entry_reflection = *entry.GetReflection();
          Field index(errors_, ValidationErrors::Key(
                                   key->cpp_type() == FieldDescriptor::CPPTYPE_STRING
                                       ? entry_reflection.GetString(entry, key)
                                       : std::to_string(i)));
          if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
            CheckMessage(entry_reflection.GetMessage(entry, value));
          }
        }
      } else if (field->is_repeated()) {
        for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
          Field index(errors_, ValidationErrors::Index(i));
          CheckMessage(reflection.GetRepeatedMessage(message, field, i));
        }
      } else {
        CheckMessage(reflection.GetMessage(message, field));
      }
    }
  }

 private:
  static bool HasTrueBool(const Message& message, const Reflection& reflection,
                          const char* name) {
    const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
    return field != nullptr && field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL &&
           !field->is_repeated() && reflection.GetBool(message, field);
  }

  void CheckAny(const google::protobuf::Any& any) {
    absl::string_view url = any.type_url();
    const std::string type_name(url.substr(url.rfind('/') + 1));
    const Descriptor* d = FindExtensionType(type_name);
    if (d == nullptr) {
      std::string message = absl::StrCat("extension type \"", type_name,
                                         "\" is not supported by weir");
      if (optional_filter_) {
        errors_->AddWarning(absl::StrCat(message, "; skipped because it is marked is_optional"));
      } else {
        errors_->AddError(message);
      }
      return;
    }
    std::unique_ptr<Message> inner(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
    if (!inner->ParseFromString(any.value())) {
      errors_->AddError(absl::StrCat("malformed ", type_name, " (the bytes do not parse)"));
      return;
    }
    optional_filter_ = false;
    CheckMessage(*inner);
  }

  ValidationErrors* errors_;
  bool optional_filter_ = false;  // the Any being checked belongs to an optional HttpFilter
};

}  // namespace

void CheckDynamicResource(const Message& resource, ValidationErrors* errors) {
  Checker(errors).CheckMessage(resource);
}

}  // namespace xds
