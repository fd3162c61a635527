#include "proxy/http2/session.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace proxy::http2 {
namespace {

constexpr uint8_t kHeadersFrame = NGHTTP2_HEADERS;
constexpr uint8_t kDataFrame = NGHTTP2_DATA;
constexpr size_t kFrameHeaderBytes = 9;
// Recycled stream objects kept per session, and the largest send buffer worth keeping with one.
constexpr size_t kMaxFreeStreams = 32;
constexpr size_t kMaxRecycledBufferBytes = 64 * 1024;

nghttp2_nv MakeNv(absl::string_view name, absl::string_view value) {
  // nghttp2 copies names and values when the frame is submitted (no NO_COPY flags).
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

// The GOAWAY code for an nghttp2 library error that ends the connection.
ErrorCode CodeForLibraryError(int lib_error_code) {
  switch (lib_error_code) {
    case NGHTTP2_ERR_FLOW_CONTROL:
      return ErrorCode::kFlowControlError;
    case NGHTTP2_ERR_STREAM_CLOSED:
      return ErrorCode::kStreamClosed;
    case NGHTTP2_ERR_FRAME_SIZE_ERROR:
      return ErrorCode::kFrameSizeError;
    case NGHTTP2_ERR_HEADER_COMP:
      return ErrorCode::kCompressionError;
    case NGHTTP2_ERR_FLOODED:
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
      return ErrorCode::kEnhanceYourCalm;
    case NGHTTP2_ERR_NOMEM:
    case NGHTTP2_ERR_CALLBACK_FAILURE:
      return ErrorCode::kInternalError;
    default:
      return ErrorCode::kProtocolError;
  }
}

bool HasUnderscore(absl::string_view name) { return name.find('_') != absl::string_view::npos; }

}  // namespace

// Per-stream state. Recycled through Session::free_streams_, so its buffers are reused.
struct Session::Stream {
  int32_t id = 0;
  absl::Time opened_at;
  // Receiving.
  size_t unconsumed = 0;   // delivered body bytes the owner has not consumed yet
  bool announced = false;  // the owner knows this stream: it gets a final event
  bool discard_body = false;
  bool remote_end = false;
  bool rst_received = false;
  // Sending.
  std::string send_buffer;
  size_t send_offset = 0;
  http::HeaderMap trailers;
  bool has_provider = false;  // headers went out without END_STREAM: DATA may follow
  bool deferred = false;      // the data provider returned NGHTTP2_ERR_DEFERRED
  bool end_queued = false;    // SubmitData(end_stream) or SubmitTrailers() happened
  bool has_trailers = false;
  bool producer_paused = false;   // SubmitData() said kBufferFull
  bool local_end = false;         // END_STREAM went out
  bool response_started = false;  // server: response head submitted
  bool local_reset = false;       // ResetStream() by the owner

  size_t Buffered() const { return send_buffer.size() - send_offset; }

  void Recycle() {
    id = 0;
    unconsumed = 0;
    announced = discard_body = remote_end = rst_received = false;
    if (send_buffer.capacity() > kMaxRecycledBufferBytes) {
      std::string().swap(send_buffer);
    } else {
      send_buffer.clear();
    }
    send_offset = 0;
    trailers.Clear();
    has_provider = deferred = end_queued = has_trailers = producer_paused = false;
    local_end = response_started = local_reset = false;
  }
};

// Static trampolines from nghttp2's C callbacks to the Session.
struct Callbacks {
  static Session* Self(void* user_data) { return static_cast<Session*>(user_data); }

  static ssize_t Send(nghttp2_session*, const uint8_t* data, size_t length, int, void* user_data) {
    return Self(user_data)->OnSend(data, length);
  }
  static int SendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd, size_t length,
                      nghttp2_data_source* source, void* user_data) {
    return Self(user_data)->OnSendData(frame, framehd, length,
                                       static_cast<Session::Stream*>(source->ptr));
  }
  static ssize_t ReadData(nghttp2_session*, int32_t stream_id, uint8_t*, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user_data) {
    return Self(user_data)->OnReadData(stream_id, length, data_flags,
                                       static_cast<Session::Stream*>(source->ptr));
  }
  static int BeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user_data) {
    return Self(user_data)->OnBeginFrame(hd);
  }
  static int BeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    return Self(user_data)->OnBeginHeaders(frame);
  }
  static int Header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                    void* user_data) {
    return Self(user_data)->OnHeader(
        frame, absl::string_view(reinterpret_cast<const char*>(name), namelen),
        absl::string_view(reinterpret_cast<const char*>(value), valuelen));
  }
  static int FrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    return Self(user_data)->OnFrameRecv(frame);
  }
  static int DataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                       size_t len, void* user_data) {
    return Self(user_data)->OnDataChunk(
        stream_id, absl::string_view(reinterpret_cast<const char*>(data), len));
  }
  static int StreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                         void* user_data) {
    return Self(user_data)->OnStreamClose(stream_id, error_code);
  }
  static int FrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    return Self(user_data)->OnFrameSend(frame);
  }
  static int InvalidFrame(nghttp2_session*, const nghttp2_frame*, int lib_error_code,
                          void* user_data) {
    return Self(user_data)->OnInvalidFrame(lib_error_code);
  }
};

