#pragma once

// Test helpers for the HTTP/2 codec: a visitor that records every event, a pair of sessions
// pumped in memory, and a tiny raw frame builder/parser (frame header + payload, HPACK literals)
// for feeding hand-made, possibly hostile, frames to a server session.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "proxy/http/header_map.h"
#include "proxy/http2/session.h"

namespace proxy::http2::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline Headers ToPairs(const http::HeaderMap& map) {
  Headers out;
  map.ForEach([&out](absl::string_view name, absl::string_view value) {
    out.emplace_back(std::string(name), std::string(value));
  });
  return out;
}

inline http::HeaderMap MakeHeaders(const Headers& pairs) {
  http::HeaderMap map;
  for (const auto& [name, value] : pairs) map.Add(name, value);
  return map;
}

// Everything one stream saw.
struct StreamLog {
  std::string method, scheme, authority, path;
  int status = 0;
  std::vector<int> informational;
  Headers headers;
  Headers trailers;
  std::string body;
  bool headers_end_stream = false;
  bool end_stream = false;  // the receiving side ended (headers, data or trailers)
  bool headers_too_large = false;
  bool closed = false;
  bool reset = false;
  ErrorCode reset_code = ErrorCode::kNoError;
  bool reset_remote = false;
  int final_events = 0;  // OnStreamClosed + OnStreamReset: must end at exactly 1
  int writable_events = 0;
};

class RecordingVisitor : public SessionVisitor {
 public:
  // When set, body bytes are consumed (window returned) as soon as they arrive.
  bool auto_consume = true;
  Session* session = nullptr;  // for auto_consume
  // When set, the request headers of this stream make the session SubmitGoAway(kNoError).
  int32_t goaway_on_request = 0;

  void OnRequestHeaders(int32_t id, const RequestHeaders& request, bool end_stream) override {
    if (id == goaway_on_request && session != nullptr) session->SubmitGoAway(ErrorCode::kNoError);
    StreamLog& log = streams[id];
    log.method = std::string(request.method);
    log.scheme = std::string(request.scheme);
    log.authority = std::string(request.authority);
    log.path = std::string(request.path);
    log.headers = ToPairs(*request.headers);
    log.headers_end_stream = end_stream;
    log.end_stream = end_stream;
    order.push_back(id);
  }
  void OnInformationalHeaders(int32_t id, const ResponseHeaders& response) override {
    streams[id].informational.push_back(response.status);
  }
  void OnResponseHeaders(int32_t id, const ResponseHeaders& response, bool end_stream) override {
    StreamLog& log = streams[id];
    log.status = response.status;
    log.headers = ToPairs(*response.headers);
    log.headers_end_stream = end_stream;
    log.end_stream = end_stream;
  }
  void OnHeadersTooLarge(int32_t id) override {
    streams[id].headers_too_large = true;
    order.push_back(id);
  }
  void OnData(int32_t id, absl::string_view data, bool end_stream) override {
    StreamLog& log = streams[id];
    log.body.append(data.data(), data.size());
    if (end_stream) log.end_stream = true;
    received_bytes += data.size();
    if (auto_consume && session != nullptr && !data.empty()) {
      session->ConsumeStreamData(id, data.size());
    }
  }
  void OnTrailers(int32_t id, const http::HeaderMap& trailers) override {
    StreamLog& log = streams[id];
    log.trailers = ToPairs(trailers);
    log.end_stream = true;
  }
  void OnStreamClosed(int32_t id) override {
    StreamLog& log = streams[id];
    log.closed = true;
    ++log.final_events;
  }
  void OnStreamReset(int32_t id, ErrorCode code, bool remote) override {
    StreamLog& log = streams[id];
    log.reset = true;
    log.reset_code = code;
    log.reset_remote = remote;
    ++log.final_events;
  }
  void OnGoAway(int32_t last_stream_id, ErrorCode code) override {
    goaways.emplace_back(last_stream_id, code);
  }
  void OnStreamWritable(int32_t id) override { ++streams[id].writable_events; }
  void OnPingAck(uint64_t opaque) override { ping_acks.push_back(opaque); }

  std::map<int32_t, StreamLog> streams;
  std::vector<int32_t> order;  // streams in the order their heads arrived
  std::vector<std::pair<int32_t, ErrorCode>> goaways;
  std::vector<uint64_t> ping_acks;
  uint64_t received_bytes = 0;
};

