#include "routing/cluster.h"

#include <arpa/inet.h>

#include <limits>

#include "absl/strings/str_cat.h"

namespace routing {
namespace {

using ScopedField = ValidationErrors::ScopedField;

bool IsIpLiteral(const std::string& address) {
  in6_addr buffer;  // large enough for both families
  return inet_pton(AF_INET, address.c_str(), &buffer) == 1 ||
         inet_pton(AF_INET6, address.c_str(), &buffer) == 1;
}

const char* TypeName(DiscoveryType type) {
  switch (type) {
    case DiscoveryType::kStatic:
      return "STATIC";
    case DiscoveryType::kStrictDns:
      return "STRICT_DNS";
    case DiscoveryType::kLogicalDns:
      return "LOGICAL_DNS";
    case DiscoveryType::kEds:
      return "EDS";
  }
  return "";
}

void ValidateEndpoint(const EndpointConfig& endpoint, DiscoveryType type,
                      ValidationErrors* errors) {
  const bool dns = type == DiscoveryType::kStrictDns || type == DiscoveryType::kLogicalDns;
  {
    ScopedField field(errors, "address");
    if (endpoint.address.empty()) {
      errors->AddError("must not be empty");
    } else if (!dns && !IsIpLiteral(endpoint.address)) {
      errors->AddError(absl::StrCat("\"", endpoint.address, "\" is not an IP address (",
                                    TypeName(type), " clusters need IP literals)"));
    }
  }
  if (endpoint.port < 1 || endpoint.port > 65535) {
    ScopedField field(errors, "port");
    errors->AddError(absl::StrCat("must be between 1 and 65535, got ", endpoint.port));
  }
  if (endpoint.weight < 1) {
    ScopedField field(errors, "weight");
    errors->AddError("must be at least 1");
  }
}

}  // namespace

std::shared_ptr<const Cluster> Cluster::Create(const ClusterConfig& config,
                                               ValidationErrors* errors) {
  const size_t errors_before = errors->errors().size();
  if (config.name.empty()) {
    ScopedField field(errors, "name");
    errors->AddError("must not be empty");
  }
  if (config.connect_timeout <= absl::ZeroDuration()) {
    ScopedField field(errors, "connect_timeout");
    errors->AddError("must be greater than 0");
  }
  const bool dns =
      config.type == DiscoveryType::kStrictDns || config.type == DiscoveryType::kLogicalDns;
  if (dns && config.dns_refresh_rate < absl::Milliseconds(1)) {
    ScopedField field(errors, "dns_refresh_rate");
    errors->AddError("must be at least 1ms");
  }
  if (config.least_request_choice_count < 2) {
    ScopedField field(errors, "least_request_lb_config");
    ScopedField choice_count(errors, "choice_count");
    errors->AddError(absl::StrCat("must be at least 2, got ", config.least_request_choice_count));
  }
  if (!(config.healthy_panic_threshold >= 0 && config.healthy_panic_threshold <= 100)) {
    ScopedField field(errors, "common_lb_config");
    ScopedField threshold(errors, "healthy_panic_threshold");
    errors->AddError(
        absl::StrCat("must be between 0 and 100, got ", config.healthy_panic_threshold));
  }

  if (config.type == DiscoveryType::kLogicalDns && config.endpoints.size() != 1) {
    ScopedField field(errors, "endpoints");
    errors->AddError(absl::StrCat("LOGICAL_DNS clusters must have exactly one endpoint, got ",
                                  config.endpoints.size()));
  }
  uint64_t total_weight = 0;
  for (size_t i = 0; i < config.endpoints.size(); ++i) {
    ScopedField field(errors, "endpoints");
    ScopedField index(errors, ValidationErrors::Index(i));
    ValidateEndpoint(config.endpoints[i], config.type, errors);
    total_weight += config.endpoints[i].weight;
  }
  if (total_weight > std::numeric_limits<uint32_t>::max()) {
    ScopedField field(errors, "endpoints");
    errors->AddError(
        absl::StrCat("sum of weights must not exceed ", std::numeric_limits<uint32_t>::max()));
  }

  if (errors->errors().size() != errors_before) return nullptr;
  return std::shared_ptr<const Cluster>(new Cluster(config));
}

absl::StatusOr<std::shared_ptr<const Cluster>> Cluster::Create(const ClusterConfig& config) {
  ValidationErrors errors;
  std::shared_ptr<const Cluster> cluster = Create(config, &errors);
  if (cluster == nullptr) return errors.ToStatus();
  return cluster;
}

std::vector<lb::Host> Cluster::LbHosts() const {
  std::vector<lb::Host> hosts;
  hosts.reserve(config_.endpoints.size());
  for (const EndpointConfig& endpoint : config_.endpoints) {
    const bool healthy = endpoint.health_status == HealthStatus::kHealthy ||
                         endpoint.health_status == HealthStatus::kUnknown;
    hosts.push_back({endpoint.weight, healthy});
  }
  return hosts;
}

}  // namespace routing
