#include "tests/integration/harness/test_upstream.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/asio/buffer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"

namespace weir_test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxRequestHead = 64 * 1024;
constexpr size_t kMaxEchoBody = 64 << 20;
constexpr size_t kWriteChunk = 64 * 1024;
constexpr size_t kMaxResetAfter = 32 * 1024;
constexpr size_t kMaxRecent = 1000;
// A lingering close waits this long for the peer's FIN, so that unread input does not turn our
// close into a RST.
constexpr auto kLingerTimeout = std::chrono::seconds(2);

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view("!#$%&'*+-.^_`|~").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// A non-negative integer test header, or `fallback`.
uint64_t IntHeader(const HeaderList& headers, absl::string_view name, uint64_t fallback) {
  std::optional<std::string> v = FindHeader(headers, name);
  uint64_t n = 0;
  if (!v.has_value() || !absl::SimpleAtoi(*v, &n)) return fallback;
  return n;
}

bool FlagHeader(const HeaderList& headers, absl::string_view name) {
  std::optional<std::string> v = FindHeader(headers, name);
  return v.has_value() && (*v == "1" || absl::EqualsIgnoreCase(*v, "true"));
}

}  // namespace

class TestUpstream::Impl {
 public:
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  bool stopping = false;  // io thread only
  uint64_t next_connection_id = 0;
  std::vector<std::weak_ptr<Connection>> connections;  // io thread only
  std::promise<void> finished;                         // set when the io thread's run() returns
  std::future<void> finished_future = finished.get_future();
};

