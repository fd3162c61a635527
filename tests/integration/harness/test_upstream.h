#pragma once

// TestUpstream: a real HTTP/1.1 origin server on 127.0.0.1 for weir's integration tests, with
// its own thread and asio io_context. Tests point weir's clusters at it and steer each response
// with request headers that weir forwards, so one upstream serves many cases:
//
//   (default)                       200, content-type text/plain, body = the upstream's name
//   x-test-status: N                status N (204 and 304 have no body)
//   x-test-body-size: N             an N-byte pattern body (PatternBody), generated on the fly
//                                   with backpressure: gigabytes in bounded memory
//   x-test-chunked: 1               chunked transfer-encoding (several chunks)
//   x-test-trailers: 1              with x-test-chunked: a trailer `x-test-trailer: done`
//   x-test-delay-ms: N              wait N ms (a timer) before the response head
//   x-test-read-body-after-ms: N    wait N ms before reading the request body (the sender's
//                                   socket buffers fill meanwhile)
//   x-test-close-before-headers: 1  close the connection (FIN) instead of responding
//   x-test-reset-before-headers: 1  reset the connection (RST) instead of responding
//   x-test-reset-after-headers: 1   send the head and half the body (at most 32 KiB), then RST
//   x-test-stall-body-ms: N         send the head and half the body, wait N ms, send the rest
//   x-test-echo: 1                  body = the request head as received + the request body
//   x-test-report-body: 1           body = "received=<bytes> fnv=<16 hex digits>" (FNV-1a)
//   x-test-connection-close: 1      respond with `connection: close`, then close
//   x-test-close-after-response: 1  respond as keep-alive, then close the connection anyway (what
//                                   an origin's idle timeout does to a pooled connection)
//   x-test-response-header: n: v    add the field `n: v` to the response (repeatable)
//
// Every response carries `x-upstream: <name>`. Keep-alive is the default; pipelined requests are
// answered in order; `Expect: 100-continue` gets a 100 before the body is read; HEAD gets the
// head a GET would get (with its content-length) and no body. Request bodies (content-length or
// chunked) are always read to the end, streamed: counted and checksummed, not stored (except
// for x-test-echo). A malformed request gets a 400 and a close.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/harness/http_common.h"

namespace weir_test {

// What the upstream received for one request.
struct UpstreamRequest {
  std::string raw_head;  // request line and fields as received, including the final CRLF CRLF
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.1"
  HeaderList headers;   // lower-cased names, wire order
  uint64_t body_size = 0;
  uint64_t body_fnv = kFnvOffsetBasis;  // FNV-1a of the (de-chunked) body
  bool body_complete = false;           // the whole body has been read
  uint64_t connection_id = 0;           // 1, 2, ... in accept order: tells reuse apart

  std::optional<std::string> Header(absl::string_view name) const {
    return FindHeader(headers, name);
  }
};

class TestUpstream {
 public:
  // Listens on 127.0.0.1:`port` (0: an ephemeral port) and starts serving. Null on failure
  // (e.g. the port is taken), with the reason on stderr.
  static std::unique_ptr<TestUpstream> Start(std::string name, uint16_t port = 0);

  ~TestUpstream();  // Stop()
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  const std::string& name() const { return name_; }
  uint16_t port() const { return port_; }

  // Closes the listener and every connection (peers see FIN, or RST if they had unread data),
  // then joins the thread. Idempotent. Afterwards new connections are refused.
  void Stop();

  // Counters, safe from any thread. A request is counted in requests_received() (and becomes
  // LastRequest()) when its head has been parsed, in requests_served() when the upstream starts
  // writing its response; both happen before the client can see any response byte.
  uint64_t connections_accepted() const { return connections_accepted_.load(); }
  uint64_t active_connections() const { return active_connections_.load(); }
  uint64_t requests_received() const { return requests_received_.load(); }
  uint64_t requests_served() const { return requests_served_.load(); }

  // The most recent request (empty if none); body fields are final once body_complete.
  UpstreamRequest LastRequest() const;
  uint64_t LastRequestBodySize() const { return LastRequest().body_size; }
  uint64_t LastRequestBodyChecksum() const { return LastRequest().body_fnv; }
  // The most recent requests, oldest first (at most the last 1000).
  std::vector<UpstreamRequest> RecentRequests() const;

 private:
  class Impl;
  class Connection;
  friend class Connection;
  explicit TestUpstream(std::string name);

  // Called on the upstream's thread: a new request head (returns its sequence number), and its
  // body when complete.
  uint64_t AddRequest(UpstreamRequest request);
  void CompleteRequestBody(uint64_t seq, uint64_t size, uint64_t fnv);

  std::string name_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::once_flag stopped_;

  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<uint64_t> active_connections_{0};
  std::atomic<uint64_t> requests_received_{0};
  std::atomic<uint64_t> requests_served_{0};

  mutable std::mutex mu_;
  uint64_t next_seq_ = 0;                                    // guarded by mu_
  std::deque<std::pair<uint64_t, UpstreamRequest>> recent_;  // guarded by mu_, oldest first

  // The asio state, kept out of this header. Last, so it is destroyed first: its connections
  // update the counters above when they go.
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir_test
