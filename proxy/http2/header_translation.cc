#include "proxy/http2/header_translation.h"

#include <string>

#include "proxy/http1/forwarding.h"

namespace proxy::http2 {

void H1HeadersToH2(const http::HeaderMap& h1, http::HeaderMap* h2) {
  const absl::string_view connection = h1.Get("connection").value_or("");
  h1.ForEach([&](absl::string_view name, absl::string_view value) {
    if (name == "host" || http1::IsHopByHop(name, value, connection)) return;
    h2->Add(name, value);
  });
}

RequestHeaders H1RequestToH2(absl::string_view method, absl::string_view target,
                             absl::string_view scheme, const http::HeaderMap& h1_headers) {
  RequestHeaders request;
  request.method = method;
  if (method == "CONNECT") {
    request.authority = target;  // authority form; no :scheme or :path (RFC 9113 §8.5)
    return request;
  }
  request.scheme = scheme;
  absl::string_view authority;
  absl::string_view path;
  if (http1::SplitAbsoluteTarget(target, &authority, &path)) {
    request.authority = authority;
    request.path = path;
  } else {
    request.authority = h1_headers.Get("host").value_or("");
    request.path = target;
  }
  return request;
}

void H2HeadersToH1(absl::string_view authority, const http::HeaderMap& h2, http::HeaderMap* h1) {
  if (!authority.empty()) h1->Add("host", authority);
  const size_t crumbs = h2.Count("cookie");
  bool cookie_done = false;
  h2.ForEach([&](absl::string_view name, absl::string_view value) {
    if (name == "host" && !authority.empty()) return;
    if (name == "cookie" && crumbs > 1) {
      if (cookie_done) return;
      cookie_done = true;
      std::string joined;
      h2.ForEachValue("cookie", [&joined](absl::string_view crumb) {
        if (!joined.empty()) joined.append("; ");
        joined.append(crumb.data(), crumb.size());
      });
      h1->Add("cookie", joined);
      return;
    }
    h1->Add(name, value);
  });
}

}  // namespace proxy::http2
