#pragma once

// Small conversions shared by the translate_*.cc files (protobuf well-known types to abseil).

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "routing/validation_errors.h"

namespace xds {

inline absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// A Duration that must not be negative; errors under the current path and returns zero.
inline absl::Duration NonNegativeDuration(const google::protobuf::Duration& d,
                                          routing::ValidationErrors* errors) {
  absl::Duration value = ToDuration(d);
  if (value < absl::ZeroDuration()) {
    errors->AddError("must not be negative");
    return absl::ZeroDuration();
  }
  return value;
}

// Whether `address` is an IPv4 or IPv6 literal (no brackets, no port).
bool IsIpLiteral(std::string_view address);

}  // namespace xds