// A client and a server session connected in memory.
struct SessionPair {
  explicit SessionPair(const SessionOptions& client_options = SessionOptions(),
                       const SessionOptions& server_options = SessionOptions())
      : client(Role::kClient, client_options, &client_visitor),
        server(Role::kServer, server_options, &server_visitor) {
    client_visitor.session = &client;
    server_visitor.session = &server;
  }

  // Moves bytes both ways until neither side has anything to send. `max_chunk` limits each
  // write (a socket that takes little at a time). Returns the bytes moved.
  uint64_t Pump(size_t max_chunk = SIZE_MAX) {
    uint64_t moved = 0;
    for (int round = 0; round < 100000; ++round) {
      const uint64_t before = moved;
      moved += Move(&client, &server, max_chunk);
      moved += Move(&server, &client, max_chunk);
      if (moved == before) break;
    }
    return moved;
  }

  static uint64_t Move(Session* from, Session* to, size_t max_chunk) {
    absl::string_view out = from->PendingOutput();
    if (out.empty()) return 0;
    if (out.size() > max_chunk) out = out.substr(0, max_chunk);
    // Copy first: `to` may run callbacks that touch `from` (a proxy relaying between them).
    std::string bytes(out);
    from->ConsumeOutput(bytes.size());
    to->Receive(bytes);
    return bytes.size();
  }

  RecordingVisitor client_visitor;
  RecordingVisitor server_visitor;
  Session client;
  Session server;
};

// ---- Raw frames --------------------------------------------------------------------------------

enum FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kPriority = 0x2,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPushPromise = 0x5,
  kPing = 0x6,
  kGoAway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};

enum FrameFlags : uint8_t {
  kEndStream = 0x1,
  kAck = 0x1,
  kEndHeaders = 0x4,
  kPadded = 0x8,
  kPriorityFlag = 0x20,
};

inline void AppendU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

// 9-byte frame header + payload. `length` overrides the length field (for malformed frames).
inline std::string Frame(uint8_t type, uint8_t flags, uint32_t stream_id, absl::string_view payload,
                         int64_t length = -1) {
  const uint32_t len =
      length < 0 ? static_cast<uint32_t>(payload.size()) : static_cast<uint32_t>(length);
  std::string out;
  out.push_back(static_cast<char>(len >> 16));
  out.push_back(static_cast<char>(len >> 8));
  out.push_back(static_cast<char>(len));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  AppendU32(&out, stream_id & 0x7fffffff);
  out.append(payload.data(), payload.size());
  return out;
}

inline std::string SettingsFrame(const std::vector<std::pair<uint16_t, uint32_t>>& entries = {}) {
  std::string payload;
  for (const auto& [id, value] : entries) {
    payload.push_back(static_cast<char>(id >> 8));
    payload.push_back(static_cast<char>(id));
    AppendU32(&payload, value);
  }
  return Frame(kSettings, 0, 0, payload);
}

inline std::string SettingsAck() { return Frame(kSettings, kAck, 0, ""); }

inline std::string PingFrame(uint64_t opaque, bool ack = false) {
  std::string payload;
  AppendU32(&payload, static_cast<uint32_t>(opaque >> 32));
  AppendU32(&payload, static_cast<uint32_t>(opaque));
  return Frame(kPing, ack ? kAck : 0, 0, payload);
}

inline std::string RstStreamFrame(uint32_t stream_id, ErrorCode code) {
  std::string payload;
  AppendU32(&payload, static_cast<uint32_t>(code));
  return Frame(kRstStream, 0, stream_id, payload);
}

inline std::string WindowUpdateFrame(uint32_t stream_id, uint32_t increment) {
  std::string payload;
  AppendU32(&payload, increment);
  return Frame(kWindowUpdate, 0, stream_id, payload);
}

inline std::string PriorityFrame(uint32_t stream_id, uint32_t depends_on) {
  std::string payload;
  AppendU32(&payload, depends_on);
  payload.push_back(static_cast<char>(15));  // weight 16
  return Frame(kPriority, 0, stream_id, payload);
}

// HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` carries the pattern bits.
inline void AppendHpackInt(std::string* out, uint8_t first, int prefix_bits, uint64_t value) {
  const uint64_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out->push_back(static_cast<char>(first | value));
    return;
  }
  out->push_back(static_cast<char>(first | max_prefix));
  value -= max_prefix;
  while (value >= 128) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// "Literal Header Field without Indexing — New Name" (RFC 7541 §6.2.2), no Huffman: the bytes
// go on the wire exactly as given, uppercase included.
inline void AppendLiteral(std::string* block, absl::string_view name, absl::string_view value) {
  block->push_back(0x00);
  AppendHpackInt(block, 0x00, 7, name.size());
  block->append(name.data(), name.size());
  AppendHpackInt(block, 0x00, 7, value.size());
  block->append(value.data(), value.size());
}

inline std::string HeaderBlock(const Headers& headers) {
  std::string block;
  for (const auto& [name, value] : headers) AppendLiteral(&block, name, value);
  return block;
}

inline Headers GetRequest(absl::string_view path = "/") {
  return {{":method", "GET"},
          {":scheme", "http"},
          {":authority", "example.com"},
          {":path", std::string(path)}};
}

inline std::string HeadersFrame(uint32_t stream_id, const Headers& headers, bool end_stream,
                                bool end_headers = true) {
  return Frame(kHeaders, (end_stream ? kEndStream : 0) | (end_headers ? kEndHeaders : 0), stream_id,
               HeaderBlock(headers));
}

inline std::string DataFrame(uint32_t stream_id, absl::string_view data, bool end_stream) {
  return Frame(kData, end_stream ? kEndStream : 0, stream_id, data);
}

// What a real client sends first: the preface and an empty SETTINGS.
inline std::string ClientStart() {
  return absl::StrCat("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", SettingsFrame());
}

struct ParsedFrame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream_id = 0;
  std::string payload;

  uint32_t U32(size_t offset) const {
    const auto* p = reinterpret_cast<const uint8_t*>(payload.data()) + offset;
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  }
  // GOAWAY and RST_STREAM fields.
  uint32_t GoAwayLastStreamId() const { return U32(0) & 0x7fffffff; }
  ErrorCode GoAwayCode() const { return static_cast<ErrorCode>(U32(4)); }
  ErrorCode RstCode() const { return static_cast<ErrorCode>(U32(0)); }
};

// Splits serialized frames (a server's output: no preface).
inline std::vector<ParsedFrame> ParseFrames(absl::string_view bytes) {
  std::vector<ParsedFrame> frames;
  while (bytes.size() >= 9) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t len = (size_t{p[0]} << 16) | (size_t{p[1]} << 8) | p[2];
    if (bytes.size() < 9 + len) break;
    ParsedFrame frame;
    frame.type = p[3];
    frame.flags = p[4];
    frame.stream_id =
        ((uint32_t{p[5]} << 24) | (uint32_t{p[6]} << 16) | (uint32_t{p[7]} << 8) | p[8]) &
        0x7fffffff;
    frame.payload = std::string(bytes.substr(9, len));
    frames.push_back(std::move(frame));
    bytes.remove_prefix(9 + len);
  }
  return frames;
}

// A server session fed raw bytes, with its output collected and parsed.
struct RawServer {
  explicit RawServer(const SessionOptions& options = SessionOptions())
      : session(Role::kServer, options, &visitor) {
    visitor.session = &session;
  }

  ConnectionStatus Feed(absl::string_view bytes, bool drain = true) {
    ConnectionStatus status = session.Receive(bytes);
    if (drain) Drain();
    return status;
  }

  void Drain() {
    absl::string_view out = session.PendingOutput();
    while (!out.empty()) {
      written.append(out.data(), out.size());
      session.ConsumeOutput(out.size());
      out = session.PendingOutput();
    }
  }

  std::vector<ParsedFrame> Frames() const { return ParseFrames(written); }

  const ParsedFrame* LastOfType(uint8_t type) const {
    frames_ = Frames();
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      if (it->type == type) return &*it;
    }
    return nullptr;
  }

  int CountOfType(uint8_t type) const {
    int n = 0;
    for (const ParsedFrame& f : Frames()) n += f.type == type;
    return n;
  }

  RecordingVisitor visitor;
  Session session;
  std::string written;
  mutable std::vector<ParsedFrame> frames_;
};

}  // namespace proxy::http2::testing
