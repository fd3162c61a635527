#include "proxy/http1/response_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/strings/match.h"
#include "boost/beast/http/error.hpp"

namespace proxy::http1 {
namespace {

using boost::beast::http::error;

// A chunk-size line (size and extensions) longer than this is refused: nothing legitimate
// needs more, and the line must be buffered whole.
constexpr size_t kMaxChunkLine = 4096;
// Content-Length values and chunk sizes beyond this are refused rather than overflowing.
constexpr uint64_t kMaxLength = uint64_t{1} << 60;

enum CharClass : uint8_t { kToken = 1, kValue = 2 };

// RFC 9110 tchar and field-vchar / SP / HTAB / obs-text (no CTLs, no DEL).
constexpr std::array<uint8_t, 256> MakeCharClasses() {
  std::array<uint8_t, 256> classes{};
  for (int c = 0x21; c <= 0x7e; ++c) classes[c] |= kValue;
  for (int c = 0x80; c <= 0xff; ++c) classes[c] |= kValue;
  classes[' '] |= kValue;
  classes['\t'] |= kValue;
  for (int c = '0'; c <= '9'; ++c) classes[c] |= kToken;
  for (int c = 'a'; c <= 'z'; ++c) classes[c] |= kToken;
  for (int c = 'A'; c <= 'Z'; ++c) classes[c] |= kToken;
  for (char c : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'}) {
    classes[static_cast<uint8_t>(c)] |= kToken;
  }
  return classes;
}
constexpr std::array<uint8_t, 256> kCharClasses = MakeCharClasses();

bool AllOf(absl::string_view s, CharClass wanted) {
  for (char c : s) {
    if ((kCharClasses[static_cast<uint8_t>(c)] & wanted) == 0) return false;
  }
  return true;
}

// AllOf(s, kValue), eight bytes at a time: values are most of a head's bytes. A word with no byte
// below 0x20 and none equal to 0x7f is all valid (bytes >= 0x80 are obs-text); any other word,
// e.g. one holding a tab, is checked byte by byte.
bool IsFieldValue(absl::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHighs = 0x8080808080808080;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
    const uint64_t del = word ^ (kOnes * 0x7f);
    const uint64_t is_del = (del - kOnes) & ~del & kHighs;
    if ((below_space | is_del) != 0 && !AllOf(s.substr(i, 8), kValue)) return false;
  }
  return AllOf(s.substr(i), kValue);
}

absl::string_view TrimOws(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Decimal digits only, below kMaxLength.
bool ParseDecimal(absl::string_view s, uint64_t* value) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v >= kMaxLength) return false;
  }
  *value = v;
  return true;
}

