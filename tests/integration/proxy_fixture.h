#pragma once

// Shared setup for the data-plane integration tests: two test upstreams ("v1", "v2") and a weir
// process whose listener "ingress" routes test paths to them, to a closed port, to a listener
// that never accepts (connect timeout), to an unknown cluster, and to local replies.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/test_upstream.h"

namespace weir_test {

// Routes:
//   /split      weighted v1 90 / v2 10, pinned by x-canary-pin
//   /v1, /v2    straight to one version;  /slow: v1 with a 500 ms route timeout
//   /rewrite/   v1 with prefix_rewrite "/rewritten/" and host_rewrite_literal
//   /refused    a cluster on a closed port;  /blackhole: one whose connect times out (300 ms)
//   /unknown    a cluster nobody defined (503)
//   /direct     direct_response 200 "hello";  /redirect: 301 to https
//   anything else: no route (404)
inline constexpr char kProxyConfig[] = R"(
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
static_resources:
  listeners:
  - name: ingress
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          ${HCM_EXTRA}
          route_config:
            name: test_routes
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: /split}
                route:
                  weighted_clusters:
                    header_name: x-canary-pin
                    clusters: [{name: v1, weight: 90}, {name: v2, weight: 10}]
              - match: {prefix: /v1}
                route: {cluster: v1}
              - match: {prefix: /v2}
                route: {cluster: v2}
              - match: {prefix: /slow}
                route: {cluster: v1, timeout: 0.5s}
              - match: {prefix: /rewrite/}
                route: {cluster: v1, prefix_rewrite: /rewritten/, host_rewrite_literal: backend.internal}
              - match: {prefix: /refused}
                route: {cluster: refused}
              - match: {prefix: /blackhole}
                route: {cluster: blackhole}
              - match: {prefix: /unknown}
                route: {cluster: nope}
              - match: {prefix: /direct}
                direct_response: {status: 200, body: {inline_string: hello}}
              - match: {prefix: /redirect}
                redirect: {https_redirect: true}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: v1
    connect_timeout: 1s
    ${V1_EXTRA}
    load_assignment:
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${V1_PORT}}}}}]}]
  - name: v2
    connect_timeout: 1s
    load_assignment:
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${V2_PORT}}}}}]}]
  - name: refused
    connect_timeout: 1s
    load_assignment:
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${REFUSED_PORT}}}}}]}]
  - name: blackhole
    connect_timeout: 0.3s
    load_assignment:
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${BLACKHOLE_PORT}}}}}]}]
)";

// A port with nothing listening: bind, note the port, close.
inline uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A listener whose accept queue is full and never drained: new SYNs are dropped, so a connect
// to it times out, all on loopback.
class Blackhole {
 public:
  Blackhole() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listener_, 0);
    socklen_t length = sizeof(addr);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    // Fill the (backlog 0 → 1 entry) accept queue; these connects complete at once.
    for (int i = 0; i < 4; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      fillers_.push_back(fd);
    }
  }
  ~Blackhole() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  int listener_;
  uint16_t port_;
  std::vector<int> fillers_;
};

class ProxyTest : public ::testing::TestWithParam<int> {
 protected:
  void StartProxy(const std::string& hcm_extra = "", std::vector<std::string> args = {},
                  StartOptions options = {}) {
    v1_ = TestUpstream::Start("v1");
    v2_ = TestUpstream::Start("v2");
    ASSERT_NE(v1_, nullptr);
    ASSERT_NE(v2_, nullptr);
    options.concurrency = GetParam();
    auto proxy = ProxyProcess::Start(
        Substitute(kProxyConfig, {{"V1_PORT", absl::StrCat(v1_->port())},
                                  {"V2_PORT", absl::StrCat(v2_->port())},
                                  {"REFUSED_PORT", absl::StrCat(ClosedPort())},
                                  {"BLACKHOLE_PORT", absl::StrCat(blackhole_.port())},
                                  {"HCM_EXTRA", hcm_extra},
                                  {"V1_EXTRA", v1_cluster_extra_}}),
        args, options);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    absl::StatusOr<uint16_t> port = proxy_->ListenerPort("ingress");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  // The value of a counter, 0 when it does not exist yet.
  uint64_t Stat(const std::string& name) {
    absl::StatusOr<uint64_t> value = proxy_->StatValue(name);
    return value.ok() ? *value : 0;
  }
  // Waits (bounded) for a counter to reach `expected`, then reports its value.
  uint64_t StatEventually(const std::string& name, uint64_t expected) {
    (void)proxy_->WaitForStat(name, expected);
    return Stat(name);
  }

  // More fields of cluster v1, one line of flow-style YAML (set before StartProxy).
  std::string v1_cluster_extra_;
  Blackhole blackhole_;
  std::unique_ptr<TestUpstream> v1_;
  std::unique_ptr<TestUpstream> v2_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

}  // namespace weir_test
