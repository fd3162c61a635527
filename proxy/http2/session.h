#pragma once

// HTTP/2 codec for one connection: a sans-I/O wrapper around one nghttp2_session, in the server
// role (downstream connections) or the client role (upstream connections). Bytes from the socket
// go in through Receive(); frames to write come out of PendingOutput()/ConsumeOutput(); what
// happens on the streams is reported to a SessionVisitor. No sockets, timers or threads: the
// connection layer owns those, as it does around http1::RequestParser.
//
// The contract (proxy/http2/README.md has the long form):
//   - Output: after Receive() and after any Submit*/ResetStream/ConsumeStreamData call, write
//     PendingOutput() to the socket and ConsumeOutput() what was written. Frames are serialized
//     only while less than options.max_output_bytes are unwritten, so a slow socket stops frame
//     production: DATA stays in the per-stream send queues and their producers get paused.
//   - Receiving flow control: body bytes delivered by OnData() keep their flow-control window
//     until the owner calls ConsumeStreamData() for them, i.e. once it has passed them on. A slow
//     reader on the other side of the proxy therefore withholds WINDOW_UPDATE and the peer stops.
//   - Sending flow control: SubmitData() queues body bytes on the stream. Past
//     options.stream_send_buffer_bytes it answers kBufferFull: the owner stops reading that body's
//     source until OnStreamWritable(stream_id).
//   - Stream lifetime: every stream the owner knows (it opened it, or got its request headers or
//     OnHeadersTooLarge) ends with exactly one OnStreamClosed() or OnStreamReset(). When the whole
//     connection ends no per-stream events follow; the owner resets what it still holds.
//   - Errors: a protocol violation or a tripped abuse limit makes Receive() return a status that
//     is not ok. GOAWAY is then queued; the owner writes PendingOutput() best effort (with a
//     short timeout) and closes. WantsClose() also turns true after a clean GOAWAY exchange.
//   - Re-entrancy: visitor callbacks may call Submit*/ResetStream/ConsumeStreamData and
//     PendingOutput() (which then returns what is already serialized), never Receive(), and must
//     not destroy the Session.
// Not thread-safe: one Session lives on one worker thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nghttp2/nghttp2.h"
#include "proxy/http/header_map.h"
#include "proxy/http2/codec_stats.h"
#include "proxy/http2/protocol_constraints.h"
#include "xds/listener_config.h"

namespace proxy::http2 {

enum class Role { kServer, kClient };

// HTTP/2 error codes (RFC 9113 §7) carried by RST_STREAM and GOAWAY. A peer may send values not
// listed here; they pass through unchanged.
enum class ErrorCode : uint32_t {
  kNoError = 0x0,
  kProtocolError = 0x1,
  kInternalError = 0x2,
  kFlowControlError = 0x3,
  kSettingsTimeout = 0x4,
  kStreamClosed = 0x5,
  kFrameSizeError = 0x6,
  kRefusedStream = 0x7,
  kCancel = 0x8,
  kCompressionError = 0x9,
  kConnectError = 0xa,
  kEnhanceYourCalm = 0xb,
  kInadequateSecurity = 0xc,
  kHttp11Required = 0xd,
};

// Envoy's headers_with_underscores_action (server role only).
enum class UnderscoreHeaderAction { kAllow, kRejectRequest, kDropHeader };

struct SessionOptions {
  // SETTINGS we send. Defaults are the edge values of xds::Http2ServerConfig.
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_stream_window_size = 64 * 1024;
  uint32_t initial_connection_window_size = 1024 * 1024;
  uint32_t hpack_table_size = 4096;
  // Limits on each received header block (Envoy's max_request_headers_kb and max_headers_count).
  // Every decoded field counts, pseudo-headers and each cookie crumb included; bytes are name +
  // value. Also advertised as SETTINGS_MAX_HEADER_LIST_SIZE. Over the limit: OnHeadersTooLarge.
  // A compressed block over 2 * max_header_list_bytes + 16 KiB closes the connection.
  uint32_t max_header_list_bytes = 60 * 1024;
  uint32_t max_headers_count = 100;
  UnderscoreHeaderAction headers_with_underscores = UnderscoreHeaderAction::kAllow;
  // Envoy's override_stream_error_on_invalid_http_message: false (Envoy's default) closes the
  // connection on a malformed request/response; true only resets the stream.
  bool stream_error_on_invalid_http_messaging = false;

  // Memory bounds: serialized frames not yet written, and body bytes queued per stream before
  // SubmitData() asks the producer to pause.
  size_t max_output_bytes = 1024 * 1024;
  size_t stream_send_buffer_bytes = 64 * 1024;

