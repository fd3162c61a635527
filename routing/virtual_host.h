#pragma once

// VirtualHost: one compiled envoy.config.route.v3.VirtualHost: its name and its routes, tried in
// order (the first match wins). Domain selection across virtual hosts is DomainMatcher's job.

#include <optional>
#include <string>
#include <vector>

#include "routing/request_view.h"
#include "routing/route.h"
#include "routing/route_config.h"
#include "routing/validation_errors.h"

namespace routing {

class VirtualHost {
 public:
  // Validates `config` (name and domains non-empty, every route), adding errors beneath the
  // current path (the caller's "virtual_hosts[i]"). Returns nullopt if any error was added.
  static std::optional<VirtualHost> Create(const VirtualHostConfig& config,
                                           uint32_t max_direct_response_body_size_bytes,
                                           ValidationErrors* errors);

  const std::string& name() const { return name_; }
  const std::vector<Route>& routes() const { return routes_; }

  // The first route matching `request`, or nullptr.
  const Route* Match(const RequestView& request) const;

 private:
  VirtualHost(std::string name, std::vector<Route> routes)
      : name_(std::move(name)), routes_(std::move(routes)) {}

  std::string name_;
  std::vector<Route> routes_;
};

}  // namespace routing
