#include "tests/integration/harness/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weir_test {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxHead = 1 << 20;

// Milliseconds left until `deadline`, rounded up, for poll(); 0 when past.
int PollMs(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), 1 << 30));
}

std::string Preview(absl::string_view bytes) {
  constexpr size_t kMax = 300;
  std::string out = absl::CEscape(bytes.substr(0, kMax));
  if (bytes.size() > kMax) absl::StrAppend(&out, "...(", bytes.size(), " bytes)");
  return out;
}

}  // namespace

absl::StatusOr<RawConnection> RawConnection::Connect(uint16_t port, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  RawConnection conn(fd);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(
          absl::StrCat("connect to 127.0.0.1:", port, ": ", std::strerror(errno)));
    }
    pollfd p{fd, POLLOUT, 0};
    int n;
    do {
      n = ::poll(&p, 1, PollMs(deadline));
    } while (n < 0 && errno == EINTR && absl::Now() < deadline);
    if (n == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "connect to 127.0.0.1:", port, ": timed out after ", absl::FormatDuration(timeout)));
    }
    int error = 0;
    socklen_t len = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (n < 0 || error != 0) {
      return absl::UnavailableError(
          absl::StrCat("connect to 127.0.0.1:", port, ": ", std::strerror(n < 0 ? errno : error)));
    }
  }
  return conn;
}

RawConnection RawConnection::Adopt(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  return RawConnection(fd);
}

RawConnection::RawConnection(RawConnection&& other) noexcept { *this = std::move(other); }

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    buf_ = std::move(other.buf_);
    pos_ = std::exchange(other.pos_, 0);
    eof_ = other.eof_;
    reset_ = other.reset_;
    last_error_ = std::move(other.last_error_);
    other.buf_.clear();
  }
  return *this;
}

RawConnection::~RawConnection() { Close(); }

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawConnection::Reset() {
  if (fd_ < 0) return;
  linger lg{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  Close();
}

void RawConnection::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

uint16_t RawConnection::local_port() const {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

void RawConnection::Consume(size_t n) {
  pos_ += n;
  if (pos_ >= buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > kReadChunk && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);  // keep the buffer bounded while streaming
    pos_ = 0;
  }
}

RawConnection::FillResult RawConnection::Fill(absl::Time deadline) {
  if (fd_ < 0) {
    last_error_ = "connection is closed";
    return FillResult::kError;
  }
  if (reset_) return FillResult::kReset;
  if (eof_) return FillResult::kEof;
  char chunk[kReadChunk];
  // Bounded: each pass returns, or waits in poll() for less time than is left.
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      return FillResult::kData;
    }
    if (n == 0) {
      eof_ = true;
      return FillResult::kEof;
    }
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) {
      reset_ = true;
      return FillResult::kReset;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      last_error_ = std::strerror(errno);
      return FillResult::kError;
    }
    int ms = PollMs(deadline);
    if (ms == 0) return FillResult::kTimeout;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, ms);
    if (ready == 0) return FillResult::kTimeout;
    if (ready < 0 && errno != EINTR) {
      last_error_ = std::strerror(errno);
      return FillResult::kError;
    }
  }
}

absl::Status RawConnection::Send(absl::string_view bytes, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (fd_ < 0) return absl::FailedPreconditionError("connection is closed");
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      return absl::AbortedError(absl::StrCat("send: ", std::strerror(errno), " after ", sent,
                                             " of ", bytes.size(), " bytes"));
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::InternalError(absl::StrCat("send: ", std::strerror(errno)));
    }
    int ms = PollMs(deadline);
    pollfd p{fd_, POLLOUT, 0};
    if (ms == 0 || ::poll(&p, 1, ms) == 0) {
      return absl::DeadlineExceededError(absl::StrCat("send: only ", sent, " of ", bytes.size(),
                                                      " bytes written within ",
                                                      absl::FormatDuration(timeout)));
    }
  }
  return absl::OkStatus();
}

HttpResult RawConnection::ReadResponse(absl::Duration timeout, bool head_request) {
  ReadOptions options;
  options.timeout = timeout;
  options.head_request = head_request;
  return ReadResponse(options);
}