  // Abuse limits (Envoy's names and defaults; see protocol_constraints.h).
  ProtocolLimits limits;
  // CONTINUATION frames allowed after one HEADERS frame (nghttp2's limit; Envoy sets 512).
  uint32_t max_continuations = 512;
  // A reset counts as premature when the stream lived at most this long and had no response
  // (Envoy's overload.premature_reset_min_stream_lifetime_seconds).
  absl::Duration premature_reset_min_stream_lifetime = absl::Seconds(1);

  // The current time, for stream lifetimes. Empty: absl::Now. Tests inject a fake clock.
  std::function<absl::Time()> clock;
};

// Options for a downstream (server role) session from the listener's connection manager config.
SessionOptions ServerSessionOptions(const xds::HttpConnectionManagerConfig& config);

// A request head. Received: views valid during the callback only. Submitted: copied by the call.
struct RequestHeaders {
  absl::string_view method;
  absl::string_view scheme;     // empty for CONNECT
  absl::string_view authority;  // empty when absent
  absl::string_view path;       // empty for CONNECT
  // Regular headers, lower-case names; received cookie crumbs are separate entries.
  const http::HeaderMap* headers = nullptr;
};

struct ResponseHeaders {
  int status = 0;
  const http::HeaderMap* headers = nullptr;
};

// How the connection stands. Not ok: GOAWAY(goaway_code) is queued and the connection must close.
struct ConnectionStatus {
  bool ok = true;
  ErrorCode goaway_code = ErrorCode::kNoError;
  absl::string_view reason;  // static text for logs; empty when ok
};

// Events of one Session. All default to doing nothing.
class SessionVisitor {
 public:
  virtual ~SessionVisitor() = default;

  // Server: a new request; `end_stream` means it has no body.
  virtual void OnRequestHeaders(int32_t /*stream_id*/, const RequestHeaders& /*request*/,
                                bool /*end_stream*/) {}
  // Client: a 1xx response head (100 Continue, 103 Early Hints...); the final one follows.
  virtual void OnInformationalHeaders(int32_t /*stream_id*/, const ResponseHeaders& /*response*/) {}
  // Client: the final response head. A gRPC trailers-only response arrives here with
  // `end_stream` set and grpc-status among the headers.
  virtual void OnResponseHeaders(int32_t /*stream_id*/, const ResponseHeaders& /*response*/,
                                 bool /*end_stream*/) {}
  // A header block of `stream_id` (head or trailers) exceeded max_header_list_bytes or
  // max_headers_count (stats().header_overflow moved). Nothing of it is delivered and the rest of
  // the stream's body is dropped (its window returned). The owner answers 431 (server, head) or
  // resets the stream.
  virtual void OnHeadersTooLarge(int32_t /*stream_id*/) {}
  // Body bytes, valid during the call. `end_stream` arrives with the last piece or alone with
  // empty `data`. Call ConsumeStreamData() once the bytes are passed on.
  virtual void OnData(int32_t /*stream_id*/, absl::string_view /*data*/, bool /*end_stream*/) {}
  // Trailers; the stream's receiving side ends with them.
  virtual void OnTrailers(int32_t /*stream_id*/, const http::HeaderMap& /*trailers*/) {}
  // The stream completed in both directions.
  virtual void OnStreamClosed(int32_t /*stream_id*/) {}
  // The stream was reset: `remote` when the peer sent RST_STREAM (or refused it with GOAWAY),
  // otherwise by this side (ResetStream(), or nghttp2 on a stream-level protocol error).
  virtual void OnStreamReset(int32_t /*stream_id*/, ErrorCode /*error_code*/, bool /*remote*/) {}
  // The peer sent GOAWAY: no new streams on this connection. Client: streams above
  // `last_stream_id` are reset with kRefusedStream (remote) right after, and are safe to retry.
  virtual void OnGoAway(int32_t /*last_stream_id*/, ErrorCode /*error_code*/) {}
  // A stream whose SubmitData() returned kBufferFull drained below half its limit.
  virtual void OnStreamWritable(int32_t /*stream_id*/) {}
  // The peer acknowledged SubmitPing(opaque).
  virtual void OnPingAck(uint64_t /*opaque*/) {}
  // A SETTINGS frame from the peer was applied (its first one: PeerSettingsReceived()).
  virtual void OnPeerSettings() {}
};

enum class OpenError {
  kNone,
  kTooManyStreams,      // at the peer's SETTINGS_MAX_CONCURRENT_STREAMS: use another connection
  kGoingAway,           // GOAWAY sent or received
  kClosed,              // connection error
  kStreamIdsExhausted,  // 2^31 stream ids used: use another connection
  kRejected,            // nghttp2 refused the headers (invalid arguments)
};

struct OpenResult {
  int32_t stream_id = 0;
  OpenError error = OpenError::kNone;
  bool ok() const { return error == OpenError::kNone; }
};

enum class SendResult {
  kOk,
  kBufferFull,  // queued, but pause the producer until OnStreamWritable()
  kClosed,      // not queued: the stream is gone or its sending side already ended
};

class Session {
 public:
  Session(Role role, const SessionOptions& options, SessionVisitor* visitor);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Role role() const { return role_; }

