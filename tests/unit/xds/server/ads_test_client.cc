#include "tests/unit/xds/server/ads_test_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace xds::server::testing {

std::unique_ptr<AdsTestClient> AdsTestClient::Connect(const std::string& address,
                                                      const std::string& node_id) {
  std::unique_ptr<AdsTestClient> client(new AdsTestClient());
  client->node_id_ = node_id;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  client->channel_ =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  client->stub_ = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(
      client->channel_);
  client->context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  client->stream_ = client->stub_->StreamAggregatedResources(&client->context_);
  client->reader_ = std::thread([c = client.get()] { c->ReadLoop(); });
  return client;
}

AdsTestClient::~AdsTestClient() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

void AdsTestClient::ReadLoop() {
  DiscoveryResponse response;
  while (stream_->Read(&response)) {
    absl::MutexLock lock(&mu_);
    responses_.push_back(std::move(response));
    response.Clear();
  }
  grpc::Status status = stream_->Finish();
  absl::MutexLock lock(&mu_);
  end_ = std::move(status);
}

bool AdsTestClient::Send(DiscoveryRequest request, bool with_node) {
  if (with_node && !node_sent_) request.mutable_node()->set_id(node_id_);
  node_sent_ = true;
  return stream_->Write(request);
}

bool AdsTestClient::Request(absl::string_view type_url, const std::vector<std::string>& names,
                            const std::string& version, const std::string& nonce) {
  DiscoveryRequest request;
  request.set_type_url(std::string(type_url));
  for (const std::string& name : names) request.add_resource_names(name);
  request.set_version_info(version);
  request.set_response_nonce(nonce);
  return Send(std::move(request));
}

bool AdsTestClient::Ack(const DiscoveryResponse& response, const std::vector<std::string>& names) {
  return Request(response.type_url(), names, response.version_info(), response.nonce());
}

bool AdsTestClient::Nack(const DiscoveryResponse& response, const std::string& version_held,
                         const std::string& message, const std::vector<std::string>& names) {
  DiscoveryRequest request;
  request.set_type_url(response.type_url());
  for (const std::string& name : names) request.add_resource_names(name);
  request.set_version_info(version_held);
  request.set_response_nonce(response.nonce());
  request.mutable_error_detail()->set_code(3);  // INVALID_ARGUMENT, as Envoy sends
  request.mutable_error_detail()->set_message(message);
  return Send(std::move(request));
}

std::optional<DiscoveryResponse> AdsTestClient::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !responses_.empty() || end_.has_value();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (responses_.empty()) return std::nullopt;
  DiscoveryResponse response = std::move(responses_.front());
  responses_.pop_front();
  return response;
}

std::optional<grpc::Status> AdsTestClient::WaitForEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return end_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
  return end_;
}

std::vector<std::string> ResourceNames(const DiscoveryResponse& response) {
  std::vector<std::string> names;
  for (const google::protobuf::Any& any : response.resources()) {
    envoy::config::cluster::v3::Cluster cluster;
    envoy::config::endpoint::v3::ClusterLoadAssignment endpoints;
    envoy::config::route::v3::RouteConfiguration route;
    envoy::config::listener::v3::Listener listener;
    if (any.UnpackTo(&cluster)) {
      names.push_back(cluster.name());
    } else if (any.UnpackTo(&endpoints)) {
      names.push_back(endpoints.cluster_name());
    } else if (any.UnpackTo(&route)) {
      names.push_back(route.name());
    } else if (any.UnpackTo(&listener)) {
      names.push_back(listener.name());
    } else {
      names.push_back(absl::StrCat("<", any.type_url(), ">"));
    }
  }
  return names;
}

envoy::config::cluster::v3::Cluster Cluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster cluster;
  cluster.set_name(name);
  cluster.set_type(envoy::config::cluster::v3::Cluster::EDS);
  cluster.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  return cluster;
}

envoy::config::endpoint::v3::ClusterLoadAssignment Endpoints(const std::string& cluster,
                                                             int port) {
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  assignment.set_cluster_name(cluster);
  auto* address = assignment.add_endpoints()
                      ->add_lb_endpoints()
                      ->mutable_endpoint()
                      ->mutable_address()
                      ->mutable_socket_address();
  address->set_address("127.0.0.1");
  address->set_port_value(port);
  return assignment;
}

envoy::config::route::v3::RouteConfiguration Route(const std::string& name,
                                                   const std::string& cluster) {
  envoy::config::route::v3::RouteConfiguration route;
  route.set_name(name);
  auto* host = route.add_virtual_hosts();
  host->set_name("all");
  host->add_domains("*");
  auto* entry = host->add_routes();
  entry->mutable_match()->set_prefix("/");
  entry->mutable_route()->set_cluster(cluster);
  return route;
}

envoy::config::listener::v3::Listener Listener(const std::string& name, const std::string& route) {
  using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(route);
  hcm.mutable_rds()->mutable_config_source()->mutable_ads();
  envoy::config::listener::v3::Listener listener;
  listener.set_name(name);
  auto* address = listener.mutable_address()->mutable_socket_address();
  address->set_address("127.0.0.1");
  address->set_port_value(0);
  auto* filter = listener.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return listener;
}

Snapshot MakeSnapshot(const std::string& version, int clusters) {
  Snapshot snapshot;
  snapshot.version = version;
  for (int i = 1; i <= clusters; ++i) {
    const std::string name = absl::StrCat("c", i);
    (void)snapshot.Add(Cluster(name));
    (void)snapshot.Add(Endpoints(name, 10000 + i));
  }
  (void)snapshot.Add(Listener("l1", "r1"));
  (void)snapshot.Add(Route("r1", "c1"));
  return snapshot;
}

}  // namespace xds::server::testing