HttpResult RawConnection::ReadResponse(const ReadOptions& options) {
  const absl::Time deadline = absl::Now() + options.timeout;
  HttpResponse response;
  // Reads more; an error status says why not (`what` names the stage for the message).
  auto more = [&](absl::string_view what) -> absl::Status {
    switch (Fill(deadline)) {
      case FillResult::kData:
        if (absl::Now() > deadline) break;
        return absl::OkStatus();
      case FillResult::kEof:
        if (what == "head" && buffered().empty()) {
          return absl::UnavailableError("connection closed by peer before a response");
        }
        return absl::DataLossError(absl::StrCat("connection closed by peer during the ", what,
                                                "; head so far: ", Preview(response.raw_head),
                                                " body bytes: ", response.body_size,
                                                " unparsed: ", Preview(buffered())));
      case FillResult::kReset:
        return absl::AbortedError(absl::StrCat("connection reset by peer during the ", what,
                                               " (body bytes so far: ", response.body_size, ")"));
      case FillResult::kTimeout:
        break;
      case FillResult::kError:
        return absl::InternalError(absl::StrCat("recv: ", last_error_));
    }
    return absl::DeadlineExceededError(
        absl::StrCat("no complete response within ", absl::FormatDuration(options.timeout),
                     " (reading the ", what, "; head: ", Preview(response.raw_head),
                     " body bytes: ", response.body_size, " unparsed: ", Preview(buffered()), ")"));
  };

  // The head.
  size_t head_end;
  while ((head_end = buffered().find("\r\n\r\n")) == absl::string_view::npos) {
    if (buffered().size() > kMaxHead) {
      return absl::InvalidArgumentError("response head larger than 1 MiB");
    }
    absl::Status status = more("head");
    if (!status.ok()) return status;
  }
  response.raw_head = std::string(buffered().substr(0, head_end + 4));
  absl::StatusOr<ParsedHead> head = ParseHead(buffered().substr(0, head_end));
  Consume(head_end + 4);
  if (!head.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed response head (", head.status().message(), "): ", Preview(response.raw_head)));
  }
  response.headers = std::move(head->headers);
  {
    absl::string_view line = head->start_line;
    size_t sp = line.find(' ');
    absl::string_view code = sp == absl::string_view::npos ? "" : line.substr(sp + 1, 3);
    if (sp == absl::string_view::npos || !absl::StartsWith(line, "HTTP/1.") || code.size() != 3 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (line.size() > sp + 4 && line[sp + 4] != ' ')) {
      return absl::InvalidArgumentError(absl::StrCat("malformed status line: ", Preview(line)));
    }
    response.version = std::string(line.substr(0, sp));
    response.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    response.reason = line.size() > sp + 5 ? std::string(line.substr(sp + 5)) : "";
  }
  if (response.status < 200) return response;  // 1xx: no body, the final response follows

  // The body.
  bool cancelled = false;
  bool too_big = false;
  auto deliver = [&](absl::string_view data) {
    if (data.empty() || cancelled || too_big) return;
    response.body_size += data.size();
    if (options.body_sink) {
      if (!options.body_sink(data)) cancelled = true;
    } else if (response.body.size() + data.size() > options.max_stored_body) {
      too_big = true;
    } else {
      response.body.append(data.data(), data.size());
    }
  };
  auto check_sink = [&]() -> absl::Status {
    if (cancelled) return absl::CancelledError("the body sink stopped the read");
    if (too_big) {
      return absl::ResourceExhaustedError(
          absl::StrCat("body over max_stored_body (", options.max_stored_body, " bytes)"));
    }
    return absl::OkStatus();
  };

  bool until_close = false;
  bool no_body = options.head_request || response.status == 204 || response.status == 304;
  if (!no_body) {
    absl::StatusOr<BodyFraming> framing = FramingFromHeaders(response.headers, false);
    if (!framing.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(framing.status().message(), " in ", Preview(response.raw_head)));
    }
    switch (framing->kind) {
      case BodyFraming::Kind::kNone:
        break;
      case BodyFraming::Kind::kContentLength: {
        uint64_t remaining = framing->length;
        while (remaining > 0) {
          if (buffered().empty()) {
            absl::Status status = more("body");
            if (!status.ok()) return status;
          }
          size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, buffered().size()));
          deliver(buffered().substr(0, n));
          Consume(n);
          remaining -= n;
          if (absl::Status s = check_sink(); !s.ok()) return s;
        }
        break;
      }
      case BodyFraming::Kind::kChunked: {
        response.chunked = true;
        ChunkedDecoder decoder;
        // Bounded by the deadline: every pass consumes data or waits for more.
        for (;;) {
          Consume(decoder.Feed(buffered(), deliver));
          if (absl::Status s = check_sink(); !s.ok()) return s;
          if (decoder.failed()) {
            return absl::InvalidArgumentError(absl::StrCat("bad chunked body: ", decoder.error()));
          }
          if (decoder.done()) break;
          absl::Status status = more("chunked body");
          if (!status.ok()) return status;
        }
        response.trailers = decoder.trailers();
        response.chunk_count = decoder.chunk_count();
        break;
      }
      case BodyFraming::Kind::kUntilClose: {
        until_close = true;
        for (;;) {
          deliver(buffered());
          Consume(buffered().size());
          if (absl::Status s = check_sink(); !s.ok()) return s;
          FillResult r = Fill(deadline);
          if (r == FillResult::kEof) break;
          if (r == FillResult::kData && absl::Now() <= deadline) continue;
          if (r == FillResult::kReset) {
            return absl::AbortedError(
                absl::StrCat("connection reset by peer during a "
                             "close-delimited body after ",
                             response.body_size, " bytes"));
          }
          return absl::DeadlineExceededError(absl::StrCat(
              "close-delimited body not ended within ", absl::FormatDuration(options.timeout), " (",
              response.body_size, " bytes so far)"));
        }
        break;
      }
    }
  }

  // Did the peer close after this response?
  if (until_close) {
    response.connection_closed_after = true;
  } else {
    bool says_close = HeaderHasToken(response.headers, "connection", "close") ||
                      (response.version == "HTTP/1.0" &&
                       !HeaderHasToken(response.headers, "connection", "keep-alive"));
    if (says_close) {
      // Wait for the close it announced (bounded by the deadline).
      while (!eof_ && !reset_) {
        FillResult r = Fill(deadline);
        if (r == FillResult::kTimeout || r == FillResult::kError) break;
        if (r == FillResult::kData && absl::Now() > deadline) break;
      }
    } else if (buffered().empty()) {
      Fill(absl::Now());  // only what is already there
    }
    response.connection_closed_after = (eof_ || reset_) && buffered().empty();
  }
  return response;
}

