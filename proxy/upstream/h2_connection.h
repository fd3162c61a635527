#pragma once

// H2Connection: one HTTP/2 connection from a worker to one upstream host, multiplexing the
// streams of many requests (from HTTP/1.1 and HTTP/2 clients alike). It owns the socket and an
// http2::Session in the client role, connects by itself, and runs two coroutines: a reader that
// feeds Receive() and a writer that drains the session's output. Streams can be opened as soon as
// the object exists: its frames wait in the session until the connection is up. Until the
// server's SETTINGS arrive only one stream is opened (its stream limit is unknown, and streams
// over it would be refused); other requests wait for those SETTINGS (WaitForPeerSettings) and then
// share the connection, so a burst of requests to a new host does not race to open many.
//
// A stream's events go to its H2StreamCallbacks on the worker thread. ResetStream() detaches the
// callbacks at once, so a request that gives up (timeout, client gone) hears nothing more.
// H2Pool keeps a worker's connections per host and picks one with room for another stream
// (the peer's SETTINGS_MAX_CONCURRENT_STREAMS), opening another connection when none has room.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "boost/asio/ip/tcp.hpp"
#include "proxy/asio_types.h"
#include "proxy/async_event.h"
#include "proxy/draining_read.h"
#include "proxy/http/header_map.h"
#include "proxy/http2/session.h"
#include "proxy/proxy_stats.h"
#include "routing/cluster_config.h"

namespace proxy::upstream {

// How an upstream stream ended.
enum class H2StreamEnd {
  kComplete,        // the response arrived in full
  kReset,           // RST_STREAM from either side, or the peer refused it (GOAWAY)
  kConnectFailure,  // the connection could not be established
  kConnectTimeout,
  kConnectionLost,  // the connection failed or closed before the stream completed
};

class H2StreamCallbacks {
 public:
  virtual ~H2StreamCallbacks() = default;
  virtual void OnResponseHeaders(int status, const http::HeaderMap& headers, bool end_stream) = 0;
  // Body bytes; call H2Connection::ConsumeData() once they are passed on.
  virtual void OnResponseData(absl::string_view data, bool end_stream) = 0;
  virtual void OnResponseTrailers(const http::HeaderMap& trailers) = 0;
  // The last event of the stream. For kReset, `code` is the RST_STREAM code and `refused` tells
  // that the server never processed the stream (REFUSED_STREAM or GOAWAY): safe to retry.
  virtual void OnStreamEnd(H2StreamEnd end, http2::ErrorCode code, bool refused) = 0;
  // The stream's send buffer has room again after SendData() answered kBufferFull.
  virtual void OnWritable() = 0;
};

class H2Connection : public http2::SessionVisitor,
                     public std::enable_shared_from_this<H2Connection> {
 public:
  // `read_buffers` and `peer_close_watch` are the worker's (see draining_read.h).
  H2Connection(Executor executor, ReadBufferPool& read_buffers, PeerCloseWatch& peer_close_watch,
               size_t host_index, const routing::ClusterConfig& cluster, ClusterStats* stats,
               Http2CodecStats* codec_stats);
  ~H2Connection() override;

  // Connects to `endpoint` (within the cluster's connect_timeout) and starts reading and writing.
  void Start(const boost::asio::ip::tcp::endpoint& endpoint);

  // Opens a stream; 0 when the connection cannot take one now (CanOpenStream() is false).
  int32_t OpenStream(const http2::RequestHeaders& head, bool end_stream,
                     H2StreamCallbacks* callbacks);
  // Whether OpenStream() would succeed: open (or connecting), not going away, below the peer's
  // concurrent stream limit (one stream until its SETTINGS arrived).
  bool CanOpenStream() const;
  // Open, and the server's first SETTINGS have not arrived yet.
  bool AwaitingPeerSettings() const;
  // Returns once the server's SETTINGS arrived, the connection closed, or WakeSettingsWaiters().
  Task<void> WaitForPeerSettings();
  // Wakes every WaitForPeerSettings() (each re-checks what it waits for).
  void WakeSettingsWaiters() { settings_timer_.cancel(); }
  http2::SendResult SendData(int32_t stream_id, absl::string_view data, bool end_stream);
  bool SendTrailers(int32_t stream_id, const http::HeaderMap& trailers);
  // Resets the stream (CANCEL) and forgets its callbacks.
  void ResetStream(int32_t stream_id);
  void ConsumeData(int32_t stream_id, size_t n);

  // Closes the socket; streams still open end with kConnectionLost.
  void Close();
  // No new streams; closes once the streams in flight ended (its host left the cluster, or it
  // opened max_requests_per_connection streams).
  void Retire();
  bool closed() const { return closed_; }
  size_t host_index() const { return host_index_; }
  size_t active_streams() const { return callbacks_.size(); }
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }

 private:
  // http2::SessionVisitor.
  void OnInformationalHeaders(int32_t, const http2::ResponseHeaders&) override {}
  void OnResponseHeaders(int32_t stream_id, const http2::ResponseHeaders& response,
                         bool end_stream) override;
  void OnHeadersTooLarge(int32_t stream_id) override;
  void OnData(int32_t stream_id, absl::string_view data, bool end_stream) override;
  void OnTrailers(int32_t stream_id, const http::HeaderMap& trailers) override;
  void OnStreamClosed(int32_t stream_id) override;
  void OnStreamReset(int32_t stream_id, http2::ErrorCode code, bool remote) override;
  void OnGoAway(int32_t last_stream_id, http2::ErrorCode code) override;
  void OnStreamWritable(int32_t stream_id) override;
  void OnPeerSettings() override { WakeSettingsWaiters(); }

  Task<void> Run(boost::asio::ip::tcp::endpoint endpoint);
  Task<void> WriteLoop();
  // Wakes the writer (after anything that may have produced output).
  void Flush();
  // Ends every stream with `end` and closes.
  void Fail(H2StreamEnd end);
  H2StreamCallbacks* Find(int32_t stream_id) const;
  void EndStream(int32_t stream_id, H2StreamEnd end, http2::ErrorCode code, bool refused);
  void SyncCodecStats();

  Socket socket_;
  ReadBufferPool& read_buffers_;
  PeerCloseWatch& peer_close_watch_;
  Timer connect_timer_;
  Timer settings_timer_;  // never expires: cancelling it wakes WaitForPeerSettings()
  const size_t host_index_;
  const absl::Duration connect_timeout_;
  // The cluster's max_requests_per_connection: streams this connection may still open.
  std::optional<uint32_t> streams_left_;
  ClusterStats* stats_;
  Http2CodecStats* codec_stats_;
  http2::CodecStats exported_;  // codec counters already added to codec_stats_
  http2::Session session_;
  AsyncEvent output_ready_;
  std::string write_buffer_;
  absl::flat_hash_map<int32_t, H2StreamCallbacks*> callbacks_;
  std::chrono::steady_clock::time_point idle_since_;
  bool connected_ = false;
  bool closed_ = false;
  bool counted_active_ = false;
  bool connect_timed_out_ = false;
  bool retired_ = false;
};

// A worker's HTTP/2 connections to the hosts of one cluster.
class H2Pool {
 public:
  explicit H2Pool(size_t num_hosts) : connections_(num_hosts) {}

  // A connection to `host` that can take one more stream now, or nullptr.
  std::shared_ptr<H2Connection> Find(size_t host);
  // A connection to `host` still waiting for the server's SETTINGS, or nullptr.
  std::shared_ptr<H2Connection> FindAwaitingSettings(size_t host);
  void Add(std::shared_ptr<H2Connection> connection);
  // Closes connections without streams idle since before `cutoff`; returns how many.
  int CloseIdleBefore(std::chrono::steady_clock::time_point cutoff);
  // When the longest-idle connection without streams became idle; time_point::max() if none.
  std::chrono::steady_clock::time_point oldest_idle_since() const;
  // Moves connections of hosts that still exist into a pool over a new host list (see ConnPool).
  H2Pool Remap(const std::vector<int>& new_index, size_t num_hosts);
  void CloseAll();

 private:
  std::vector<std::vector<std::shared_ptr<H2Connection>>> connections_;  // per host
};

}  // namespace proxy::upstream
