#include "xds/server/ads_stream_state.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace xds::server {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

absl::StatusOr<AdsStreamState::Request> AdsStreamState::OnRequest(
    const DiscoveryRequest& request) {
  if (!has_node_) {
    // Later requests may omit the node (Envoy's set_node_on_first_message_only).
    if (!request.has_node() || request.node().id().empty()) {
      return absl::InvalidArgumentError("the first request of a stream must carry node.id");
    }
    node_ = request.node();
    has_node_ = true;
  }
  if (request.type_url().empty()) {
    return absl::InvalidArgumentError("type URL is required for ADS");
  }
  Request result{.kind = RequestKind::kSubscribe, .type_url = request.type_url(), .version = "",
                 .error_detail = ""};
  std::optional<ResourceType> type = ResourceTypeFromUrl(request.type_url());
  if (!type.has_value()) {
    result.kind = RequestKind::kUnknownType;
    return result;
  }
  TypeState& state = types_[static_cast<int>(*type)];
  if (!state.last_nonce.empty()) {
    if (request.response_nonce() != state.last_nonce) {
      result.kind = RequestKind::kStale;
      return result;
    }
    if (request.has_error_detail()) {
      result.kind = RequestKind::kNack;
      result.version = state.sent_version;
      result.error_detail = request.error_detail().message();
    } else {
      result.kind = RequestKind::kAck;
      result.version = request.version_info();
    }
  }
  state.requested = true;
  state.awaiting_reply = false;
  state.client_version = request.version_info();

  bool star = false;
  state.names.clear();
  for (const std::string& name : request.resource_names()) {
    if (name == "*") {
      star = true;
    } else {
      state.names.insert(name);
    }
  }
  // The legacy wildcard: an empty list for LDS/CDS, until the client lists names explicitly.
  if (request.resource_names().empty()) {
    state.wildcard = IsFullStateType(*type) && !state.explicit_names_sent;
  } else {
    state.wildcard = star;
    state.explicit_names_sent = true;
  }
  // A name the client unsubscribed from is forgotten, so subscribing it again resends it.
  if (!state.wildcard) {
    std::erase_if(state.sent_names, [&](const std::string& n) { return !state.names.contains(n); });
  }
  return result;
}

std::vector<DiscoveryResponse> AdsStreamState::TakeResponses(const Snapshot* snapshot) {
  std::vector<DiscoveryResponse> responses;
  if (snapshot == nullptr) return responses;
  for (ResourceType type : kResourceTypes) {
    TypeState& state = types_[static_cast<int>(type)];
    if (!state.requested || state.awaiting_reply) continue;
    const Snapshot::Resources& all = snapshot->Of(type);
    std::vector<Snapshot::Resources::const_iterator> selected;
    if (state.wildcard) {
      for (auto it = all.begin(); it != all.end(); ++it) selected.push_back(it);
    } else {
      for (const std::string& name : state.names) {
        if (auto it = all.find(name); it != all.end()) selected.push_back(it);
      }
    }
    bool new_names = false;
    for (auto it : selected) new_names = new_names || !state.sent_names.contains(it->first);
    // What the client has: its own word until this stream sent something, then what was sent
    // (after a NACK the client still reports its older version, but it has seen this one).
    const std::string& have = state.last_nonce.empty() ? state.client_version : state.sent_version;
    if (snapshot->version == have && !new_names) continue;

    DiscoveryResponse& response = responses.emplace_back();
    response.set_version_info(snapshot->version);
    response.set_type_url(std::string(TypeUrl(type)));
    response.set_nonce(absl::StrCat(++nonce_));
    state.sent_names.clear();
    for (auto it : selected) {
      *response.add_resources() = it->second;
      state.sent_names.insert(it->first);
    }
    state.last_nonce = response.nonce();
    state.sent_version = snapshot->version;
    state.awaiting_reply = true;
  }
  return responses;
}

}  // namespace xds::server