SessionOptions ServerSessionOptions(const xds::HttpConnectionManagerConfig& config) {
  SessionOptions options;
  options.max_concurrent_streams = config.http2.max_concurrent_streams;
  options.initial_stream_window_size = config.http2.initial_stream_window_size;
  options.initial_connection_window_size = config.http2.initial_connection_window_size;
  options.hpack_table_size = config.http2.hpack_table_size;
  options.max_header_list_bytes = config.max_request_headers_kb * 1024;
  options.max_headers_count = config.max_headers_count;
  options.limits.max_outbound_frames = config.http2.max_outbound_frames;
  options.limits.max_outbound_control_frames = config.http2.max_outbound_control_frames;
  options.limits.max_consecutive_inbound_frames_with_empty_payload =
      config.http2.max_consecutive_inbound_frames_with_empty_payload;
  options.limits.max_inbound_priority_frames_per_stream =
      config.http2.max_inbound_priority_frames_per_stream;
  options.limits.max_inbound_window_update_frames_per_data_frame_sent =
      config.http2.max_inbound_window_update_frames_per_data_frame_sent;
  options.stream_error_on_invalid_http_messaging =
      config.http2.stream_error_on_invalid_http_messaging;
  return options;
}

absl::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNoError:
      return "NO_ERROR";
    case ErrorCode::kProtocolError:
      return "PROTOCOL_ERROR";
    case ErrorCode::kInternalError:
      return "INTERNAL_ERROR";
    case ErrorCode::kFlowControlError:
      return "FLOW_CONTROL_ERROR";
    case ErrorCode::kSettingsTimeout:
      return "SETTINGS_TIMEOUT";
    case ErrorCode::kStreamClosed:
      return "STREAM_CLOSED";
    case ErrorCode::kFrameSizeError:
      return "FRAME_SIZE_ERROR";
    case ErrorCode::kRefusedStream:
      return "REFUSED_STREAM";
    case ErrorCode::kCancel:
      return "CANCEL";
    case ErrorCode::kCompressionError:
      return "COMPRESSION_ERROR";
    case ErrorCode::kConnectError:
      return "CONNECT_ERROR";
    case ErrorCode::kEnhanceYourCalm:
      return "ENHANCE_YOUR_CALM";
    case ErrorCode::kInadequateSecurity:
      return "INADEQUATE_SECURITY";
    case ErrorCode::kHttp11Required:
      return "HTTP_1_1_REQUIRED";
  }
  return "UNKNOWN";
}

Session::Session(Role role, const SessionOptions& options, SessionVisitor* visitor)
    : role_(role), options_(options), visitor_(visitor), constraints_(options.limits, &stats_) {
  nghttp2_session_callbacks* callbacks;
  nghttp2_option* option;
  // Allocation failures here leave nothing sensible to do (Envoy's "should never happen").
  if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&option) != 0) {
    std::abort();
  }
  nghttp2_session_callbacks_set_send_callback(callbacks, &Callbacks::Send);
  nghttp2_session_callbacks_set_send_data_callback(callbacks, &Callbacks::SendData);
  nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, &Callbacks::BeginFrame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::BeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::Header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::FrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::DataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::StreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Callbacks::FrameSend);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, &Callbacks::InvalidFrame);

  // Flow control follows the owner's progress (ConsumeStreamData), not nghttp2's reading.
  nghttp2_option_set_no_auto_window_update(option, 1);
  // Streams are forgotten at close; we send SETTINGS_NO_RFC7540_PRIORITIES too, so there is no
  // priority tree to keep.
  nghttp2_option_set_no_closed_streams(option, 1);
  // PING/SETTINGS ACKs nghttp2 holds because our output is full count as control frames.
  nghttp2_option_set_max_outbound_ack(option, options_.limits.max_outbound_control_frames);
  nghttp2_option_set_max_continuations(option, options_.max_continuations);
  // Our own request heads may carry up to the header limit plus what the proxy adds.
  nghttp2_option_set_max_send_header_block_length(
      option, std::max<size_t>(64 * 1024, 2 * size_t{options_.max_header_list_bytes} + 16384));
  // nghttp2_option_set_stream_reset_rate_limit keeps its defaults (burst 1000, 33/s): a backstop
  // behind our premature-reset check, which trips first on the Rapid Reset pattern.

  int rv = role_ == Role::kServer ? nghttp2_session_server_new2(&session_, callbacks, this, option)
                                  : nghttp2_session_client_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) std::abort();

  const uint32_t kMaxWindow = std::numeric_limits<int32_t>::max();
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
       std::min(options_.initial_stream_window_size, kMaxWindow)},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, options_.hpack_table_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_list_bytes},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},  // only valid from a client; skipped for servers
  };
  const size_t count = role_ == Role::kClient ? 6 : 5;
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, count) != 0) std::abort();
  // The connection window starts at 65535 (RFC 9113 §6.9.2); raise it with a WINDOW_UPDATE.
  nghttp2_session_set_local_window_size(
      session_, NGHTTP2_FLAG_NONE, 0,
      static_cast<int32_t>(std::min(options_.initial_connection_window_size, kMaxWindow)));
}

