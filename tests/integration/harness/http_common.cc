#include "tests/integration/harness/http_common.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace weir_test {
namespace {

constexpr size_t kMaxLine = 8192;
constexpr uint64_t kPatternPeriod = 251;
constexpr size_t kPatternSliceMax = 64 * 1024;
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

absl::string_view TrimOws(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One "name: value" field line into `out`.
absl::Status ParseFieldLine(absl::string_view line, HeaderList& out) {
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    return absl::InvalidArgumentError(absl::StrCat("obsolete line folding: \"", line, "\""));
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("malformed header line: \"", line, "\""));
  }
  absl::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!IsTokenChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid header name: \"", name, "\""));
    }
  }
  absl::string_view value = TrimOws(line.substr(colon + 1));
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid byte in header value: \"", line, "\""));
    }
  }
  out.emplace_back(absl::AsciiStrToLower(name), std::string(value));
  return absl::OkStatus();
}

const std::string& PatternBuffer() {
  static const std::string* const buffer = [] {
    auto* b = new std::string(kPatternSliceMax + kPatternPeriod, '\0');
    for (size_t i = 0; i < b->size(); ++i) (*b)[i] = PatternByte(i);
    return b;
  }();
  return *buffer;
}

}  // namespace

std::optional<std::string> FindHeader(const HeaderList& headers, absl::string_view name) {
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> FindHeaders(const HeaderList& headers, absl::string_view name) {
  std::vector<std::string> values;
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) values.push_back(v);
  }
  return values;
}

bool HeaderHasToken(const HeaderList& headers, absl::string_view name, absl::string_view token) {
  for (const auto& [n, v] : headers) {
    if (!absl::EqualsIgnoreCase(n, name)) continue;
    for (absl::string_view item : absl::StrSplit(v, ',')) {
      if (absl::EqualsIgnoreCase(TrimOws(item), token)) return true;
    }
  }
  return false;
}

absl::StatusOr<ParsedHead> ParseHead(absl::string_view head) {
  ParsedHead parsed;
  bool first = true;
  size_t pos = 0;
  // A bounded loop: every iteration consumes at least the CRLF or ends.
  while (pos <= head.size()) {
    size_t end = head.find("\r\n", pos);
    absl::string_view line =
        head.substr(pos, end == absl::string_view::npos ? absl::string_view::npos : end - pos);
    if (line.find_first_of("\r\n") != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bare CR or LF in line: \"", absl::CEscape(line), "\""));
    }
    if (first) {
      if (line.empty()) return absl::InvalidArgumentError("empty start line");
      parsed.start_line = std::string(line);
      first = false;
    } else {
      absl::Status status = ParseFieldLine(line, parsed.headers);
      if (!status.ok()) return status;
    }
    if (end == absl::string_view::npos) break;
    pos = end + 2;
  }
  return parsed;
}

absl::StatusOr<BodyFraming> FramingFromHeaders(const HeaderList& headers, bool is_request) {
  BodyFraming framing;
  std::vector<std::string> te = FindHeaders(headers, "transfer-encoding");
  if (!te.empty()) {
    std::vector<absl::string_view> codings;
    for (const std::string& v : te) {
      for (absl::string_view c : absl::StrSplit(v, ',')) codings.push_back(TrimOws(c));
    }
    if (!codings.empty() && absl::EqualsIgnoreCase(codings.back(), "chunked")) {
      framing.kind = BodyFraming::Kind::kChunked;
      return framing;
    }
    if (is_request) {
      return absl::InvalidArgumentError("request transfer-encoding does not end in chunked");
    }
    framing.kind = BodyFraming::Kind::kUntilClose;
    return framing;
  }
  std::optional<uint64_t> length;
  for (const std::string& v : FindHeaders(headers, "content-length")) {
    for (absl::string_view item : absl::StrSplit(v, ',')) {
      item = TrimOws(item);
      uint64_t n = 0;
      if (item.empty() || item.size() > 18 ||
          !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          !absl::SimpleAtoi(item, &n)) {
        return absl::InvalidArgumentError(absl::StrCat("invalid content-length \"", v, "\""));
      }
      if (length.has_value() && *length != n) {
        return absl::InvalidArgumentError("conflicting content-length values");
      }
      length = n;
    }
  }
  if (length.has_value()) {
    framing.kind = BodyFraming::Kind::kContentLength;
    framing.length = *length;
  } else {
    framing.kind = is_request ? BodyFraming::Kind::kNone : BodyFraming::Kind::kUntilClose;
  }
  return framing;
}