absl::StatusOr<std::string> RawConnection::ReadUntilClosed(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    FillResult r = Fill(deadline);
    if (r == FillResult::kEof) break;
    if (r == FillResult::kData && absl::Now() <= deadline) continue;
    if (r == FillResult::kReset) {
      return absl::AbortedError(absl::StrCat("connection reset by peer after ", buffered().size(),
                                             " bytes: ", Preview(buffered())));
    }
    if (r == FillResult::kError) return absl::InternalError(absl::StrCat("recv: ", last_error_));
    return absl::DeadlineExceededError(absl::StrCat("peer did not close within ",
                                                    absl::FormatDuration(timeout),
                                                    "; received: ", Preview(buffered())));
  }
  std::string all(buffered());
  Consume(buf_.size() - pos_);
  return all;
}

bool RawConnection::IsClosedByPeer(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (eof_ || reset_) return true;
    FillResult r = Fill(deadline);
    if (r == FillResult::kEof || r == FillResult::kReset || r == FillResult::kError) return true;
    if (r == FillResult::kTimeout || absl::Now() > deadline) return false;
  }
}

std::string BuildRequest(absl::string_view method, absl::string_view target,
                         const HeaderList& headers, absl::string_view body) {
  std::string out = absl::StrCat(method, " ", target, " HTTP/1.1\r\n");
  if (!FindHeader(headers, "host").has_value()) absl::StrAppend(&out, "host: localhost\r\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  if (!body.empty() && !FindHeader(headers, "content-length").has_value() &&
      !FindHeader(headers, "transfer-encoding").has_value()) {
    absl::StrAppend(&out, "content-length: ", body.size(), "\r\n");
  }
  absl::StrAppend(&out, "\r\n", body);
  return out;
}

HttpResult HttpRequest(uint16_t port, absl::string_view method, absl::string_view target,
                       const HeaderList& headers, absl::string_view body, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<RawConnection> conn = RawConnection::Connect(port, timeout);
  if (!conn.ok()) return conn.status();
  absl::Status sent = conn->Send(BuildRequest(method, target, headers, body), timeout);
  if (!sent.ok()) return sent;
  // Skip interim 1xx responses (bounded: at most a few are legal before the final one).
  for (int i = 0; i < 8; ++i) {
    HttpResult response = conn->ReadResponse(deadline - absl::Now(), method == "HEAD");
    if (!response.ok() || response->status >= 200) return response;
  }
  return absl::InvalidArgumentError("more than 8 interim (1xx) responses");
}

HttpResult HttpGet(uint16_t port, absl::string_view target, const HeaderList& headers,
                   absl::Duration timeout) {
  return HttpRequest(port, "GET", target, headers, "", timeout);
}

}  // namespace weir_test
