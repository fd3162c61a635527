#pragma once

// A raw, blocking HTTP/1.1 client for integration tests: one TCP connection on which a test
// writes exactly the bytes it wants (pipelined requests, malformed requests, half a request)
// and reads responses back with a strict parser and a deadline on every wait. It is deliberately
// not a "good" client: it never retries, never reconnects and never fixes up what it is given,
// so what a test observes is what weir did.
//
// Errors (absl::Status codes), so that tests can tell the failure modes apart:
//   DeadlineExceeded  the timeout passed first
//   Unavailable       the peer closed (FIN) before the first byte of a response
//   DataLoss          the peer closed (FIN) in the middle of a response
//   Aborted           the connection was reset (RST), before or during a response
//   InvalidArgument   the bytes received are not valid HTTP/1.1
//   Cancelled         a body sink asked to stop
// Use IsResetError() and friends rather than comparing codes by hand.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/integration/harness/http_common.h"

namespace weir_test {

inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(5);

struct HttpResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  HeaderList headers;      // lower-cased names, wire order
  std::string body;        // decoded (de-chunked); empty when a body sink was used
  uint64_t body_size = 0;  // decoded body bytes, also counted when a sink was used
  bool chunked = false;
  int chunk_count = 0;   // data chunks received, for chunked bodies
  HeaderList trailers;   // chunked trailers
  std::string raw_head;  // status line and fields as received, including the final CRLF CRLF
  // The peer closed the connection after this response: the body was delimited by the close,
  // or the response said `connection: close` and the close then arrived (ReadResponse waits for
  // it, within the timeout), or a close was already pending when the response ended.
  bool connection_closed_after = false;

  std::optional<std::string> Header(absl::string_view name) const {
    return FindHeader(headers, name);
  }
  std::vector<std::string> Headers(absl::string_view name) const {
    return FindHeaders(headers, name);
  }
  bool HasHeader(absl::string_view name) const { return Header(name).has_value(); }
};

struct ReadOptions {
  absl::Duration timeout = kDefaultTimeout;  // for the whole response
  bool head_request = false;                 // the request was HEAD: no body follows
  // When set, body bytes go here instead of into HttpResponse::body (for huge bodies); return
  // false to stop reading (ReadResponse then fails with Cancelled).
  std::function<bool(absl::string_view)> body_sink;
  uint64_t max_stored_body = uint64_t{512} << 20;  // without a sink, a bigger body is an error
};

// What the harness returns for an HTTP exchange that may fail.
using HttpResult = absl::StatusOr<HttpResponse>;

// One client TCP connection to 127.0.0.1. Movable, not copyable; the destructor closes it.
class RawConnection {
 public:
  static absl::StatusOr<RawConnection> Connect(uint16_t port,
                                               absl::Duration timeout = kDefaultTimeout);
  // Takes ownership of a connected stream socket (e.g. one end of a socketpair, in tests).
  static RawConnection Adopt(int fd);

  RawConnection() = default;  // not connected: every call fails
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection();

  // Writes all of `bytes` (non-blocking writes and poll, until done or the timeout).
  absl::Status Send(absl::string_view bytes, absl::Duration timeout = kDefaultTimeout);

  // Reads one response. 1xx responses (100 Continue) are returned on their own: call again for
  // the final response. Bytes after the response (pipelining) stay buffered for the next call.
  HttpResult ReadResponse(absl::Duration timeout = kDefaultTimeout, bool head_request = false);
  HttpResult ReadResponse(const ReadOptions& options);

  // Everything until the peer closes (including anything already buffered). A reset after some
  // data is returned as Aborted, with the bytes in the message's length only.
  absl::StatusOr<std::string> ReadUntilClosed(absl::Duration timeout = kDefaultTimeout);

  // Whether the peer closes (FIN or RST) within the timeout. Data that arrives meanwhile is
  // kept for later reads. Returns false if the connection is still open at the deadline.
  bool IsClosedByPeer(absl::Duration timeout);

  // Half-close (shutdown SHUT_WR): sends FIN, keeps reading possible.
  void ShutdownWrite();
  // Closes with SO_LINGER 0, so the peer sees a RST.
  void Reset();
  // Closes normally (FIN). Idempotent; the destructor does it.
  void Close();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // The local (ephemeral) port, e.g. to match x-forwarded-for / access logs.
  uint16_t local_port() const;
  // Bytes received but not consumed by a read call yet.
  absl::string_view buffered() const { return absl::string_view(buf_).substr(pos_); }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}

  enum class FillResult { kData, kEof, kReset, kTimeout, kError };
  // Reads more into buf_ (waiting until `deadline`).
  FillResult Fill(absl::Time deadline);
  void Consume(size_t n);

  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;    // FIN seen
  bool reset_ = false;  // RST seen
  std::string last_error_;
};

// "METHOD target HTTP/1.1" with the given fields and body; adds `host: localhost` unless a host
// field is given, and content-length when there is a body and no framing field is given.
std::string BuildRequest(absl::string_view method, absl::string_view target,
                         const HeaderList& headers = {}, absl::string_view body = "");

// One request on a new connection (closed afterwards). `host: localhost` unless given.
HttpResult HttpGet(uint16_t port, absl::string_view target, const HeaderList& headers = {},
                   absl::Duration timeout = kDefaultTimeout);
HttpResult HttpRequest(uint16_t port, absl::string_view method, absl::string_view target,
                       const HeaderList& headers = {}, absl::string_view body = "",
                       absl::Duration timeout = kDefaultTimeout);

inline bool IsResetError(const absl::Status& s) { return absl::IsAborted(s); }
inline bool IsClosedBeforeResponse(const absl::Status& s) { return absl::IsUnavailable(s); }
inline bool IsClosedMidResponse(const absl::Status& s) { return absl::IsDataLoss(s); }

}  // namespace weir_test