  // Feeds bytes read from the socket (any split) and serializes the resulting frames.
  ConnectionStatus Receive(absl::string_view data);
  const ConnectionStatus& status() const { return status_; }

  // Serializes queued frames (while under max_output_bytes) and returns every byte not yet
  // consumed. The view is valid until the next call on the session.
  absl::string_view PendingOutput();
  // `n` bytes of PendingOutput() were written to the socket.
  void ConsumeOutput(size_t n);
  // Whether PendingOutput() would return anything: bytes serialized and not consumed, or frames
  // queued in nghttp2. Cheap (no serialization).
  bool HasOutput() const;

  // Client: opens a stream. Fails without side effects when CanOpenStream() is false.
  OpenResult SubmitRequest(const RequestHeaders& request, bool end_stream);
  // Client: whether SubmitRequest() can open one more stream now (peer's limit, GOAWAY, ids).
  bool CanOpenStream() const;
  // The peer's SETTINGS_MAX_CONCURRENT_STREAMS (nghttp2 assumes 100 until SETTINGS arrive).
  uint32_t PeerMaxConcurrentStreams() const;
  // Whether the peer's first SETTINGS frame arrived (so its limits are known).
  bool PeerSettingsReceived() const { return peer_settings_received_; }
  size_t ActiveStreams() const { return streams_.size(); }

  // Server: the response head. A 1xx status sends an informational head (end_stream must be
  // false). Trailers-only (gRPC): the headers with end_stream. False if the stream is gone.
  bool SubmitResponse(int32_t stream_id, const ResponseHeaders& response, bool end_stream);
  // Body bytes after the head (request or response). Copied into the stream's send queue.
  SendResult SubmitData(int32_t stream_id, absl::string_view data, bool end_stream);
  // Trailers after the body; ends the stream. False if the stream is gone or already ended.
  bool SubmitTrailers(int32_t stream_id, const http::HeaderMap& trailers);
  // RST_STREAM; the stream's OnStreamReset(remote = false) follows when the frame goes out.
  void ResetStream(int32_t stream_id, ErrorCode error_code);
  // Body bytes queued on the stream and not yet serialized.
  size_t StreamSendBuffered(int32_t stream_id) const;
  // Whether SubmitData of `n` more bytes would be taken without kBufferFull.
  bool StreamSendHasRoom(int32_t stream_id, size_t n) const {
    return StreamSendBuffered(stream_id) + n <= options_.stream_send_buffer_bytes;
  }

  // The owner passed on `n` bytes of the stream's received body: lets WINDOW_UPDATE go out for
  // the stream and the connection. Ignored for streams already closed (their window came back
  // when they closed).
  void ConsumeStreamData(int32_t stream_id, size_t n);

  // Server, graceful drain step 1: GOAWAY with the last stream id 2^31-1 (nghttp2's shutdown
  // notice); clients stop opening streams. Then, after about one RTT, SubmitGoAway().
  void SubmitShutdownNotice();
  // GOAWAY with the last processed stream id. kNoError: open streams finish, then WantsClose();
  // requests on higher stream ids that were already on their way are refused (kRefusedStream,
  // never delivered), as the GOAWAY told the client they were not processed. Any other code ends
  // the connection (status() turns not ok).
  void SubmitGoAway(ErrorCode error_code);
  // A GOAWAY (not just the shutdown notice) went to nghttp2.
  bool goaway_submitted() const { return goaway_submitted_; }
  void SubmitPing(uint64_t opaque);
  // The owner's keepalive PING went unanswered: counts keepalive_timeout and ends the connection.
  void OnKeepaliveTimeout();

  // True when the connection should close once PendingOutput() is written (or its write times
  // out): after an error, or when both sides are done after GOAWAY.
  bool WantsClose() const;
  const CodecStats& stats() const { return stats_; }

 private:
  struct Stream;
  struct FrameMark {
    uint64_t end;  // output offset just past the frame
    bool control;  // counted by max_outbound_control_frames
  };