size_t ChunkedDecoder::Fail(std::string message) {
  state_ = State::kError;
  error_ = std::move(message);
  return 0;
}

size_t ChunkedDecoder::Feed(absl::string_view in,
                            const std::function<void(absl::string_view)>& on_data) {
  size_t pos = 0;
  while (pos < in.size() && state_ != State::kDone && state_ != State::kError) {
    absl::string_view rest = in.substr(pos);
    switch (state_) {
      case State::kSize:
      case State::kTrailers: {
        size_t eol = rest.find("\r\n");
        if (eol == absl::string_view::npos) {
          if (rest.size() > kMaxLine) return pos + Fail("chunk line too long");
          return pos;
        }
        absl::string_view line = rest.substr(0, eol);
        pos += eol + 2;
        if (state_ == State::kTrailers) {
          if (line.empty()) {
            state_ = State::kDone;
          } else {
            absl::Status status = ParseFieldLine(line, trailers_);
            if (!status.ok()) return pos + Fail(std::string(status.message()));
          }
          break;
        }
        absl::string_view size_text = TrimOws(line.substr(0, line.find(';')));
        uint64_t size = 0;
        if (size_text.empty() || size_text.size() > 15) {
          return pos + Fail(absl::StrCat("invalid chunk size line \"", absl::CEscape(line), "\""));
        }
        for (char c : size_text) {
          int digit = absl::ascii_isdigit(static_cast<unsigned char>(c)) ? c - '0'
                      : (c >= 'a' && c <= 'f')                           ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F')                           ? c - 'A' + 10
                                                                         : -1;
          if (digit < 0) {
            return pos +
                   Fail(absl::StrCat("invalid chunk size line \"", absl::CEscape(line), "\""));
          }
          size = size * 16 + static_cast<uint64_t>(digit);
        }
        if (size == 0) {
          state_ = State::kTrailers;
        } else {
          remaining_ = size;
          ++chunk_count_;
          state_ = State::kData;
        }
        break;
      }
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        on_data(rest.substr(0, n));
        remaining_ -= n;
        pos += n;
        if (remaining_ == 0) state_ = State::kDataCrlf;
        break;
      }
      case State::kDataCrlf: {
        if (rest[0] != '\r' || (rest.size() >= 2 && rest[1] != '\n')) {
          return pos + Fail("chunk data not followed by CRLF");
        }
        if (rest.size() < 2) return pos;
        pos += 2;
        state_ = State::kSize;
        break;
      }
      case State::kDone:
      case State::kError:
        break;
    }
  }
  return pos;
}

uint64_t Fnv1a(absl::string_view data, uint64_t hash) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string FnvHex(uint64_t hash) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016" PRIx64, hash);
  return buffer;
}

char PatternByte(uint64_t offset) { return kAlphabet[(offset % kPatternPeriod) % 62]; }

std::string PatternBody(uint64_t size, uint64_t offset) {
  std::string body;
  body.reserve(size);
  while (body.size() < size) {
    absl::string_view slice = PatternSlice(offset + body.size(), size - body.size());
    body.append(slice.data(), slice.size());
  }
  return body;
}

absl::string_view PatternSlice(uint64_t offset, size_t max_len) {
  const std::string& buffer = PatternBuffer();
  return absl::string_view(buffer.data() + offset % kPatternPeriod,
                           std::min(max_len, kPatternSliceMax));
}

bool MatchesPattern(absl::string_view data, uint64_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    absl::string_view expected = PatternSlice(offset + done, data.size() - done);
    if (std::memcmp(data.data() + done, expected.data(), expected.size()) != 0) return false;
    done += expected.size();
  }
  return true;
}

absl::string_view ReasonPhrase(int status) {
  static constexpr std::pair<int, absl::string_view> kReasons[] = {
      {100, "Continue"},
      {101, "Switching Protocols"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {413, "Payload Too Large"},
      {417, "Expectation Failed"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"}};
  for (const auto& [code, reason] : kReasons) {
    if (code == status) return reason;
  }
  return "Unknown";
}

}  // namespace weir_test
