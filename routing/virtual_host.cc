#include "routing/virtual_host.h"

namespace routing {

std::optional<VirtualHost> VirtualHost::Create(const VirtualHostConfig& config,
                                               uint32_t max_direct_response_body_size_bytes,
                                               ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  if (config.name.empty()) {
    ValidationErrors::ScopedField field(errors, "name");
    errors->AddError("must not be empty");
  }
  if (config.domains.empty()) {
    ValidationErrors::ScopedField field(errors, "domains");
    errors->AddError("must contain at least one domain");
  }
  std::vector<Route> routes;
  routes.reserve(config.routes.size());
  for (size_t i = 0; i < config.routes.size(); ++i) {
    ValidationErrors::ScopedField field(errors, "routes");
    ValidationErrors::ScopedField index(errors, ValidationErrors::Index(i));
    if (std::optional<Route> route =
            Route::Create(config.routes[i], max_direct_response_body_size_bytes, errors)) {
      routes.push_back(std::move(*route));
    }
  }
  if (errors->errors().size() != errors_before) return std::nullopt;
  return VirtualHost(config.name, std::move(routes));
}

const Route* VirtualHost::Match(const RequestView& request) const {
  for (const Route& route : routes_) {
    if (route.Matches(request)) return &route;
  }
  return nullptr;
}

}  // namespace routing