// One accepted connection: read a request (head, then body), respond, repeat. Everything runs
// on the upstream's single io thread, so there is no locking here; every handler first checks
// `closed_`, so nothing new starts once Stop() has closed the socket.
class TestUpstream::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(TestUpstream* upstream, tcp::socket socket, uint64_t id)
      : up_(upstream), socket_(std::move(socket)), timer_(socket_.get_executor()), id_(id) {
    up_->active_connections_.fetch_add(1);
  }
  ~Connection() { up_->active_connections_.fetch_sub(1); }

  void Start() {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    ReadHead();
  }

  // From Stop(): close now; pending handlers then see operation_aborted.
  void Shutdown() {
    closed_ = true;
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
  }

 private:
  // ---- reading ----

  void ReadMore(void (Connection::*next)()) {
    if (closed_) return;
    socket_.async_read_some(asio::buffer(rbuf_),
                            [self = shared_from_this(), next](error_code ec, size_t n) {
                              if (self->closed_) return;
                              if (ec) {
                                self->CloseNow();
                                return;
                              }
                              self->in_.append(self->rbuf_.data(), n);
                              (self.get()->*next)();
                            });
  }

  void ReadHead() {
    if (closed_) return;
    // Tolerate empty lines before a request line (RFC 9112 2.2).
    size_t skip = 0;
    while (in_.compare(skip, 2, "\r\n") == 0) skip += 2;
    if (skip > 0) in_.erase(0, skip);
    size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (in_.size() > kMaxRequestHead) {
        RespondError(431, "request head too large");
        return;
      }
      ReadMore(&Connection::ReadHead);
      return;
    }
    req_ = UpstreamRequest();
    req_.raw_head = in_.substr(0, end + 4);
    req_.connection_id = id_;
    absl::StatusOr<ParsedHead> head = ParseHead(absl::string_view(in_).substr(0, end));
    in_.erase(0, end + 4);
    if (!head.ok()) {
      RespondError(400, head.status().message());
      return;
    }
    std::vector<std::string> parts = absl::StrSplit(head->start_line, ' ');
    if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty() ||
        (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0")) {
      RespondError(400, absl::StrCat("bad request line: ", head->start_line));
      return;
    }
    req_.method = parts[0];
    req_.target = parts[1];
    req_.version = parts[2];
    req_.headers = std::move(head->headers);
    absl::StatusOr<BodyFraming> framing = FramingFromHeaders(req_.headers, true);
    if (!framing.ok()) {
      RespondError(400, framing.status().message());
      return;
    }
    framing_ = *framing;
    body_remaining_ = framing_.length;
    decoder_ = ChunkedDecoder();
    echo_ = FlagHeader(req_.headers, "x-test-echo");
    echo_body_.clear();
    seq_ = up_->AddRequest(req_);

    bool has_body = framing_.kind == BodyFraming::Kind::kChunked ||
                    (framing_.kind == BodyFraming::Kind::kContentLength && framing_.length > 0);
    if (has_body && HeaderHasToken(req_.headers, "expect", "100-continue")) {
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (self->closed_) return;
                          if (ec) return self->CloseNow();
                          self->ReadBody();
                        });
      return;
    }
    const uint64_t read_delay_ms = IntHeader(req_.headers, "x-test-read-body-after-ms", 0);
    if (has_body && read_delay_ms > 0) {
      timer_.expires_after(std::chrono::milliseconds(read_delay_ms));
      timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (ec || self->closed_) return;
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  static constexpr absl::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

  void FoldBody(absl::string_view data) {
    req_.body_size += data.size();
    req_.body_fnv = Fnv1a(data, req_.body_fnv);
    if (echo_ && echo_body_.size() + data.size() <= kMaxEchoBody) {
      echo_body_.append(data.data(), data.size());
    }
  }

  void ReadBody() {
    if (closed_) return;
    switch (framing_.kind) {
      case BodyFraming::Kind::kNone:
      case BodyFraming::Kind::kUntilClose:  // not for requests
        break;
      case BodyFraming::Kind::kContentLength: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(body_remaining_, in_.size()));
        FoldBody(absl::string_view(in_).substr(0, n));
        in_.erase(0, n);
        body_remaining_ -= n;
        if (body_remaining_ > 0) return ReadMore(&Connection::ReadBody);
        break;
      }
      case BodyFraming::Kind::kChunked: {
        size_t used = decoder_.Feed(in_, [this](absl::string_view d) { FoldBody(d); });
        in_.erase(0, used);
        if (decoder_.failed()) return RespondError(400, decoder_.error());
        if (!decoder_.done()) return ReadMore(&Connection::ReadBody);
        break;
      }
    }
    req_.body_complete = true;
    up_->CompleteRequestBody(seq_, req_.body_size, req_.body_fnv);
    Respond();
  }

  // ---- responding ----

  void Respond() {
    const HeaderList& h = req_.headers;
    if (FlagHeader(h, "x-test-close-before-headers")) return LingeringClose();
    if (FlagHeader(h, "x-test-reset-before-headers")) return ResetNow();

    int status = static_cast<int>(IntHeader(h, "x-test-status", 200));
    if (status < 200 || status > 999) status = 200;
    is_head_ = req_.method == "HEAD";
    chunked_ = FlagHeader(h, "x-test-chunked");
    trailers_ = FlagHeader(h, "x-test-trailers");
    pattern_ = false;
    small_body_.clear();
    if (echo_) {
      small_body_ = req_.raw_head + echo_body_;
    } else if (FlagHeader(h, "x-test-report-body")) {
      small_body_ = absl::StrCat("received=", req_.body_size, " fnv=", FnvHex(req_.body_fnv));
    } else if (FindHeader(h, "x-test-body-size").has_value()) {
      pattern_ = true;
    } else {
      small_body_ = up_->name_;
    }
    bool no_body = status == 204 || status == 304;
    body_total_ = no_body ? 0 : pattern_ ? IntHeader(h, "x-test-body-size", 0) : small_body_.size();
    body_sent_ = 0;
    if (no_body) chunked_ = false;
    stall_ms_ = IntHeader(h, "x-test-stall-body-ms", 0);
    stall_at_ = body_total_ / 2;
    reset_after_ = FlagHeader(h, "x-test-reset-after-headers");
    close_after_ = FlagHeader(h, "x-test-close-after-response");
    reset_at_ = std::min<uint64_t>(body_total_ / 2, kMaxResetAfter);

    bool http10 = req_.version == "HTTP/1.0";
    keep_alive_ = !HeaderHasToken(h, "connection", "close") &&
                  !FlagHeader(h, "x-test-connection-close") &&
                  (!http10 || HeaderHasToken(h, "connection", "keep-alive"));

    head_out_ = absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n",
                             "content-type: text/plain\r\n", "x-upstream: ", up_->name_, "\r\n");
    for (const std::string& field : FindHeaders(h, "x-test-response-header")) {
      size_t colon = field.find(':');
      if (colon == std::string::npos || colon == 0) continue;
      absl::StrAppend(&head_out_, absl::StripAsciiWhitespace(field.substr(0, colon)), ": ",
                      absl::StripAsciiWhitespace(field.substr(colon + 1)), "\r\n");
    }
    if (chunked_) {
      absl::StrAppend(&head_out_, "transfer-encoding: chunked\r\n");
    } else if (status != 204 && status != 304) {
      absl::StrAppend(&head_out_, "content-length: ", body_total_, "\r\n");
    }
    if (!keep_alive_) {
      absl::StrAppend(&head_out_, "connection: close\r\n");
    } else if (http10) {
      absl::StrAppend(&head_out_, "connection: keep-alive\r\n");
    }
    absl::StrAppend(&head_out_, "\r\n");

    uint64_t delay_ms = IntHeader(h, "x-test-delay-ms", 0);
    if (delay_ms == 0) return WriteHead();
    timer_.expires_after(std::chrono::milliseconds(delay_ms));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      self->WriteHead();
    });
  }

  void WriteHead() {
    if (closed_) return;
    up_->requests_served_.fetch_add(1);
    asio::async_write(socket_, asio::buffer(head_out_),
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (self->closed_) return;
                        if (ec) return self->CloseNow();
                        if (self->is_head_ || (self->body_total_ == 0 && !self->chunked_)) {
                          return self->Finish();
                        }
                        self->WriteBody();
                      });
  }

  // Writes the body one bounded piece at a time, each only after the previous one was taken by
  // the socket: that is the backpressure that keeps huge bodies in bounded memory.
  void WriteBody() {
    if (closed_) return;
    if (stall_ms_ > 0 && body_sent_ == stall_at_) {
      uint64_t ms = std::exchange(stall_ms_, 0);
      timer_.expires_after(std::chrono::milliseconds(ms));
      timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (ec || self->closed_) return;
        self->WriteBody();
      });
      return;
    }
    if (reset_after_ && body_sent_ == reset_at_) {
      drain_polls_ = 0;
      return ResetWhenDelivered();
    }
    if (body_sent_ == body_total_) {
      if (!chunked_) return Finish();
      last_chunk_ = trailers_ ? "0\r\nx-test-trailer: done\r\n\r\n" : "0\r\n\r\n";
      asio::async_write(socket_, asio::buffer(last_chunk_),
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (self->closed_) return;
                          if (ec) return self->CloseNow();
                          self->Finish();
                        });
      return;
    }
    uint64_t limit = body_total_ - body_sent_;
    if (stall_ms_ > 0 && body_sent_ < stall_at_) limit = std::min(limit, stall_at_ - body_sent_);
    if (reset_after_ && body_sent_ < reset_at_) limit = std::min(limit, reset_at_ - body_sent_);
    size_t piece = static_cast<size_t>(std::min<uint64_t>(limit, kWriteChunk));
    if (chunked_) {
      // Several chunks even for tiny bodies: a third of the body each.
      piece = std::min<size_t>(piece, std::max<uint64_t>(1, (body_total_ + 2) / 3));
    }
    absl::string_view data = pattern_ ? PatternSlice(body_sent_, piece)
                                      : absl::string_view(small_body_).substr(body_sent_, piece);
    piece = data.size();
    auto done = [self = shared_from_this(), piece](error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->CloseNow();
      self->body_sent_ += piece;
      self->WriteBody();
    };
    if (chunked_) {
      chunk_head_ = absl::StrCat(absl::Hex(piece), "\r\n");
      std::array<asio::const_buffer, 3> buffers = {asio::buffer(chunk_head_),
                                                   asio::buffer(data.data(), data.size()),
                                                   asio::buffer("\r\n", 2)};
      asio::async_write(socket_, buffers, std::move(done));
    } else {
      asio::async_write(socket_, asio::buffer(data.data(), data.size()), std::move(done));
    }
  }

  void Finish() {
    if (closed_) return;
    if (!keep_alive_) return LingeringClose();
    if (close_after_) return CloseNow();  // an idle keep-alive connection the origin dropped
    ReadHead();  // the next (maybe already buffered, pipelined) request
  }

  void RespondError(int status, absl::string_view why) {
    std::string body = absl::StrCat(why, "\n");
    head_out_ =
        absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status),
                     "\r\ncontent-type: text/plain\r\nx-upstream: ", up_->name_,
                     "\r\ncontent-length: ", body.size(), "\r\nconnection: close\r\n\r\n", body);
    is_head_ = true;  // the body is already in head_out_
    body_total_ = 0;
    chunked_ = false;
    keep_alive_ = false;
    WriteHead();
  }

  // ---- closing ----

  // FIN now, then read and discard until the peer closes (or a timeout), then close.
  void LingeringClose() {
    if (closed_) return;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    timer_.expires_after(kLingerTimeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->CloseNow();
    });
    Discard();
  }

  void Discard() {
    if (closed_) return;
    socket_.async_read_some(asio::buffer(rbuf_),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (self->closed_) return;
                              if (ec) return self->CloseNow();
                              self->Discard();
                            });
  }

  // RST once the peer has acknowledged everything sent (SIOCOUTQ == 0), so that it really
  // receives the partial response before the reset; polled every ms, at most ~2 s.
  void ResetWhenDelivered() {
    if (closed_) return;
    int unsent = 0;
    if (::ioctl(socket_.native_handle(), SIOCOUTQ, &unsent) != 0 || unsent == 0 ||
        ++drain_polls_ > 2000) {
      return ResetNow();
    }
    timer_.expires_after(std::chrono::milliseconds(1));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      self->ResetWhenDelivered();
    });
  }

  void ResetNow() {
    if (closed_) return;
    error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    CloseNow();
  }

  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
  }

  TestUpstream* up_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  uint64_t id_;
  bool closed_ = false;
  std::array<char, kReadChunk> rbuf_;
  std::string in_;  // received, not yet parsed

  // The request being read.
  UpstreamRequest req_;
  uint64_t seq_ = 0;
  BodyFraming framing_;
  uint64_t body_remaining_ = 0;
  ChunkedDecoder decoder_;
  bool echo_ = false;
  std::string echo_body_;

  // The response being written.
  std::string head_out_;
  std::string small_body_;
  std::string chunk_head_;
  std::string last_chunk_;
  bool is_head_ = false;
  bool chunked_ = false;
  bool trailers_ = false;
  bool pattern_ = false;
  bool keep_alive_ = true;
  uint64_t body_total_ = 0;
  uint64_t body_sent_ = 0;
  uint64_t stall_ms_ = 0;
  uint64_t stall_at_ = 0;
  bool reset_after_ = false;
  bool close_after_ = false;
  uint64_t reset_at_ = 0;
  int drain_polls_ = 0;
};

