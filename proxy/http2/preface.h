#pragma once

// HTTP/2 "prior knowledge" detection (h2c, RFC 9113 §3.3): a listener whose codec_type is AUTO
// looks at the first bytes of a connection and picks the codec. An HTTP/2 client starts with the
// 24-byte connection preface; no HTTP/1.1 request line can (the method "PRI" with the version
// "HTTP/2.0" is reserved for it).

#include "absl/strings/string_view.h"

namespace proxy::http2 {

inline constexpr absl::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class PrefaceMatch {
  kNeedMore,  // a proper prefix of the preface so far: read more before deciding
  kHttp2,     // starts with the whole preface
  kNotHttp2,  // differs somewhere: HTTP/1.1 (or garbage for the HTTP/1 parser to reject)
};

// Classifies the first bytes read on a connection. The bytes are not consumed: the chosen codec
// gets all of them (the HTTP/2 session checks the preface again).
inline PrefaceMatch MatchClientPreface(absl::string_view data) {
  const size_t n = data.size() < kClientPreface.size() ? data.size() : kClientPreface.size();
  if (data.substr(0, n) != kClientPreface.substr(0, n)) return PrefaceMatch::kNotHttp2;
  return n == kClientPreface.size() ? PrefaceMatch::kHttp2 : PrefaceMatch::kNeedMore;
}

}  // namespace proxy::http2
