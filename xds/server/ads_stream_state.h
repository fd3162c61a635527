#pragma once

// AdsStreamState: the server's side of one state-of-the-world ADS stream, without I/O. It reads
// the client's DiscoveryRequests and decides which DiscoveryResponses are owed under the node's
// current snapshot, following go-control-plane's sotw server except for NACKs:
//
//  - per type: the subscribed names (LDS/CDS: an empty first request or "*" is the wildcard;
//    RDS/EDS: exactly the names listed, and "*"), the last nonce and version sent, and the
//    names the client got in that response;
//  - a request whose response_nonce is not the last nonce sent for its type is stale and
//    ignored; after a response, the type waits for the client's ACK/NACK before the next one;
//  - a response is owed when the snapshot's version differs from what the client has (the
//    request's version_info until something was sent on this stream, then the version sent) or
//    when the client subscribes names it did not get yet; it carries only subscribed resources;
//  - a NACK is reported, and since the client "has" the version it rejected, the same version is
//    not sent again: the next response waits for a new snapshot version (go-control-plane
//    resends a NACKed version in a loop).

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/server/snapshot.h"

namespace xds::server {

class AdsStreamState {
 public:
  enum class RequestKind {
    kSubscribe,    // a request answering no response of this stream (first one for the type)
    kAck,          // answers the last response, no error_detail
    kNack,         // answers the last response with error_detail
    kStale,        // answers an older response: ignored
    kUnknownType,  // a type this server has no resources for: never answered
  };
  struct Request {
    RequestKind kind;
    std::string type_url;
    std::string version;       // kAck: the version ACKed; kNack: the version rejected
    std::string error_detail;  // kNack
  };

  // InvalidArgument (which ends the stream) for a request without type_url, or a first request
  // without node.id.
  absl::StatusOr<Request> OnRequest(const envoy::service::discovery::v3::DiscoveryRequest& request);

  // The responses owed under `snapshot` (nullptr: the node has none yet), in CDS, EDS, LDS, RDS
  // order, each with a fresh nonce; they count as sent.
  std::vector<envoy::service::discovery::v3::DiscoveryResponse> TakeResponses(
      const Snapshot* snapshot);

  // The node of the first request (empty before it).
  const envoy::config::core::v3::Node& node() const { return node_; }

 private:
  struct TypeState {
    bool requested = false;
    bool wildcard = false;
    bool explicit_names_sent = false;  // an empty LDS/CDS list then unsubscribes everything
    std::set<std::string> names;
    bool awaiting_reply = false;    // a response is out and not yet ACKed or NACKed
    std::string client_version;     // version_info of the last accepted request
    std::string last_nonce;         // "" until a response was sent
    std::string sent_version;
    std::set<std::string> sent_names;
  };

  bool has_node_ = false;
  envoy::config::core::v3::Node node_;
  std::array<TypeState, 4> types_;  // by ResourceType
  uint64_t nonce_ = 0;
};

}  // namespace xds::server
