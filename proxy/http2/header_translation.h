#pragma once

// Header translation between HTTP/1.1 and HTTP/2 messages, for the four codec combinations the
// proxy serves (h1→h1 needs none of this). Pure functions over http::HeaderMap:
//   - h1 → h2 (RFC 9113 §8.2.2, §8.3.1): connection-specific fields are dropped (Connection and
//     the fields it names, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, Trailer, TE
//     unless it is "trailers", which gRPC needs); Host becomes :authority.
//   - h2 → h1 (RFC 9113 §8.3.1, §8.2.3): :authority becomes Host; cookie crumbs (HTTP/2 lets a
//     client split Cookie into one field per pair) are joined into one field with "; ".
// The request line and :status are carried separately (RequestHeaders/ResponseHeaders for
// HTTP/2, http1::MessageHead and http1::forwarding for HTTP/1.1).

#include "absl/strings/string_view.h"
#include "proxy/http/header_map.h"
#include "proxy/http2/session.h"

namespace proxy::http2 {

// Appends the fields of an HTTP/1.1 message (request or response) that may travel in HTTP/2 to
// `h2`, in order. Host is dropped too: it travels as :authority.
void H1HeadersToH2(const http::HeaderMap& h1, http::HeaderMap* h2);

// The pseudo-headers of an HTTP/2 request for an HTTP/1.1 request line: `target` in origin form
// ("/p?q"), absolute form ("http://a/p": authority and path from it), authority form (CONNECT:
// only :method and :authority) or "*" (OPTIONS). :authority otherwise comes from Host. Views
// point into the arguments; `headers` is left for the caller to set (see H1HeadersToH2).
RequestHeaders H1RequestToH2(absl::string_view method, absl::string_view target,
                             absl::string_view scheme, const http::HeaderMap& h1_headers);

// Appends the regular fields of an HTTP/2 message to `h1`: Host from `authority` first when it
// is not empty (a Host field in `h2` is then dropped), cookie crumbs joined where the first one
// was. For responses pass an empty authority.
void H2HeadersToH1(absl::string_view authority, const http::HeaderMap& h2, http::HeaderMap* h1);

}  // namespace proxy::http2
