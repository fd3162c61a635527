#pragma once

// ValidationErrors collects every problem found in a configuration, each tagged with the field
// path where it was found, e.g.
//   virtual_hosts[1].routes[3].route.weighted_clusters: sum of weights must be greater than 0
// so that one pass reports all errors at once (the shape of gRPC's xDS parsers). It lives in
// routing/ because routing is the lowest module that validates config; xds/ pushes the outer path
// (static_resources.listeners[0]...) and then lets routing add errors beneath it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace routing {

class ValidationErrors {
 public:
  // Pushes one path element for its lifetime. `field` is a field name ("routes") or a
  // subscript ("[3]", "[\"key\"]"); subscripts attach to the previous element without a dot.
  class ScopedField {
   public:
    ScopedField(ValidationErrors* errors, std::string_view field);
    ~ScopedField();
    ScopedField(const ScopedField&) = delete;
    ScopedField& operator=(const ScopedField&) = delete;

   private:
    ValidationErrors* errors_;
  };

  // Formats a repeated-field subscript: Index(3) == "[3]".
  static std::string Index(size_t i);
  // Formats a map-key subscript: Key("a") == "[\"a\"]".
  static std::string Key(std::string_view key);

  // Records a problem at the current path. Errors make the config invalid; warnings do not.
  void AddError(std::string_view message);
  void AddWarning(std::string_view message);

  // The current path, e.g. "virtual_hosts[1].routes[3]"; empty at the root.
  std::string CurrentPath() const;

  bool ok() const { return errors_.empty(); }
  // Each entry is "path: message" (or just "message" at the root).
  const std::vector<std::string>& errors() const { return errors_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // OkStatus when there are no errors, else InvalidArgument listing every error, one per line.
  absl::Status ToStatus() const;

 private:
  std::string Format(std::string_view message) const;

  std::vector<std::string> fields_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace routing
