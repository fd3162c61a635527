#pragma once

// Sans-I/O HTTP/1.1 request parser (downstream), built on Beast's basic_parser: bytes go in
// through Put(), the message head lands in a reusable MessageHead, and body bytes come out as
// views into the caller's buffer (valid until the caller consumes those bytes). Nothing here
// touches a socket, so the same code parses a benchmark's bytes, a test's hand-written bytes and a
// live connection's. Responses (upstream) have their own parser with the same contract,
// response_parser.h.
//
// Beyond Beast's own checks (it rejects Content-Length together with chunked, conflicting
// Content-Lengths, bad chunk framing, bare LF, NUL and other CTLs) the request parser refuses any
// Transfer-Encoding other than a single, final "chunked" and Transfer-Encoding on HTTP/1.0, the
// request-smuggling vectors Beast lets through, and enforces the header count limit.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "boost/beast/http/basic_parser.hpp"
#include "proxy/http/header_map.h"

namespace proxy::http1 {

// What went wrong, mapped to the status Envoy would send.
enum class ParseError {
  kNone,
  kBadRequest,        // 400: malformed, smuggling vector
  kHeadersTooLarge,   // 431: header bytes or count over the limit
  kUriTooLong,        // 414: request line over the limit
};

struct ParseLimits {
  uint32_t max_header_bytes = 60 * 1024;
  uint32_t max_headers = 100;
  uint32_t max_request_line = 16 * 1024;  // bigger lines get 414
};

// The head of one message, reused across the messages of a connection.
struct MessageHead {
  // Requests.
  std::string method;
  std::string target;
  // Responses.
  int status = 0;
  int version = 11;  // 10 or 11
  http::HeaderMap headers;
  // Framing, as parsed.
  bool chunked = false;
  std::optional<uint64_t> content_length;
  bool keep_alive = true;  // per the version and Connection header
  // Body bytes delivered by the parser's last Put() (views into the caller's buffer). Kept here,
  // not in the parser, so the storage is reused across messages.
  std::vector<absl::string_view> body_pieces;

  void Clear() {
    method.clear();
    target.clear();
    status = 0;
    version = 11;
    headers.Clear();
    chunked = false;
    content_length.reset();
    keep_alive = true;
    body_pieces.clear();
  }
};

template <bool kIsRequest>
class MessageParser : public boost::beast::http::basic_parser<kIsRequest> {
 public:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  MessageParser(const ParseLimits& limits, MessageHead* head) : limits_(limits), head_(head) {
    this->header_limit(limits.max_header_bytes);
    this->body_limit(boost::none);  // bodies are streamed, never buffered whole
    this->eager(true);
    head_->Clear();
  }

  // Feeds bytes; returns how many were consumed (the caller removes them from its buffer only
  // after forwarding Body()). `ec` is Beast's (need_more means: read more and call again).
  size_t Put(absl::string_view data, error_code& ec) {
    head_->body_pieces.clear();
    return this->put(boost::asio::const_buffer(data.data(), data.size()), ec);
  }
  void PutEof(error_code& ec) { this->put_eof(ec); }

  // Body bytes delivered by the last Put().
  const std::vector<absl::string_view>& Body() const { return head_->body_pieces; }
  // Our own classification of a failed Put(); kBadRequest for any Beast error not mapped.
  ParseError Classify(const error_code& ec, absl::string_view buffered) const;

 private:
  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override;
  size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  const ParseLimits& limits_;
  MessageHead* head_;
  ParseError own_error_ = ParseError::kNone;
  bool start_line_done_ = false;
  bool header_done_ = false;
  int transfer_encoding_fields_ = 0;
  uint32_t trailer_bytes_ = 0;
};

using RequestParser = MessageParser<true>;

}  // namespace proxy::http1
