#include "xds/server/xds_server.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace xds::server {

absl::StatusOr<std::unique_ptr<XdsServer>> XdsServer::Start(const XdsServerOptions& options) {
  std::unique_ptr<XdsServer> server(new XdsServer());
  const std::string host = absl::StrContains(options.address, ':')
                               ? absl::StrCat("[", options.address, "]")
                               : options.address;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(host, ":", options.port),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&server->service_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  // A second server on a port in use must fail, not share it (gRPC sets SO_REUSEPORT by default).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("xDS server: cannot listen on ", host, ":", options.port));
  }
  server->port_ = static_cast<uint16_t>(port);
  server->address_ = absl::StrCat(host, ":", port);
  return server;
}

XdsServer::~XdsServer() { Shutdown(); }

void XdsServer::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  // Streams never end by themselves: the deadline "now" cancels them at once.
  server_->Shutdown(std::chrono::system_clock::now());
  service_.WaitForStreamsDone();
}

}  // namespace xds::server
