#pragma once

// Http2DownstreamConnection: one client connection speaking HTTP/2 (h2c: prior knowledge on a
// listener with codec_type HTTP2, or AUTO when the connection starts with the preface). It owns
// the socket and an http2::Session in the server role; a reader coroutine feeds the session, its
// output is sent once per batch of handlers (a non-blocking send, then a writer coroutine only
// while the socket is full), and every request stream is served by its own coroutine: routing
// (request_router.h), local replies, and proxying (stream_proxy.h) to HTTP/1.1 or HTTP/2
// upstreams. The streams of one connection run concurrently; their bodies are flow-controlled
// end to end (a request body's window reopens only as the upstream takes it; a response stops
// being read from the upstream while the client's window is closed).
//
// Protection is the codec's (http2/session.h: stream limits, rapid reset, floods, header list
// size) with its counters exported as Envoy's http2.* stats. A protocol error or tripped limit
// sends GOAWAY and closes the connection; a head over the header limits gets 431.
//
// Draining (SIGTERM, /drain_listeners, the listener removed or changed by LDS, and the HCM's
// max_requests_per_connection or max_connection_duration) follows Envoy: a shutdown notice
// (GOAWAY with the highest stream id), so the client opens no more streams while those already
// sent are served; the final GOAWAY once the connection is idle or at drain_timeout; the streams
// in flight finish, and the connection closes.

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "proxy/asio_types.h"
#include "proxy/async_event.h"
#include "proxy/deadline_sweeper.h"
#include "proxy/http2/session.h"
#include "proxy/serving_config.h"

namespace proxy {

class Worker;

class Http2DownstreamConnection : public http2::SessionVisitor, public Deadline {
 public:
  // `preface_bytes`: what was already read from the socket (the codec detection's peek).
  Http2DownstreamConnection(Worker& worker, std::string listener_name,
                            std::shared_ptr<const ServingConfig> config,
                            const ListenerEntry* listener, Socket socket,
                            std::string preface_bytes);
  ~Http2DownstreamConnection() override;

  // Serves the connection until it closes and every stream's coroutine has finished.
  Task<void> Run();

  // Drain (server drain, listener update; counted as downstream_cx_drain_close): see above.
  void OnDrain();
  // Closes the socket now (shutdown).
  void Abort();
  // The worker has a new config: drain if this connection's listener was removed or changed.
  void OnConfigUpdate();

 private:
  class Stream;

  // http2::SessionVisitor.
  void OnRequestHeaders(int32_t stream_id, const http2::RequestHeaders& request,
                        bool end_stream) override;
  void OnHeadersTooLarge(int32_t stream_id) override;
  void OnData(int32_t stream_id, absl::string_view data, bool end_stream) override;
  void OnTrailers(int32_t stream_id, const http::HeaderMap& trailers) override;
  void OnStreamClosed(int32_t stream_id) override;
  void OnStreamReset(int32_t stream_id, http2::ErrorCode code, bool remote) override;
  void OnStreamWritable(int32_t stream_id) override;

  void OnDeadline() override;
  // Output: Flush() runs WriteOutput() once, after the handlers already queued; it sends straight
  // from the session's buffer, and what the socket does not take goes on in WriteLoop.
  void WriteOutput();
  Task<void> WriteLoop();
  void OnWriteFailed();
  Task<void> ServeStream(std::shared_ptr<Stream> stream);
  // Sends the output queued by anything done since (see WriteOutput).
  void Flush();
  void ExportStats();
  // The connection's one deadline, whichever is due first: the idle timeout (no stream
  // running), max_connection_duration (starts the drain), and while draining the final GOAWAY.
  void ArmDeadline();
  // Shutdown notice now, final GOAWAY after drain_timeout or when idle; then the connection
  // closes once its streams finished.
  void StartDrain();
  // The stream's owners are the map and its ServeStream coroutine; callers use it at once.
  Stream* Find(int32_t stream_id) const;
  void RemoveStream(int32_t stream_id);

  Worker& worker_;
  const std::string listener_name_;
  std::shared_ptr<const ServingConfig> config_;
  const ListenerEntry* listener_;
  uint64_t listener_hash_;
  Socket socket_;
  std::string remote_address_;  // client IP, for x-forwarded-for
  std::string preface_bytes_;
  http2::Session session_;
  http2::CodecStats exported_;
  AsyncEvent writer_idle_;  // no flush posted, WriteLoop not running (closing waits for it)
  AsyncEvent streams_done_;
  std::string write_buffer_;
  absl::flat_hash_map<int32_t, std::shared_ptr<Stream>> streams_;
  int serving_ = 0;  // stream coroutines still running
  uint32_t requests_ = 0;  // streams started, for max_requests_per_connection
  std::chrono::steady_clock::time_point opened_;
  std::chrono::steady_clock::time_point final_goaway_due_;  // while draining
  std::optional<std::chrono::steady_clock::time_point> max_duration_at_;
  bool duration_due_ = false;  // the armed deadline is max_connection_duration
  bool closed_ = false;
  bool draining_ = false;
  bool write_failed_ = false;
  bool flush_posted_ = false;
  bool writer_running_ = false;
  bool writer_done_ = false;  // Run() is past its last write
};

}  // namespace proxy
