#include "proxy/upstream/h2_connection.h"

#include <algorithm>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/write.hpp"

namespace proxy::upstream {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Envoy's upstream defaults are 256 MiB windows; bytes inside the window are bytes the proxy may
// have to hold when the client reads slowly, so weir caps them.
constexpr uint32_t kMaxStreamWindow = 4 << 20;
constexpr uint32_t kMaxConnectionWindow = 16 << 20;

http2::SessionOptions ClientOptions(const routing::ClusterConfig& cluster) {
  http2::SessionOptions options;
  options.initial_stream_window_size =
      std::min(cluster.http2.initial_stream_window_size, kMaxStreamWindow);
  options.initial_connection_window_size =
      std::min(cluster.http2.initial_connection_window_size, kMaxConnectionWindow);
  // Responses are not limited like requests (Envoy's upstream default is 60 KiB / 100 too), but
  // an upstream that answers with huge heads is not ours to reject below what clients may send.
  options.max_header_list_bytes = 96 * 1024;
  options.max_headers_count = 200;
  options.stream_error_on_invalid_http_messaging =
      cluster.http2.stream_error_on_invalid_http_messaging;
  return options;
}

}  // namespace

H2Connection::H2Connection(Executor executor, ReadBufferPool& read_buffers,
                           PeerCloseWatch& peer_close_watch, size_t host_index,
                           const routing::ClusterConfig& cluster, ClusterStats* stats,
                           Http2CodecStats* codec_stats)
    : socket_(executor),
      read_buffers_(read_buffers),
      peer_close_watch_(peer_close_watch),
      connect_timer_(executor),
      settings_timer_(executor, Timer::time_point::max()),
      host_index_(host_index),
      connect_timeout_(cluster.connect_timeout),
      streams_left_(cluster.max_requests_per_connection),
      stats_(stats),
      codec_stats_(codec_stats),
      session_(http2::Role::kClient, ClientOptions(cluster), this),
      output_ready_(executor),
      idle_since_(Clock::now()) {}

H2Connection::~H2Connection() = default;

void H2Connection::Start(const tcp::endpoint& endpoint) {
  stats_->upstream_rq_pending_total.Inc();
  asio::co_spawn(socket_.get_executor(), Run(endpoint), asio::detached);
}

Task<void> H2Connection::Run(tcp::endpoint endpoint) {
  auto self = shared_from_this();
  stats_->upstream_rq_pending_active.Inc();
  const auto connect_start = Clock::now();
  connect_timer_.expires_after(absl::ToChronoNanoseconds(connect_timeout_));
  connect_timer_.async_wait([this, self](boost::system::error_code ec) {
    if (ec || connected_ || closed_) return;
    connect_timed_out_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  });
  auto [ec] = co_await socket_.async_connect(endpoint, kNoThrow);
  stats_->upstream_rq_pending_active.Dec();
  connect_timer_.cancel();
  if (ec || closed_) {
    if (connect_timed_out_) {
      stats_->upstream_cx_connect_timeout.Inc();
    } else if (!closed_) {
      stats_->upstream_cx_connect_fail.Inc();
    }
    Fail(connect_timed_out_ ? H2StreamEnd::kConnectTimeout : H2StreamEnd::kConnectFailure);
    co_return;
  }
  connected_ = true;
  peer_close_watch_.Watch(socket_);
  counted_active_ = true;
  stats_->upstream_cx_total.Inc();
  stats_->upstream_cx_http2_total.Inc();
  stats_->upstream_cx_active.Inc();
  stats_->upstream_cx_connect_ms.Record(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - connect_start)
          .count()));
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  asio::co_spawn(socket_.get_executor(), WriteLoop(), asio::detached);
  Flush();

  // The codec takes every byte it is given: the buffer goes back to the worker's pool at once.
  ReadBufferPool::Buffer buffer;
  while (!closed_) {
    auto [read_ec, n] = co_await socket_.async_read_some(
        DrainingReadBuffer(read_buffers_, &buffer, peer_close_watch_), kNoThrow);
    if (read_ec) break;
    stats_->upstream_cx_rx_bytes_total.Add(n);
    http2::ConnectionStatus status = session_.Receive(absl::string_view(buffer.get(), n));
    read_buffers_.Return(std::move(buffer));
    SyncCodecStats();
    Flush();
    if (!status.ok) {
      stats_->upstream_cx_protocol_error.Inc();
      break;
    }
    if (session_.WantsClose() && callbacks_.empty()) break;
  }
  if (!closed_) {
    stats_->upstream_cx_destroy_remote.Inc();
    Fail(H2StreamEnd::kConnectionLost);
  }
}