Session::~Session() { nghttp2_session_del(session_); }

Session::Stream* Session::Find(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Session::Stream> Session::AcquireStream() {
  if (free_streams_.empty()) return std::make_unique<Stream>();
  std::unique_ptr<Stream> stream = std::move(free_streams_.back());
  free_streams_.pop_back();
  return stream;
}

void Session::ReleaseStream(std::unique_ptr<Stream> stream) {
  if (free_streams_.size() >= kMaxFreeStreams) return;
  stream->Recycle();
  free_streams_.push_back(std::move(stream));
}

Session::Stream* Session::AddStream(int32_t stream_id, std::unique_ptr<Stream> stream) {
  stream->id = stream_id;
  stream->opened_at = Now();
  Stream* raw = stream.get();
  streams_[stream_id] = std::move(stream);
  return raw;
}

// ---- Input -------------------------------------------------------------------------------------

ConnectionStatus Session::Receive(absl::string_view data) {
  if (!status_.ok) return status_;
  ++in_library_;
  const ssize_t rv = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  --in_library_;
  if (rv < 0 && status_.ok) {
    if (rv == NGHTTP2_ERR_FLOODED) {
      // nghttp2 holds max_outbound_control_frames PING/SETTINGS ACKs it could not serialize.
      ++stats_.outbound_control_flood;
      Fail(ErrorCode::kEnhanceYourCalm, ViolationReason(Violation::kOutboundControlFrames));
    } else if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
      if (!rx_overflow_) ++stats_.header_overflow;  // once per header block
      Fail(ErrorCode::kEnhanceYourCalm, "too many CONTINUATION frames");
    } else if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
      Fail(ErrorCode::kProtocolError, "invalid HTTP/2 connection preface");
    } else {
      FailFromLibrary(static_cast<int>(rv));
    }
  }
  if (status_.ok) CheckOutbound();
  if (ProduceHasWork()) Produce();
  return status_;
}

