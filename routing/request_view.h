#pragma once

// What routing needs to know about a request, without depending on any HTTP codec: the
// pseudo-header values as plain string views and, for header and query matchers, a HeaderSource
// the proxy implements over its own header storage. Everything is borrowed for one call.

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace routing {

// Read access to request headers by lower-case name.
class HeaderSource {
 public:
  virtual ~HeaderSource() = default;
  // Calls `fn` once per value of header `lowercase_name`, in arrival order.
  virtual void ForEachValue(absl::string_view lowercase_name,
                            absl::FunctionRef<void(absl::string_view)> fn) const = 0;
};

// A HeaderSource over an owned list of (lower-case name, value) pairs: for tests, benchmarks and
// codecs that already hold headers this way.
class HeaderList : public HeaderSource {
 public:
  HeaderList() = default;
  HeaderList(std::initializer_list<std::pair<std::string, std::string>> headers)
      : headers_(headers) {}

  void Add(std::string lowercase_name, std::string value) {
    headers_.emplace_back(std::move(lowercase_name), std::move(value));
  }
  void ForEachValue(absl::string_view lowercase_name,
                    absl::FunctionRef<void(absl::string_view)> fn) const override {
    for (const auto& [name, value] : headers_) {
      if (name == lowercase_name) fn(value);
    }
  }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
};

struct RequestView {
  absl::string_view authority;  // Host (HTTP/1) or :authority (HTTP/2)
  absl::string_view path;       // :path, query string included
  absl::string_view method;
  absl::string_view scheme;     // "http" or "https"
  const HeaderSource* headers = nullptr;  // regular headers; null = none
};

}  // namespace routing
