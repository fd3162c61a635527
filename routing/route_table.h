#pragma once

// RouteTable: the compiled, immutable form of one Envoy RouteConfiguration. xds/ builds it from
// RDS or bootstrap config; every proxy worker reads the same instance through a
// shared_ptr<const RouteTable> (swapped whole on update), so matching needs no locks, no atomics
// and, in the common case, no allocation.
//
// Matching a request: FindVirtualHost(authority) (DomainMatcher: exact, then suffix and prefix
// wildcards, longest first, then "*"), then that virtual host's first matching route. nullptr at
// either step means 404 (Envoy's "route_not_found").

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "routing/domain_matcher.h"
#include "routing/request_view.h"
#include "routing/route.h"
#include "routing/route_config.h"
#include "routing/validation_errors.h"
#include "routing/virtual_host.h"

namespace routing {

class RouteTable {
 public:
  // Validates `config`, adding every problem to `errors` under field paths relative to the
  // RouteConfiguration (e.g. "virtual_hosts[1].routes[3].route.weighted_clusters: sum of weights
  // must be greater than 0"; the caller has already pushed its own outer path). Returns nullptr
  // if any error was added. Warnings don't fail.
  static std::shared_ptr<const RouteTable> Create(const RouteTableConfig& config,
                                                  ValidationErrors* errors);
  // The same, with all errors in one InvalidArgument status (one per line).
  static absl::StatusOr<std::shared_ptr<const RouteTable>> Create(const RouteTableConfig& config);

  // The virtual host serving `authority` (Host / :authority), or nullptr.
  const VirtualHost* FindVirtualHost(absl::string_view authority) const;
  // The route for `request`: its virtual host's first matching route, or nullptr (404).
  const Route* Match(const RequestView& request) const;

  // The clusters named by route actions (cluster and weighted_clusters; cluster_header names are
  // only known per request), sorted and unique: what the proxy must have before serving.
  std::vector<std::string> ReferencedClusters() const;

  const std::string& name() const { return name_; }
  const std::vector<VirtualHost>& virtual_hosts() const { return virtual_hosts_; }

 private:
  RouteTable(std::string name, std::vector<VirtualHost> virtual_hosts, DomainMatcher domains)
      : name_(std::move(name)),
        virtual_hosts_(std::move(virtual_hosts)),
        domains_(std::move(domains)) {}

  std::string name_;
  std::vector<VirtualHost> virtual_hosts_;  // in config order; DomainMatcher holds indices
  DomainMatcher domains_;
};

}  // namespace routing
