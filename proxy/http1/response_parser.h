#pragma once

// ResponseParser: the sans-I/O parser for HTTP/1.1 responses from upstreams (RFC 9112), on the
// proxy's hot path. It keeps the request parser's contract (message_parser.h): bytes go in
// through Put(), the head lands in a reusable MessageHead (names lower-cased), body bytes come out
// as views into the caller's buffer, and errors are Beast's codes (need_more: read more and call
// again with the unconsumed bytes plus the new ones).
//
// Why not Beast's basic_parser, as for requests: on every proxied request its code (field-name
// hashing, token lists, virtual callbacks) displaced the rest of the request path from the
// instruction cache. This parser runs about as many instructions (~4.2k against ~4.9k for
// nginx's five-field head, callgrind) in much less code: -1.8% CPU per request at 64 HTTP/2
// connections x 1 stream (bench/RESULTS.md). The head is parsed in one pass once its end is in the buffer.
//
// Strict where a lenient parser would let a broken or hostile upstream mis-frame the body or
// smuggle a field: bare LF, CTLs and DEL in fields, whitespace before the colon, obs-fold, a
// Transfer-Encoding other than one "chunked", Transfer-Encoding with Content-Length, conflicting
// Content-Lengths, malformed chunk framing, and heads, trailers or chunk lines over the limits are
// all errors. Identical repeated Content-Lengths ("3, 3") collapse, as in the request parser.

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "boost/beast/core/error.hpp"
#include "proxy/http1/message_parser.h"

namespace proxy::http1 {

class ResponseParser {
 public:
  using error_code = boost::beast::error_code;

  ResponseParser(const ParseLimits& limits, MessageHead* head) : limits_(limits), head_(head) {
    head_->Clear();
  }

  // The response answers a HEAD request: it has no body, whatever its framing fields say.
  void skip(bool skip) { skip_body_ = skip; }

  // Feeds bytes; returns how many were consumed. The head is consumed only when whole; a body's
  // bytes as they come (Body()), up to the end of the message and no further. Unless the message
  // is complete or `ec` is an error, `ec` is need_more on return.
  size_t Put(absl::string_view data, error_code& ec);
  // The upstream closed: completes a body delimited by the close, fails any other unfinished one.
  void PutEof(error_code& ec);

  // Body bytes delivered by the last Put().
  const std::vector<absl::string_view>& Body() const { return head_->body_pieces; }
  bool is_header_done() const { return state_ != State::kHead; }
  bool is_done() const { return state_ == State::kDone; }
  bool need_eof() const { return state_ == State::kUntilEof; }

 private:
  enum class State {
    kHead,
    kLength,        // Content-Length body
    kChunkSize,     // a chunk-size line
    kChunkData,     // inside a chunk
    kChunkDataEnd,  // the CRLF after a chunk's data
    kTrailers,      // after the last chunk, until the empty line
    kUntilEof,      // no length: the body runs until the upstream closes
    kDone,
  };

  // The end of the head (just past its empty line) once in `data`, else npos; errors in `ec`.
  size_t FindHeadEnd(absl::string_view data, error_code& ec);
  void ParseHead(absl::string_view head, error_code& ec);
  bool ParseStatusLine(absl::string_view line);
  void ParseField(absl::string_view line, error_code& ec);
  size_t ParseBody(absl::string_view data, error_code& ec);
  // One CRLF-terminated line starting at `from`, without its CRLF; false if it is not all there.
  bool NextLine(absl::string_view data, size_t from, size_t max_length, absl::string_view* line,
                error_code& ec) const;

  const ParseLimits limits_;  // a copy: 12 bytes, and no lifetime to get wrong
  MessageHead* head_;
  State state_ = State::kHead;
  bool skip_body_ = false;
  // Head scanning resumes where the last Put() stopped (the caller keeps the unconsumed bytes).
  size_t scanned_ = 0;
  size_t line_start_ = 0;
  // Framing fields, as seen.
  int transfer_encoding_fields_ = 0;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  uint32_t fields_ = 0;
  uint64_t remaining_ = 0;       // of the Content-Length body or the current chunk
  uint32_t trailer_bytes_ = 0;
};

}  // namespace proxy::http1
