#include "proxy/http1/message_parser.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "boost/beast/http/error.hpp"

namespace proxy::http1 {
namespace {

namespace beast = boost::beast;
using beast::http::error;

absl::string_view View(beast::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

template <bool kIsRequest>
void MessageParser<kIsRequest>::on_request_impl(beast::http::verb, string_view method,
                                                string_view target, int version, error_code& ec) {
  if (target.size() + method.size() + 10 > limits_.max_request_line) {
    own_error_ = ParseError::kUriTooLong;
    ec = error::bad_target;
    return;
  }
  if (version != 10 && version != 11) {
    ec = error::bad_version;
    return;
  }
  start_line_done_ = true;
  head_->method.assign(method.data(), method.size());
  head_->target.assign(target.data(), target.size());
  head_->version = version;
}

template <bool kIsRequest>
void MessageParser<kIsRequest>::on_response_impl(int code, string_view, int version,
                                                 error_code& ec) {
  if (version != 10 && version != 11) {
    ec = error::bad_version;
    return;
  }
  head_->status = code;
  head_->version = version;
}

template <bool kIsRequest>
void MessageParser<kIsRequest>::on_field_impl(beast::http::field, string_view name,
                                              string_view value, error_code& ec) {
  if (header_done_) {
    // Trailers of a chunked body: HTTP/1 trailers are dropped (as Envoy does by default), but
    // they still count against the header limit so they cannot grow without bound.
    trailer_bytes_ += static_cast<uint32_t>(name.size() + value.size());
    if (trailer_bytes_ > limits_.max_header_bytes) {
      own_error_ = ParseError::kHeadersTooLarge;
      ec = error::header_limit;
    }
    return;
  }
  if (head_->headers.size() >= limits_.max_headers) {
    own_error_ = ParseError::kHeadersTooLarge;
    ec = error::header_limit;
    return;
  }
  if (absl::EqualsIgnoreCase(View(name), "transfer-encoding")) {
    // Only a single "chunked" is safe to act on; everything else (gzip, "chunked, chunked",
    // "xchunked", a second Transfer-Encoding line, TE on HTTP/1.0) is a smuggling vector.
    ++transfer_encoding_fields_;
    absl::string_view coding = absl::StripAsciiWhitespace(View(value));
    if (transfer_encoding_fields_ > 1 || !absl::EqualsIgnoreCase(coding, "chunked") ||
        (kIsRequest && head_->version == 10)) {
      own_error_ = ParseError::kBadRequest;
      ec = error::bad_transfer_encoding;
      return;
    }
  }
  head_->headers.AddLowercasingName(View(name), View(value));
}

template <bool kIsRequest>
void MessageParser<kIsRequest>::on_header_impl(error_code&) {
  header_done_ = true;
  head_->chunked = this->chunked();
  if (this->content_length()) head_->content_length = *this->content_length();
  head_->keep_alive = this->keep_alive();
}

template <bool kIsRequest>
void MessageParser<kIsRequest>::on_body_init_impl(const boost::optional<std::uint64_t>&,
                                                  error_code&) {}

template <bool kIsRequest>
size_t MessageParser<kIsRequest>::on_body_impl(string_view body, error_code&) {
  head_->body_pieces.push_back(View(body));
  return body.size();
}

template <bool kIsRequest>
void MessageParser<kIsRequest>::on_chunk_header_impl(std::uint64_t, string_view, error_code&) {}

template <bool kIsRequest>
size_t MessageParser<kIsRequest>::on_chunk_body_impl(std::uint64_t, string_view body,
                                                     error_code&) {
  head_->body_pieces.push_back(View(body));
  return body.size();
}

template <bool kIsRequest>
void MessageParser<kIsRequest>::on_finish_impl(error_code&) {}

template <bool kIsRequest>
ParseError MessageParser<kIsRequest>::Classify(const error_code& ec,
                                               absl::string_view buffered) const {
  if (own_error_ != ParseError::kNone) return own_error_;
  if (ec == error::header_limit) {
    // The whole header did not fit; if even the request line did not, that is a 414.
    if (kIsRequest && !start_line_done_ && buffered.find("\r\n") == absl::string_view::npos) {
      return ParseError::kUriTooLong;
    }
    return ParseError::kHeadersTooLarge;
  }
  return ParseError::kBadRequest;
}

template class MessageParser<true>;

}  // namespace proxy::http1