TestUpstream::TestUpstream(std::string name)
    : name_(std::move(name)), impl_(std::make_unique<Impl>()) {}

TestUpstream::~TestUpstream() { Stop(); }

std::unique_ptr<TestUpstream> TestUpstream::Start(std::string name, uint16_t port) {
  std::unique_ptr<TestUpstream> up(new TestUpstream(std::move(name)));
  Impl& impl = *up->impl_;
  error_code ec;
  tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) up->port_ = impl.acceptor.local_endpoint(ec).port();
  if (ec) {
    std::fprintf(stderr, "TestUpstream %s: listen on 127.0.0.1:%u: %s\n", up->name_.c_str(), port,
                 ec.message().c_str());
    std::call_once(up->stopped_, [] {});  // nothing to stop
    return nullptr;
  }
  TestUpstream* self = up.get();
  // The accept loop; it ends when Stop() closes the acceptor.
  struct Acceptor {
    TestUpstream* up;
    void operator()(error_code ec, tcp::socket socket) const {
      Impl& impl = *up->impl_;
      if (impl.stopping) return;
      if (!ec) {
        up->connections_accepted_.fetch_add(1);
        auto conn = std::make_shared<Connection>(up, std::move(socket), ++impl.next_connection_id);
        std::erase_if(impl.connections, [](const auto& w) { return w.expired(); });
        impl.connections.push_back(conn);
        conn->Start();
      }
      impl.acceptor.async_accept(*this);
    }
  };
  impl.acceptor.async_accept(Acceptor{self});
  up->thread_ = std::thread([impl = up->impl_.get()] {
    impl->io.run();
    impl->finished.set_value();
  });
  return up;
}