// Calls `fn` with each element of a comma-separated list, OWS trimmed (empty ones included).
template <typename Fn>
void ForEachListItem(absl::string_view list, Fn fn) {
  while (true) {
    const size_t comma = list.find(',');
    fn(TrimOws(list.substr(0, comma)));
    if (comma == absl::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

size_t ResponseParser::Put(absl::string_view data, error_code& ec) {
  ec = {};
  head_->body_pieces.clear();
  size_t used = 0;
  if (state_ == State::kHead) {
    const size_t end = FindHeadEnd(data, ec);
    if (ec) return 0;
    if (end == absl::string_view::npos) {
      ec = error::need_more;
      return 0;
    }
    ParseHead(data.substr(0, end), ec);
    if (ec) return 0;
    used = end;
  }
  return used + ParseBody(data.substr(used), ec);
}

void ResponseParser::PutEof(error_code& ec) {
  ec = {};
  if (state_ == State::kUntilEof) {
    state_ = State::kDone;
  } else if (state_ != State::kDone) {
    ec = error::partial_message;
  }
}

size_t ResponseParser::FindHeadEnd(absl::string_view data, error_code& ec) {
  const size_t limit = std::min<size_t>(data.size(), limits_.max_header_bytes);
  while (scanned_ < limit) {
    const void* hit = std::memchr(data.data() + scanned_, '\n', limit - scanned_);
    if (hit == nullptr) {
      scanned_ = limit;
      break;
    }
    const size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - data.data());
    if (lf == 0 || data[lf - 1] != '\r') {
      ec = error::bad_line_ending;
      return absl::string_view::npos;
    }
    scanned_ = lf + 1;
    if (lf - 1 == line_start_) return lf + 1;  // the empty line
    line_start_ = lf + 1;
  }
  if (data.size() >= limits_.max_header_bytes) ec = error::header_limit;
  return absl::string_view::npos;
}

void ResponseParser::ParseHead(absl::string_view head, error_code& ec) {
  // Every LF ends a line and follows a CR (FindHeadEnd refused bare LFs); a stray CR elsewhere
  // fails the character checks.
  auto line_end = [&](size_t from) {
    return static_cast<size_t>(
        static_cast<const char*>(std::memchr(head.data() + from, '\n', head.size() - from)) -
        head.data() - 1);
  };
  size_t eol = line_end(0);
  if (!ParseStatusLine(head.substr(0, eol))) {
    ec = error::bad_status;
    return;
  }
  for (size_t pos = eol + 2; pos < head.size(); pos = eol + 2) {
    eol = line_end(pos);
    if (eol == pos) break;  // the empty line
    ParseField(head.substr(pos, eol - pos), ec);
    if (ec) return;
  }
  if (head_->chunked && head_->content_length.has_value()) {
    ec = error::bad_transfer_encoding;  // which one frames the body is ambiguous: smuggling
    return;
  }
  const int status = head_->status;
  if (skip_body_ || status < 200 || status == 204 || status == 304) {
    state_ = State::kDone;
  } else if (head_->chunked) {
    state_ = State::kChunkSize;
  } else if (head_->content_length.has_value()) {
    remaining_ = *head_->content_length;
    state_ = remaining_ == 0 ? State::kDone : State::kLength;
  } else {
    state_ = State::kUntilEof;
  }
  const bool persistent = head_->version == 11 ? !connection_close_
                                               : connection_keep_alive_ && !connection_close_;
  head_->keep_alive = persistent && state_ != State::kUntilEof;
}

bool ResponseParser::ParseStatusLine(absl::string_view line) {
  // HTTP-version SP 3DIGIT [SP reason-phrase]; only HTTP/1.0 and HTTP/1.1.
  if (line.size() < 12 || !absl::StartsWith(line, "HTTP/1.") || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ') {
    return false;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return false;
  if (line.size() > 12 && (line[12] != ' ' || !IsFieldValue(line.substr(13)))) return false;
  head_->status = status;
  head_->version = line[7] == '1' ? 11 : 10;
  return true;
}

void ResponseParser::ParseField(absl::string_view line, error_code& ec) {
  if (++fields_ > limits_.max_headers) {
    ec = error::header_limit;
    return;
  }
  // field-name ":" OWS field-value OWS. A leading space (obs-fold) or one before the colon is not
  // a token character, so both are refused here.
  const size_t colon = line.find(':');
  if (colon == 0 || colon == absl::string_view::npos || !AllOf(line.substr(0, colon), kToken)) {
    ec = error::bad_field;
    return;
  }
  const absl::string_view name = line.substr(0, colon);
  const absl::string_view value = TrimOws(line.substr(colon + 1));
  if (!IsFieldValue(value)) {
    ec = error::bad_value;
    return;
  }
  if (absl::EqualsIgnoreCase(name, "content-length")) {
    // One length, possibly repeated ("3, 3" or two fields): anything else is ambiguous.
    bool valid = true;
    ForEachListItem(value, [&](absl::string_view item) {
      uint64_t length = 0;
      valid = valid && ParseDecimal(item, &length) &&
              (!head_->content_length.has_value() || *head_->content_length == length);
      if (valid) head_->content_length = length;
    });
    if (!valid) {
      ec = error::bad_content_length;
      return;
    }
  } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
    // Only a single "chunked" is safe to act on (as for requests, message_parser.h).
    if (++transfer_encoding_fields_ > 1 || !absl::EqualsIgnoreCase(value, "chunked")) {
      ec = error::bad_transfer_encoding;
      return;
    }
    head_->chunked = true;
  } else if (absl::EqualsIgnoreCase(name, "connection")) {
    ForEachListItem(value, [&](absl::string_view token) {
      if (absl::EqualsIgnoreCase(token, "close")) connection_close_ = true;
      if (absl::EqualsIgnoreCase(token, "keep-alive")) connection_keep_alive_ = true;
    });
  }
  head_->headers.AddLowercasingName(name, value);
}

bool ResponseParser::NextLine(absl::string_view data, size_t from, size_t max_length,
                              absl::string_view* line, error_code& ec) const {
  const size_t window = std::min(data.size() - from, max_length + 2);
  const void* hit = std::memchr(data.data() + from, '\n', window);
  if (hit == nullptr) {
    if (window == max_length + 2) ec = error::header_limit;  // the caller names the error
    return false;
  }
  const size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - data.data());
  if (lf == from || data[lf - 1] != '\r') {
    ec = error::bad_line_ending;
    return false;
  }
  *line = data.substr(from, lf - 1 - from);
  return true;
}

size_t ResponseParser::ParseBody(absl::string_view data, error_code& ec) {
  size_t used = 0;
  while (true) {
    const size_t available = data.size() - used;
    switch (state_) {
      case State::kHead:
      case State::kDone:
        return used;
      case State::kUntilEof:
        if (available > 0) head_->body_pieces.push_back(data.substr(used));
        ec = error::need_more;
        return data.size();
      case State::kLength:
      case State::kChunkData: {
        if (available == 0) {
          ec = error::need_more;
          return used;
        }
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, available));
        head_->body_pieces.push_back(data.substr(used, take));
        used += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = state_ == State::kLength ? State::kDone : State::kChunkDataEnd;
        }
        break;
      }
      case State::kChunkDataEnd:
        if (available < 2) {
          if (available == 1 && data[used] != '\r') {
            ec = error::bad_chunk;
            return used;
          }
          ec = error::need_more;
          return used;
        }
        if (data[used] != '\r' || data[used + 1] != '\n') {
          ec = error::bad_chunk;
          return used;
        }
        used += 2;
        state_ = State::kChunkSize;
        break;
      case State::kChunkSize: {
        // chunk-size [ chunk-ext ] CRLF. Extensions are ignored but must be field text.
        absl::string_view line;
        if (!NextLine(data, used, kMaxChunkLine, &line, ec)) {
          if (ec == error::header_limit) ec = error::bad_chunk;
          if (!ec) ec = error::need_more;
          return used;
        }
        uint64_t size = 0;
        size_t digits = 0;
        for (; digits < line.size() && HexValue(line[digits]) >= 0; ++digits) {
          size = size * 16 + static_cast<uint64_t>(HexValue(line[digits]));
          if (size >= kMaxLength) break;
        }
        const absl::string_view extensions = TrimOws(line.substr(digits));
        if (digits == 0 || size >= kMaxLength ||
            (!extensions.empty() && (extensions.front() != ';' || !AllOf(extensions, kValue)))) {
          ec = error::bad_chunk;
          return used;
        }
        used += line.size() + 2;
        remaining_ = size;
        state_ = size == 0 ? State::kTrailers : State::kChunkData;
        break;
      }
      case State::kTrailers: {
        // Dropped (as Envoy does for HTTP/1 by default), but checked and counted against the
        // header limit so they cannot grow without bound.
        absl::string_view line;
        const size_t budget = limits_.max_header_bytes - std::min(trailer_bytes_,
                                                                  limits_.max_header_bytes);
        if (!NextLine(data, used, budget, &line, ec)) {
          if (!ec) ec = error::need_more;
          return used;
        }
        used += line.size() + 2;
        if (line.empty()) {
          state_ = State::kDone;
          break;
        }
        const size_t colon = line.find(':');
        if (colon == 0 || colon == absl::string_view::npos ||
            !AllOf(line.substr(0, colon), kToken) || !IsFieldValue(line.substr(colon + 1))) {
          ec = error::bad_field;
          return used;
        }
        trailer_bytes_ += static_cast<uint32_t>(line.size() + 2);
        break;
      }
    }
  }
}

}  // namespace proxy::http1