int Session::OnBeginFrame(const nghttp2_frame_hd* hd) {
  // After a verdict, stop processing the rest of the input.
  if (!status_.ok) return NGHTTP2_ERR_CALLBACK_FAILURE;
  // HEADERS are tracked in OnBeginHeaders and DATA in OnFrameRecv, where padding is known; this
  // is the only callback for CONTINUATION and for frames nghttp2 ignores.
  if (hd->type != kHeadersFrame && hd->type != kDataFrame) {
    const Violation violation = constraints_.TrackInboundFrame(hd->type, false, hd->length == 0);
    if (violation != Violation::kNone) {
      Fail(ErrorCode::kEnhanceYourCalm, ViolationReason(violation));
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  }
  if (hd->type == kHeadersFrame) {
    rx_block_bytes_ = hd->length;  // also for blocks nghttp2 decodes but ignores
  } else if (hd->type == NGHTTP2_CONTINUATION) {
    rx_block_bytes_ += hd->length;
    // A compliant encoder never needs more than the list it encodes, which our
    // SETTINGS_MAX_HEADER_LIST_SIZE bounds; twice that plus a frame is abuse (CONTINUATION
    // flood) and would cost HPACK decoding for nothing.
    if (rx_block_bytes_ > 2 * uint64_t{options_.max_header_list_bytes} + 16384) {
      if (!rx_overflow_) ++stats_.header_overflow;  // once per header block
      Fail(ErrorCode::kEnhanceYourCalm, "header block too large");
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  }
  return 0;
}

int Session::OnBeginHeaders(const nghttp2_frame* frame) {
  // Server push is off (SETTINGS_ENABLE_PUSH 0), but a PUSH_PROMISE can arrive before the peer
  // has acknowledged that: refuse the promised stream (nghttp2 resets it). After the ACK nghttp2
  // treats a PUSH_PROMISE as a connection error itself.
  if (frame->hd.type == NGHTTP2_PUSH_PROMISE) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  // padlen counts the Pad Length byte too; a PRIORITY flag adds 5 bytes of priority fields.
  const size_t overhead =
      frame->headers.padlen + ((frame->hd.flags & NGHTTP2_FLAG_PRIORITY) ? 5 : 0);
  const Violation violation =
      constraints_.TrackInboundFrame(kHeadersFrame, end_stream, frame->hd.length <= overhead);
  if (violation != Violation::kNone) {
    Fail(ErrorCode::kEnhanceYourCalm, ViolationReason(violation));
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  if (role_ == Role::kServer && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    AddStream(frame->hd.stream_id, AcquireStream());
    constraints_.OnStreamOpened();
  }
  rx_headers_.Clear();
  rx_method_.clear();
  rx_scheme_.clear();
  rx_authority_.clear();
  rx_path_.clear();
  rx_status_.clear();
  rx_count_ = 0;
  rx_bytes_ = 0;
  rx_overflow_ = false;
  rx_rejected_ = false;
  return 0;
}

int Session::OnHeader(const nghttp2_frame* frame, absl::string_view name, absl::string_view value) {
  if (Find(frame->hd.stream_id) == nullptr) {
    ++stats_.headers_cb_no_stream;
    return 0;
  }
  if (rx_overflow_ || rx_rejected_) return 0;
  ++rx_count_;
  rx_bytes_ += name.size() + value.size();
  if (rx_count_ > options_.max_headers_count || rx_bytes_ > options_.max_header_list_bytes) {
    // Keep decoding (the HPACK state must stay in sync) but keep nothing.
    ++stats_.header_overflow;
    rx_overflow_ = true;
    return 0;
  }
  if (!name.empty() && name[0] == ':') {
    // nghttp2 has checked the pseudo-headers: known names, once each, before regular fields.
    if (name == ":method") {
      rx_method_.assign(value.data(), value.size());
    } else if (name == ":scheme") {
      rx_scheme_.assign(value.data(), value.size());
    } else if (name == ":authority") {
      rx_authority_.assign(value.data(), value.size());
    } else if (name == ":path") {
      rx_path_.assign(value.data(), value.size());
    } else if (name == ":status") {
      rx_status_.assign(value.data(), value.size());
    }
    return 0;
  }
  if (role_ == Role::kServer &&
      options_.headers_with_underscores != UnderscoreHeaderAction::kAllow && HasUnderscore(name)) {
    if (options_.headers_with_underscores == UnderscoreHeaderAction::kDropHeader) {
      ++stats_.dropped_headers_with_underscores;
      return 0;
    }
    // nghttp2 resets the stream (RST_STREAM INTERNAL_ERROR) and skips the rest of the block.
    ++stats_.requests_rejected_with_underscores_in_headers;
    rx_rejected_ = true;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  rx_headers_.Add(name, value);
  return 0;
}

int Session::OnFrameRecv(const nghttp2_frame* frame) {
  const int32_t id = frame->hd.stream_id;
  switch (frame->hd.type) {
    case NGHTTP2_DATA: {
      const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      const Violation violation = constraints_.TrackInboundFrame(
          kDataFrame, end_stream, frame->hd.length <= frame->data.padlen);
      if (violation != Violation::kNone) {
        Fail(ErrorCode::kEnhanceYourCalm, ViolationReason(violation));
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      Stream* stream = Find(id);
      if (stream != nullptr && end_stream) {
        stream->remote_end = true;
        if (!stream->discard_body) visitor_->OnData(id, absl::string_view(), true);
      }
      break;
    }
    case NGHTTP2_HEADERS: {
      Stream* stream = Find(id);
      if (stream == nullptr) break;
      const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      if (end_stream) stream->remote_end = true;
      DeliverHeaders(stream, frame->headers.cat, end_stream);
      break;
    }
    case NGHTTP2_RST_STREAM: {
      ++stats_.rx_reset;
      if (Stream* stream = Find(id); stream != nullptr) stream->rst_received = true;
      break;
    }
    case NGHTTP2_GOAWAY:
      goaway_received_ = true;
      goaway_last_stream_id_ = frame->goaway.last_stream_id;
      visitor_->OnGoAway(frame->goaway.last_stream_id,
                         static_cast<ErrorCode>(frame->goaway.error_code));
      break;
    case NGHTTP2_SETTINGS:
      if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        peer_settings_received_ = true;
        visitor_->OnPeerSettings();
      }
      break;
    case NGHTTP2_PING:
      if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
        uint64_t opaque = 0;
        for (uint8_t byte : frame->ping.opaque_data) opaque = (opaque << 8) | byte;
        visitor_->OnPingAck(opaque);
      }
      break;
    default:
      break;
  }
  return 0;
}

void Session::DeliverHeaders(Stream* stream, int category, bool end_stream) {
  const int32_t id = stream->id;
  if (rx_rejected_) return;  // nghttp2 is resetting the stream
  // Reset by the owner, or its head was too large: nothing more is delivered.
  if (stream->discard_body) return;
  if (rx_overflow_) {
    stream->announced = true;
    stream->discard_body = true;
    // Body bytes already delivered are the owner's to consume; from now on they are dropped here.
    visitor_->OnHeadersTooLarge(id);
    return;
  }
  if (role_ == Role::kServer) {
    if (category == NGHTTP2_HCAT_REQUEST) {
      if (goaway_submitted_ && id > sent_goaway_last_stream_id_) {
        // Read in the same batch as the request that made us send GOAWAY, but after it: the
        // client may retry it elsewhere, so it must not be served here too (RFC 9113 §6.8).
        ResetStream(id, ErrorCode::kRefusedStream);
        return;
      }
      stream->announced = true;
      const RequestHeaders request{rx_method_, rx_scheme_, rx_authority_, rx_path_, &rx_headers_};
      visitor_->OnRequestHeaders(id, request, end_stream);
    } else {
      ++stats_.trailers;
      visitor_->OnTrailers(id, rx_headers_);
    }
    return;
  }
  // Client: a block with :status is a response head (nghttp2 rejects it in trailers).
  if (rx_status_.empty()) {
    ++stats_.trailers;
    visitor_->OnTrailers(id, rx_headers_);
    return;
  }
  int status = 0;
  for (char c : rx_status_) status = status * 10 + (c - '0');  // nghttp2 checked: 3 digits
  const ResponseHeaders response{status, &rx_headers_};
  if (status >= 100 && status < 200) {
    visitor_->OnInformationalHeaders(id, response);
  } else {
    visitor_->OnResponseHeaders(id, response, end_stream);
  }
}

int Session::OnDataChunk(int32_t stream_id, absl::string_view data) {
  Stream* stream = Find(stream_id);
  if (stream == nullptr || stream->discard_body) {
    // Nobody will consume these bytes: return their window now.
    nghttp2_session_consume(session_, stream_id, data.size());
    return 0;
  }
  stream->unconsumed += data.size();
  visitor_->OnData(stream_id, data, false);
  return 0;
}

int Session::OnStreamClose(int32_t stream_id, uint32_t error_code) {
  // Never fail here: a fatal return from on_stream_close leaks in nghttp2 < 1.55.1
  // (CVE-2023-35945, not patched in Debian's 1.52).
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  std::unique_ptr<Stream> stream = std::move(it->second);
  streams_.erase(it);

  // Bytes delivered but never consumed still hold connection window.
  if (stream->unconsumed > 0) nghttp2_session_consume_connection(session_, stream->unconsumed);
  if (error_code == NGHTTP2_REFUSED_STREAM) ++stats_.stream_refused_errors;

  const bool completed = error_code == NGHTTP2_NO_ERROR && stream->remote_end && stream->local_end;
  if (role_ == Role::kServer && status_.ok) {
    // Rapid Reset: a request reset by (or because of) the client before any response, soon
    // after it opened. Resets the proxy asked for do not count.
    const bool premature =
        !completed && !stream->local_reset && !stream->response_started &&
        Now() - stream->opened_at <= options_.premature_reset_min_stream_lifetime;
    const Violation violation = constraints_.OnRequestClosed(premature);
    if (violation != Violation::kNone) {
      Fail(ErrorCode::kEnhanceYourCalm, ViolationReason(violation));
    }
  }
  if (stream->announced) {
    if (completed) {
      visitor_->OnStreamClosed(stream_id);
    } else {
      // Remote: the peer sent RST_STREAM, or its GOAWAY left this (client) stream unprocessed.
      const bool refused_by_goaway = goaway_received_ && stream_id > goaway_last_stream_id_ &&
                                     error_code == NGHTTP2_REFUSED_STREAM;
      visitor_->OnStreamReset(stream_id, static_cast<ErrorCode>(error_code),
                              stream->rst_received || refused_by_goaway);
    }
  }
  ReleaseStream(std::move(stream));
  return 0;
}

int Session::OnInvalidFrame(int lib_error_code) {
  switch (lib_error_code) {
    case NGHTTP2_ERR_REFUSED_STREAM:
      // Over our SETTINGS_MAX_CONCURRENT_STREAMS: nghttp2 answers REFUSED_STREAM.
      ++stats_.stream_refused_errors;
      return 0;
    case NGHTTP2_ERR_HTTP_HEADER:
    case NGHTTP2_ERR_HTTP_MESSAGING:
      // RFC 9113 §8 violations: uppercase or invalid names or values, connection-specific
      // headers, missing/duplicate/unknown pseudo-headers. (A content-length mismatch nghttp2
      // answers with RST_STREAM on its own, without this callback.)
      ++stats_.rx_messaging_error;
      if (options_.stream_error_on_invalid_http_messaging) return 0;  // nghttp2 resets the stream
      break;
    default:
      break;
  }
  FailFromLibrary(lib_error_code);
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

// ---- Output ------------------------------------------------------------------------------------

absl::string_view Session::PendingOutput() {
  if (in_library_ == 0 && ProduceHasWork()) Produce();
  return absl::string_view(out_.data() + out_head_, out_.size() - out_head_);
}

bool Session::HasOutput() const {
  return out_head_ < out_.size() || nghttp2_session_want_write(session_) != 0;
}

void Session::ConsumeOutput(size_t n) {
  n = std::min(n, out_.size() - out_head_);
  out_head_ += n;
  const uint64_t written = out_base_ + out_head_;
  while (marks_head_ < marks_.size() && marks_[marks_head_].end <= written) {
    --buffered_frames_;
    if (marks_[marks_head_].control) --buffered_control_frames_;
    ++marks_head_;
  }
  if (marks_head_ == marks_.size()) {
    marks_.clear();
    marks_head_ = 0;
  } else if (marks_head_ > 1024 && marks_head_ * 2 > marks_.size()) {
    marks_.erase(marks_.begin(), marks_.begin() + static_cast<ptrdiff_t>(marks_head_));
    marks_head_ = 0;
  }
  if (out_head_ == out_.size()) {
    out_base_ += out_head_;
    out_.clear();
    out_head_ = 0;
  } else if (out_head_ > 64 * 1024 && out_head_ * 2 > out_.size()) {
    out_base_ += out_head_;
    out_.erase(0, out_head_);
    out_head_ = 0;
  }
}

void Session::Produce() {
  // Twice at most: an error found while sending (say, a premature reset seen as a stream closes)
  // queues its GOAWAY for a second pass.
  for (int pass = 0; pass < 2 && !send_failed_; ++pass) {
    if (!status_.ok && !goaway_queued_) {
      goaway_queued_ = true;
      // GOAWAY(last processed stream, code); nghttp2 stops the session once it is sent. Fails
      // only when a terminating GOAWAY was already queued, which is fine.
      nghttp2_session_terminate_session(session_, static_cast<uint32_t>(status_.goaway_code));
    } else if (pass > 0) {
      break;
    }
    ++in_library_;
    const int rv = nghttp2_session_send(session_);
    --in_library_;
    if (rv != 0) {
      send_failed_ = true;
      if (status_.ok) FailFromLibrary(rv);
    }
  }
  // Writable notifications run outside nghttp2, where the owner may submit freely.
  for (size_t i = 0; i < writable_.size(); ++i) {
    if (Find(writable_[i]) != nullptr) visitor_->OnStreamWritable(writable_[i]);
  }
  writable_.clear();
}

ssize_t Session::OnSend(const uint8_t* data, size_t length) {
  if (OutputFull()) return NGHTTP2_ERR_WOULDBLOCK;
  out_.append(reinterpret_cast<const char*>(data), length);
  return static_cast<ssize_t>(length);
}

int Session::OnSendData(nghttp2_frame* frame, const uint8_t* framehd, size_t length,
                        Stream* stream) {
  if (OutputFull()) return NGHTTP2_ERR_WOULDBLOCK;
  out_.append(reinterpret_cast<const char*>(framehd), kFrameHeaderBytes);
  // We never ask nghttp2 for padding, but follow the callback's contract if it adds some.
  const size_t padlen = frame->data.padlen;
  if (padlen > 0) out_.push_back(static_cast<char>(padlen - 1));
  out_.append(stream->send_buffer, stream->send_offset, length);
  if (padlen > 1) out_.append(padlen - 1, '\0');
  stream->send_offset += length;
  if (stream->send_offset == stream->send_buffer.size()) {
    stream->send_buffer.clear();
    stream->send_offset = 0;
  } else if (stream->send_offset * 2 > stream->send_buffer.size()) {
    stream->send_buffer.erase(0, stream->send_offset);
    stream->send_offset = 0;
  }
  if (stream->producer_paused && stream->Buffered() <= options_.stream_send_buffer_bytes / 2) {
    stream->producer_paused = false;
    writable_.push_back(stream->id);
  }
  constraints_.OnDataFrameSent();
  return 0;
}

ssize_t Session::OnReadData(int32_t stream_id, size_t length, uint32_t* data_flags,
                            Stream* stream) {
  const size_t available = stream->Buffered();
  if (available == 0 && !stream->end_queued) {
    // Nothing to send yet: nghttp2 parks the stream until SubmitData() resumes it.
    stream->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  const size_t n = std::min(available, length);
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == available && stream->end_queued) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (stream->has_trailers) {
      // The trailers carry END_STREAM instead (nghttp2 allows submitting them from here).
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      nva_.clear();
      AppendNva(&stream->trailers);
      nghttp2_submit_trailer(session_, stream_id, nva_.data(), nva_.size());
    }
  }
  return static_cast<ssize_t>(n);
}

int Session::OnFrameSend(const nghttp2_frame* frame) {
  const uint8_t type = frame->hd.type;
  // Envoy's flood-monitored control frames: PING and SETTINGS ACKs, RST_STREAM.
  const bool control =
      type == NGHTTP2_RST_STREAM ||
      ((type == NGHTTP2_PING || type == NGHTTP2_SETTINGS) && (frame->hd.flags & NGHTTP2_FLAG_ACK));
  marks_.push_back(FrameMark{out_base_ + out_.size(), control});
  ++buffered_frames_;
  if (control) ++buffered_control_frames_;

  switch (type) {
    case NGHTTP2_RST_STREAM:
      ++stats_.tx_reset;
      break;
    case NGHTTP2_GOAWAY:
      ++stats_.goaway_sent;
      if (frame->goaway.error_code != NGHTTP2_NO_ERROR && status_.ok) {
        // nghttp2 ended the session on its own: a connection error it handles internally (an
        // oversized SETTINGS frame, DATA on stream 0...) or its RST_STREAM rate limit. Its debug
        // data says which; copied, as the frame goes away after this call.
        goaway_queued_ = true;
        error_detail_.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                             frame->goaway.opaque_data_len);
        if (error_detail_.empty()) error_detail_ = "GOAWAY from nghttp2";
        status_ = ConnectionStatus{false, static_cast<ErrorCode>(frame->goaway.error_code),
                                   error_detail_};
      }
      break;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        if (Stream* stream = Find(frame->hd.stream_id); stream != nullptr) {
          stream->local_end = true;
        }
      }
      break;
    default:
      break;
  }
  // A flood means the peer is not reading: stop producing, nothing more will get through.
  if (status_.ok && !CheckOutbound()) return NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

bool Session::CheckOutbound() {
  // Frames in our output plus those nghttp2 still queues (it holds them while our output is full).
  const Violation violation = constraints_.CheckOutbound(
      buffered_frames_ + nghttp2_session_get_outbound_queue_size(session_),
      buffered_control_frames_);
  if (violation == Violation::kNone) return true;
  Fail(ErrorCode::kEnhanceYourCalm, ViolationReason(violation));
  return false;
}

void Session::Fail(ErrorCode code, absl::string_view reason) {
  if (!status_.ok) return;
  status_ = ConnectionStatus{false, code, reason};
}

void Session::FailFromLibrary(int lib_error_code) {
  if (!status_.ok) return;
  Fail(CodeForLibraryError(lib_error_code), nghttp2_strerror(lib_error_code));
}

// ---- Submitting --------------------------------------------------------------------------------

void Session::AppendNva(const http::HeaderMap* headers) {
  if (headers == nullptr) return;
  headers->ForEach([this](absl::string_view name, absl::string_view value) {
    nva_.push_back(MakeNv(name, value));
  });
}

size_t Session::BuildRequestNva(const RequestHeaders& request) {
  nva_.clear();
  nva_.push_back(MakeNv(":method", request.method));
  if (!request.scheme.empty()) nva_.push_back(MakeNv(":scheme", request.scheme));
  if (!request.authority.empty()) nva_.push_back(MakeNv(":authority", request.authority));
  if (!request.path.empty()) nva_.push_back(MakeNv(":path", request.path));
  AppendNva(request.headers);
  return nva_.size();
}

size_t Session::BuildResponseNva(const ResponseHeaders& response) {
  nva_.clear();
  const int status = std::clamp(response.status, 100, 999);
  status_text_[0] = static_cast<char>('0' + status / 100);
  status_text_[1] = static_cast<char>('0' + status / 10 % 10);
  status_text_[2] = static_cast<char>('0' + status % 10);
  nva_.push_back(MakeNv(":status", absl::string_view(status_text_, 3)));
  AppendNva(response.headers);
  return nva_.size();
}

bool Session::CanOpenStream() const {
  return role_ == Role::kClient && status_.ok && !goaway_received_ && !goaway_submitted_ &&
         streams_.size() < PeerMaxConcurrentStreams() &&
         nghttp2_session_get_next_stream_id(session_) <=
             uint32_t{std::numeric_limits<int32_t>::max()};
}

uint32_t Session::PeerMaxConcurrentStreams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

OpenResult Session::SubmitRequest(const RequestHeaders& request, bool end_stream) {
  if (!CanOpenStream()) {
    OpenError error = OpenError::kTooManyStreams;
    if (role_ != Role::kClient) {
      error = OpenError::kRejected;
    } else if (!status_.ok) {
      error = OpenError::kClosed;
    } else if (goaway_received_ || goaway_submitted_) {
      error = OpenError::kGoingAway;
    } else if (nghttp2_session_get_next_stream_id(session_) >
               uint32_t{std::numeric_limits<int32_t>::max()}) {
      error = OpenError::kStreamIdsExhausted;
    }
    return OpenResult{0, error};
  }
  const size_t count = BuildRequestNva(request);
  std::unique_ptr<Stream> owned = AcquireStream();
  nghttp2_data_provider provider;
  provider.source.ptr = owned.get();  // the data provider's source is the stream itself
  provider.read_callback = &Callbacks::ReadData;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva_.data(), count,
                                            end_stream ? nullptr : &provider, nullptr);
  if (id < 0) {
    ReleaseStream(std::move(owned));
    return OpenResult{0, id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE ? OpenError::kStreamIdsExhausted
                                                                   : OpenError::kRejected};
  }
  Stream* stream = AddStream(id, std::move(owned));
  stream->announced = true;
  stream->has_provider = !end_stream;
  if (end_stream) stream->end_queued = true;
  constraints_.OnStreamOpened();
  return OpenResult{id, OpenError::kNone};
}

bool Session::SubmitResponse(int32_t stream_id, const ResponseHeaders& response, bool end_stream) {
  Stream* stream = Find(stream_id);
  if (role_ != Role::kServer || stream == nullptr || stream->response_started) return false;
  const size_t count = BuildResponseNva(response);
  if (response.status < 200) {
    // Informational: a HEADERS frame with no END_STREAM and no body; the final head follows.
    return !end_stream && nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream_id, nullptr,
                                                 nva_.data(), count, nullptr) == 0;
  }
  nghttp2_data_provider provider;
  provider.source.ptr = stream;
  provider.read_callback = &Callbacks::ReadData;
  if (nghttp2_submit_response(session_, stream_id, nva_.data(), count,
                              end_stream ? nullptr : &provider) != 0) {
    return false;
  }
  stream->response_started = true;
  stream->has_provider = !end_stream;
  // A headers-only response ends the sending side: no SubmitData/SubmitTrailers after it.
  if (end_stream) stream->end_queued = true;
  return true;
}

