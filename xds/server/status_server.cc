#include "xds/server/status_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace xds::server {
namespace {

using google::protobuf::Struct;

constexpr size_t kMaxRequestHead = 8192;

void SetString(Struct* s, const std::string& key, const std::string& value) {
  (*s->mutable_fields())[key].set_string_value(value);
}

void SetNumber(Struct* s, const std::string& key, double value) {
  (*s->mutable_fields())[key].set_number_value(value);
}

Struct* SetStruct(Struct* s, const std::string& key) {
  return (*s->mutable_fields())[key].mutable_struct_value();
}

std::string Response(int status, absl::string_view reason, absl::string_view content_type,
                     absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status, " ", reason, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(),
                      "\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n", body);
}

}  // namespace

std::string RenderStatusJson(const SnapshotCache& cache) {
  Struct root;
  Struct* nodes = SetStruct(&root, "nodes");
  for (const auto& [node_id, status] : cache.GetStatus()) {
    Struct* node = SetStruct(nodes, node_id);
    SetNumber(node, "connected", status.connected_streams);
    std::shared_ptr<const Snapshot> snapshot = cache.GetSnapshot(node_id);
    SetString(node, "snapshot_version", snapshot != nullptr ? snapshot->version : "");
    Struct* types = SetStruct(node, "types");
    for (const auto& [type_url, type] : status.types) {
      Struct* entry = SetStruct(types, type_url);
      SetString(entry, "acked_version", type.acked_version);
      SetString(entry, "nacked_version", type.nacked_version);
      SetString(entry, "error_detail", type.error_detail);
      SetString(entry, "last_nonce", type.last_nonce);
      SetString(entry, "sent_version", type.sent_version);
      SetNumber(entry, "acks", static_cast<double>(type.acks));
      SetNumber(entry, "nacks", static_cast<double>(type.nacks));
    }
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(root, &json, options);
  return json;
}

absl::StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(const std::string& address,
                                                                  uint16_t port,
                                                                  const SnapshotCache* cache) {
  std::unique_ptr<StatusServer> server(new StatusServer(cache));
  sockaddr_storage storage{};
  socklen_t length;
  const bool v6 = absl::StrContains(address, ':');
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", address));
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &sin->sin_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", address));
    }
    length = sizeof(sockaddr_in);
  }
  server->listen_fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (server->listen_fd_ < 0 ||
      ::setsockopt(server->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      ::bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
      ::listen(server->listen_fd_, 16) != 0 ||
      ::getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return absl::UnavailableError(absl::StrCat("status server: cannot listen on ", address, ":",
                                               port, ": ", std::strerror(errno)));
  }
  server->port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                           : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  server->address_ = v6 ? absl::StrCat("[", address, "]:", server->port_)
                        : absl::StrCat(address, ":", server->port_);
  server->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

StatusServer::~StatusServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
    (void)ignored;
    thread_.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void StatusServer::Run() {
  for (;;) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    if ((fds[1].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    ::close(fd);
  }
}

void StatusServer::Serve(int fd) {
  // A slow or silent client cannot hold the (only) thread for long.
  timeval timeout{.tv_sec = 2, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  std::string head;
  char buffer[1024];
  while (!absl::StrContains(head, "\r\n\r\n") && head.size() < kMaxRequestHead) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return;
    head.append(buffer, static_cast<size_t>(n));
  }
  // "GET /status?x HTTP/1.1"
  std::string_view line(head.data(), std::min(head.find("\r\n"), head.size()));
  size_t space = line.find(' ');
  std::string_view method = line.substr(0, space);
  std::string_view target = space == std::string_view::npos ? "" : line.substr(space + 1);
  target = target.substr(0, target.find(' '));
  target = target.substr(0, target.find('?'));
  std::string response;
  if (method != "GET") {
    response = Response(405, "Method Not Allowed", "text/plain", "only GET is supported\n");
  } else if (target == "/status") {
    response = Response(200, "OK", "application/json", RenderStatusJson(*cache_));
  } else {
    response = Response(404, "Not Found", "text/plain", "not found; try GET /status\n");
  }
  for (size_t sent = 0; sent < response.size();) {
    ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace xds::server
