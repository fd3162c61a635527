#pragma once

// HTTP/1.1 pieces shared by the integration-test harness's raw client (http_client.h) and its
// test upstream server (test_upstream.h): header lists, head parsing, an incremental chunked
// decoder, the FNV-1a checksum used to compare streamed bodies without buffering them, and the
// deterministic "pattern" body data. They are written independently of weir's own codec on
// purpose, so that a bug in weir's parser cannot hide itself by also being in the test's.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weir_test {

// Header fields in wire order; names lower-cased by the parsers, values with surrounding
// whitespace trimmed. A vector, not a map: order and duplicates are part of what tests check.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The first value of `name` (case-insensitive), or nullopt.
std::optional<std::string> FindHeader(const HeaderList& headers, absl::string_view name);
// Every value of `name` (case-insensitive), in order.
std::vector<std::string> FindHeaders(const HeaderList& headers, absl::string_view name);
// Whether a comma-separated header (e.g. connection, transfer-encoding) lists `token`.
bool HeaderHasToken(const HeaderList& headers, absl::string_view name, absl::string_view token);

// The first line and the fields of a message head (`head` without the final CRLF CRLF).
struct ParsedHead {
  std::string start_line;
  HeaderList headers;
};
// Strict on purpose (it checks what a proxy emits): lines end in CRLF, field names are tokens
// with no whitespace before the colon, no obsolete line folding.
absl::StatusOr<ParsedHead> ParseHead(absl::string_view head);

// The framing that content-length / transfer-encoding give a message body (RFC 9112 6.3).
// Duplicate content-length values that differ are an error.
struct BodyFraming {
  enum class Kind { kNone, kContentLength, kChunked, kUntilClose };
  Kind kind = Kind::kNone;
  uint64_t length = 0;  // for kContentLength
};
absl::StatusOr<BodyFraming> FramingFromHeaders(const HeaderList& headers, bool is_request);

// Incremental chunked-body decoder: feed it whatever bytes arrived; it consumes what it can
// (whole chunk-size and trailer lines only, so the caller keeps the rest for the next call).
class ChunkedDecoder {
 public:
  // Returns the number of bytes of `in` consumed; chunk data goes to `on_data`.
  size_t Feed(absl::string_view in, const std::function<void(absl::string_view)>& on_data);
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kError; }
  const std::string& error() const { return error_; }
  const HeaderList& trailers() const { return trailers_; }
  int chunk_count() const { return chunk_count_; }

 private:
  enum class State { kSize, kData, kDataCrlf, kTrailers, kDone, kError };
  size_t Fail(std::string message);

  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  int chunk_count_ = 0;
  HeaderList trailers_;
  std::string error_;
};

// FNV-1a 64: a streaming checksum. Fold chunks in order: Fnv1a(b, Fnv1a(a)) == Fnv1a(a + b).
inline constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
uint64_t Fnv1a(absl::string_view data, uint64_t hash = kFnvOffsetBasis);
// 16 lower-case hex digits, zero-padded, as TestUpstream reports it.
std::string FnvHex(uint64_t hash);

// Pattern body data: printable bytes with a period of 251 (prime, so an offset slip by a
// power of two shows). TestUpstream sends it for `x-test-body-size`; tests check it in bulk.
char PatternByte(uint64_t offset);
std::string PatternBody(uint64_t size, uint64_t offset = 0);
// Whether `data` equals the pattern starting at `offset` (memcmp speed, for huge bodies).
bool MatchesPattern(absl::string_view data, uint64_t offset);
// A read-only view of the pattern from `offset` of up to `max_len` bytes (at most 64 KiB):
// what the upstream writes without generating anything per request.
absl::string_view PatternSlice(uint64_t offset, size_t max_len);

// Reason phrases for the status codes tests use ("Unknown" otherwise).
absl::string_view ReasonPhrase(int status);

}  // namespace weir_test