SendResult Session::SubmitData(int32_t stream_id, absl::string_view data, bool end_stream) {
  Stream* stream = Find(stream_id);
  if (stream == nullptr || !stream->has_provider || stream->end_queued) return SendResult::kClosed;
  stream->send_buffer.append(data.data(), data.size());
  if (end_stream) stream->end_queued = true;
  if (stream->deferred && (!data.empty() || end_stream)) {
    stream->deferred = false;
    nghttp2_session_resume_data(session_, stream_id);
  }
  if (stream->Buffered() > options_.stream_send_buffer_bytes) {
    stream->producer_paused = true;
    return SendResult::kBufferFull;
  }
  return SendResult::kOk;
}

bool Session::SubmitTrailers(int32_t stream_id, const http::HeaderMap& trailers) {
  Stream* stream = Find(stream_id);
  if (stream == nullptr || !stream->has_provider || stream->end_queued) return false;
  trailers.ForEach([stream](absl::string_view name, absl::string_view value) {
    stream->trailers.Add(name, value);
  });
  stream->has_trailers = true;
  stream->end_queued = true;
  if (stream->deferred) {
    stream->deferred = false;
    nghttp2_session_resume_data(session_, stream_id);
  }
  return true;
}

void Session::ResetStream(int32_t stream_id, ErrorCode error_code) {
  Stream* stream = Find(stream_id);
  if (stream == nullptr) return;
  stream->local_reset = true;
  // Until the RST_STREAM goes out the peer may still send; none of it is delivered.
  stream->discard_body = true;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id,
                            static_cast<uint32_t>(error_code));
}