void TestUpstream::Stop() {
  std::call_once(stopped_, [this] {
    Impl& impl = *impl_;
    asio::post(impl.io, [&impl] {
      impl.stopping = true;
      error_code ec;
      impl.acceptor.close(ec);
      for (const auto& weak : impl.connections) {
        if (auto conn = weak.lock()) conn->Shutdown();
      }
    });
    // With everything closed, run() returns once the aborted handlers have run. A backstop in
    // case something is still pending: stop the loop after a bound.
    if (impl.finished_future.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
      std::fprintf(stderr, "TestUpstream %s: io thread still busy after Stop(); stopping it\n",
                   name_.c_str());
      impl.io.stop();
    }
    if (thread_.joinable()) thread_.join();
  });
}

uint64_t TestUpstream::AddRequest(UpstreamRequest request) {
  requests_received_.fetch_add(1);
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t seq = ++next_seq_;
  recent_.emplace_back(seq, std::move(request));
  if (recent_.size() > kMaxRecent) recent_.pop_front();
  return seq;
}

void TestUpstream::CompleteRequestBody(uint64_t seq, uint64_t size, uint64_t fnv) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
    if (it->first != seq) continue;
    it->second.body_size = size;
    it->second.body_fnv = fnv;
    it->second.body_complete = true;
    return;
  }
}

UpstreamRequest TestUpstream::LastRequest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return recent_.empty() ? UpstreamRequest() : recent_.back().second;
}

std::vector<UpstreamRequest> TestUpstream::RecentRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<UpstreamRequest> out;
  out.reserve(recent_.size());
  for (const auto& [seq, request] : recent_) out.push_back(request);
  return out;
}

}  // namespace weir_test