Task<void> H2Connection::WriteLoop() {
  auto self = shared_from_this();
  while (!closed_) {
    absl::string_view pending = session_.PendingOutput();
    if (pending.empty()) {
      co_await output_ready_.Wait();
      continue;
    }
    // Copied out: the session's buffer may move while the write is in flight.
    write_buffer_.assign(pending.data(), pending.size());
    session_.ConsumeOutput(pending.size());
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(write_buffer_), kNoThrow);
    if (ec) break;
    stats_->upstream_cx_tx_bytes_total.Add(n);
  }
}

void H2Connection::Flush() {
  if (connected_ && !closed_) output_ready_.Notify();
}

void H2Connection::Fail(H2StreamEnd end) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  connect_timer_.cancel();
  WakeSettingsWaiters();
  output_ready_.Notify();
  if (counted_active_) {
    stats_->upstream_cx_active.Dec();
    stats_->upstream_cx_destroy.Inc();
  }
  // Callbacks may reset other streams while we iterate: take the list first.
  auto callbacks = std::move(callbacks_);
  callbacks_.clear();
  for (auto& [id, callback] : callbacks) {
    callback->OnStreamEnd(end, http2::ErrorCode::kNoError, /*refused=*/false);
  }
}

void H2Connection::Close() {
  if (closed_) return;
  if (counted_active_) stats_->upstream_cx_destroy_local.Inc();
  Fail(H2StreamEnd::kConnectionLost);
}

void H2Connection::Retire() {
  retired_ = true;
  if (callbacks_.empty()) Close();
}

bool H2Connection::CanOpenStream() const {
  if (closed_ || retired_) return false;
  const size_t limit = session_.PeerSettingsReceived() ? session_.PeerMaxConcurrentStreams() : 1;
  return session_.CanOpenStream() && callbacks_.size() < limit;
}

bool H2Connection::AwaitingPeerSettings() const {
  return !closed_ && !retired_ && !session_.PeerSettingsReceived();
}

Task<void> H2Connection::WaitForPeerSettings() {
  auto self = shared_from_this();
  if (!AwaitingPeerSettings()) co_return;
  co_await settings_timer_.async_wait(kNoThrow);
}

int32_t H2Connection::OpenStream(const http2::RequestHeaders& head, bool end_stream,
                                 H2StreamCallbacks* callbacks) {
  if (!CanOpenStream()) return 0;
  http2::OpenResult result = session_.SubmitRequest(head, end_stream);
  if (!result.ok()) return 0;
  callbacks_[result.stream_id] = callbacks;
  if (streams_left_.has_value() && --*streams_left_ == 0) {
    stats_->upstream_cx_max_requests.Inc();
    Retire();
  }
  Flush();
  return result.stream_id;
}

http2::SendResult H2Connection::SendData(int32_t stream_id, absl::string_view data,
                                         bool end_stream) {
  if (closed_) return http2::SendResult::kClosed;
  http2::SendResult result = session_.SubmitData(stream_id, data, end_stream);
  Flush();
  return result;
}

bool H2Connection::SendTrailers(int32_t stream_id, const http::HeaderMap& trailers) {
  if (closed_) return false;
  bool ok = session_.SubmitTrailers(stream_id, trailers);
  Flush();
  return ok;
}

void H2Connection::ResetStream(int32_t stream_id) {
  if (callbacks_.erase(stream_id) == 0 || closed_) return;
  session_.ResetStream(stream_id, http2::ErrorCode::kCancel);
  Flush();
  if (callbacks_.empty()) {
    idle_since_ = Clock::now();
    if (retired_) Close();
  }
}

void H2Connection::ConsumeData(int32_t stream_id, size_t n) {
  if (closed_) return;
  session_.ConsumeStreamData(stream_id, n);
  Flush();
}

H2StreamCallbacks* H2Connection::Find(int32_t stream_id) const {
  auto it = callbacks_.find(stream_id);
  return it == callbacks_.end() ? nullptr : it->second;
}

void H2Connection::EndStream(int32_t stream_id, H2StreamEnd end, http2::ErrorCode code,
                             bool refused) {
  auto it = callbacks_.find(stream_id);
  if (it == callbacks_.end()) return;
  H2StreamCallbacks* callbacks = it->second;
  callbacks_.erase(it);
  callbacks->OnStreamEnd(end, code, refused);
  if (callbacks_.empty()) {
    idle_since_ = Clock::now();
    if (retired_) Close();
  }
}