size_t Session::StreamSendBuffered(int32_t stream_id) const {
  const Stream* stream = Find(stream_id);
  return stream == nullptr ? 0 : stream->Buffered();
}

void Session::ConsumeStreamData(int32_t stream_id, size_t n) {
  Stream* stream = Find(stream_id);
  if (stream == nullptr) return;
  n = std::min(n, stream->unconsumed);
  if (n == 0) return;
  stream->unconsumed -= n;
  nghttp2_session_consume(session_, stream_id, n);
}

void Session::SubmitShutdownNotice() {
  if (role_ != Role::kServer || goaway_submitted_ || !status_.ok) return;
  if (nghttp2_submit_shutdown_notice(session_) == 0) ++stats_.goaway_graceful_sent;
}

void Session::SubmitGoAway(ErrorCode error_code) {
  if (!status_.ok) return;
  if (error_code != ErrorCode::kNoError) {
    Fail(error_code, "connection closed by the proxy");
    return;
  }
  if (goaway_submitted_) return;
  goaway_submitted_ = true;
  sent_goaway_last_stream_id_ = nghttp2_session_get_last_proc_stream_id(session_);
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, sent_goaway_last_stream_id_, NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void Session::SubmitPing(uint64_t opaque) {
  uint8_t data[8];
  for (int i = 7; i >= 0; --i) {
    data[i] = static_cast<uint8_t>(opaque & 0xff);
    opaque >>= 8;
  }
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, data);
}

void Session::OnKeepaliveTimeout() {
  if (!status_.ok) return;
  ++stats_.keepalive_timeout;
  Fail(ErrorCode::kNoError, "keepalive timeout");
}

bool Session::WantsClose() const {
  return !status_.ok ||
         (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0);
}

}  // namespace proxy::http2