  // nghttp2 callbacks (static trampolines in session.cc call these).
  friend struct Callbacks;
  ssize_t OnSend(const uint8_t* data, size_t length);
  int OnSendData(nghttp2_frame* frame, const uint8_t* framehd, size_t length, Stream* stream);
  ssize_t OnReadData(int32_t stream_id, size_t length, uint32_t* data_flags, Stream* stream);
  int OnBeginFrame(const nghttp2_frame_hd* hd);
  int OnBeginHeaders(const nghttp2_frame* frame);
  int OnHeader(const nghttp2_frame* frame, absl::string_view name, absl::string_view value);
  int OnFrameRecv(const nghttp2_frame* frame);
  int OnDataChunk(int32_t stream_id, absl::string_view data);
  int OnStreamClose(int32_t stream_id, uint32_t error_code);
  int OnFrameSend(const nghttp2_frame* frame);
  int OnInvalidFrame(int lib_error_code);

  Stream* Find(int32_t stream_id) const;
  // A fresh or recycled stream, registered under `stream_id`.
  Stream* AddStream(int32_t stream_id, std::unique_ptr<Stream> stream);
  std::unique_ptr<Stream> AcquireStream();
  void ReleaseStream(std::unique_ptr<Stream> stream);
  void DeliverHeaders(Stream* stream, int category, bool end_stream);
  // Records the first connection error; the GOAWAY is queued once outside nghttp2 callbacks.
  void Fail(ErrorCode code, absl::string_view reason);
  void FailFromLibrary(int lib_error_code);
  void Produce();
  // Whether Produce() has anything to do: frames queued in nghttp2, a GOAWAY to queue, or
  // writable streams to notify. Calling nghttp2_session_send with nothing queued still walks
  // the session's queues (cold cache lines on every request).
  bool ProduceHasWork() const {
    return !status_.ok || !writable_.empty() || nghttp2_session_want_write(session_) != 0;
  }
  // False (and the connection failed) when too many frames wait to be written.
  bool CheckOutbound();
  bool OutputFull() const { return out_.size() - out_head_ >= options_.max_output_bytes; }
  // Fills nva_ from the head; returns the number of entries.
  size_t BuildRequestNva(const RequestHeaders& request);
  size_t BuildResponseNva(const ResponseHeaders& response);
  void AppendNva(const http::HeaderMap* headers);
  absl::Time Now() const { return options_.clock ? options_.clock() : absl::Now(); }

  const Role role_;
  const SessionOptions options_;
  SessionVisitor* const visitor_;
  nghttp2_session* session_ = nullptr;
  CodecStats stats_;
  ProtocolConstraints constraints_;
  ConnectionStatus status_;
  bool goaway_queued_ = false;  // our error GOAWAY went to nghttp2
  bool send_failed_ = false;    // nghttp2_session_send failed: no more output
  bool goaway_received_ = false;
  bool peer_settings_received_ = false;
  bool goaway_submitted_ = false;
  int32_t goaway_last_stream_id_ = 0;       // of the peer's GOAWAY
  int32_t sent_goaway_last_stream_id_ = 0;  // of ours (SubmitGoAway, kNoError)
  int in_library_ = 0;        // > 0 while inside nghttp2 (callbacks may run)
  std::string error_detail_;  // backs status_.reason when it comes from nghttp2's GOAWAY

  absl::flat_hash_map<int32_t, std::unique_ptr<Stream>> streams_;
  std::vector<std::unique_ptr<Stream>> free_streams_;  // recycled, buffers kept

  // The header block being decoded. Blocks never interleave, so one set serves all streams.
  http::HeaderMap rx_headers_;
  std::string rx_method_, rx_scheme_, rx_authority_, rx_path_, rx_status_;
  uint32_t rx_count_ = 0;
  uint64_t rx_bytes_ = 0;
  uint64_t rx_block_bytes_ = 0;
  bool rx_overflow_ = false;
  bool rx_rejected_ = false;

  // Serialized frames: out_[out_head_, size) is unwritten. Offsets in marks_ are absolute
  // (out_base_ + index into out_), so compaction does not touch them.
  std::string out_;
  size_t out_head_ = 0;
  uint64_t out_base_ = 0;
  std::vector<FrameMark> marks_;
  size_t marks_head_ = 0;
  uint64_t buffered_frames_ = 0;
  uint64_t buffered_control_frames_ = 0;

  std::vector<int32_t> writable_;  // streams to notify once serializing is done
  std::vector<nghttp2_nv> nva_;    // scratch for submitting headers (nghttp2 copies them)
  char status_text_[3] = {0, 0, 0};
};

// Envoy-style names for logs ("PROTOCOL_ERROR", ...).
absl::string_view ErrorCodeName(ErrorCode code);

}  // namespace proxy::http2