void H2Connection::OnResponseHeaders(int32_t stream_id, const http2::ResponseHeaders& response,
                                     bool end_stream) {
  if (H2StreamCallbacks* callbacks = Find(stream_id)) {
    callbacks->OnResponseHeaders(response.status, *response.headers, end_stream);
  }
}

void H2Connection::OnHeadersTooLarge(int32_t stream_id) {
  if (Find(stream_id) == nullptr) return;
  session_.ResetStream(stream_id, http2::ErrorCode::kProtocolError);
  EndStream(stream_id, H2StreamEnd::kReset, http2::ErrorCode::kProtocolError, false);
}

void H2Connection::OnData(int32_t stream_id, absl::string_view data, bool end_stream) {
  if (H2StreamCallbacks* callbacks = Find(stream_id)) {
    callbacks->OnResponseData(data, end_stream);
  } else {
    session_.ConsumeStreamData(stream_id, data.size());
  }
}

void H2Connection::OnTrailers(int32_t stream_id, const http::HeaderMap& trailers) {
  if (H2StreamCallbacks* callbacks = Find(stream_id)) callbacks->OnResponseTrailers(trailers);
}

void H2Connection::OnStreamClosed(int32_t stream_id) {
  EndStream(stream_id, H2StreamEnd::kComplete, http2::ErrorCode::kNoError, false);
}

void H2Connection::OnStreamReset(int32_t stream_id, http2::ErrorCode code, bool remote) {
  EndStream(stream_id, H2StreamEnd::kReset, code,
            remote && code == http2::ErrorCode::kRefusedStream);
}

void H2Connection::OnGoAway(int32_t, http2::ErrorCode) {
  // No new streams here (CanOpenStream() turns false); the refused ones are reset by the session.
}

void H2Connection::OnStreamWritable(int32_t stream_id) {
  if (H2StreamCallbacks* callbacks = Find(stream_id)) callbacks->OnWritable();
}

void H2Connection::SyncCodecStats() {
  if (codec_stats_ != nullptr) codec_stats_->Export(session_.stats(), &exported_);
}

std::shared_ptr<H2Connection> H2Pool::Find(size_t host) {
  if (host >= connections_.size()) return nullptr;
  auto& list = connections_[host];
  std::erase_if(list, [](const auto& c) { return c->closed(); });
  for (const auto& connection : list) {
    if (connection->CanOpenStream()) return connection;
  }
  return nullptr;
}

std::shared_ptr<H2Connection> H2Pool::FindAwaitingSettings(size_t host) {
  if (host >= connections_.size()) return nullptr;
  for (const auto& connection : connections_[host]) {
    if (connection->AwaitingPeerSettings()) return connection;
  }
  return nullptr;
}

void H2Pool::Add(std::shared_ptr<H2Connection> connection) {
  const size_t host = connection->host_index();
  if (host < connections_.size()) connections_[host].push_back(std::move(connection));
}

int H2Pool::CloseIdleBefore(Clock::time_point cutoff) {
  int closed = 0;
  for (auto& list : connections_) {
    for (auto& connection : list) {
      if (!connection->closed() && connection->active_streams() == 0 &&
          connection->idle_since() < cutoff) {
        connection->Close();
        ++closed;
      }
    }
    std::erase_if(list, [](const auto& c) { return c->closed(); });
  }
  return closed;
}

Clock::time_point H2Pool::oldest_idle_since() const {
  Clock::time_point oldest = Clock::time_point::max();
  for (const auto& list : connections_) {
    for (const auto& connection : list) {
      if (!connection->closed() && connection->active_streams() == 0) {
        oldest = std::min(oldest, connection->idle_since());
      }
    }
  }
  return oldest;
}

H2Pool H2Pool::Remap(const std::vector<int>& new_index, size_t num_hosts) {
  H2Pool next(num_hosts);
  for (size_t old = 0; old < connections_.size(); ++old) {
    for (auto& connection : connections_[old]) {
      const int index = old < new_index.size() ? new_index[old] : -1;
      // A connection's host index is fixed: a host that left, or moved in the list, gets its
      // streams in flight finished here and new streams on fresh connections.
      if (index >= 0 && static_cast<size_t>(index) == old) {
        next.connections_[old].push_back(connection);
      } else {
        connection->Retire();
      }
    }
  }
  return next;
}

void H2Pool::CloseAll() {
  for (auto& list : connections_) {
    for (auto& connection : list) connection->Close();
  }
  connections_.clear();
}

}  // namespace proxy::upstream
