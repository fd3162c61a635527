#pragma once

// DomainMatcher: virtual-host selection by Host/:authority, as Envoy's
// RouteMatcher::findVirtualHost:
//   1. lower-case the host; strip the port only with ignore_port_in_host_matching (the port starts
//      at the last ':', which for an IPv6 literal "[...]" must come after the ']');
//   2. exact domains (hash map);
//   3. suffix wildcards "*.foo.com" / "*-bar.foo.com", longest first; the '*' must cover at least
//      one character, so "*.foo.com" does not match ".foo.com";
//   4. prefix wildcards "foo.*" / "foo-*", longest first, also non-empty;
//   5. the default domain "*".
// Without port stripping a host carrying a port only matches domains written with it
// ("example.com:8080", "*.example.com:8080", "example.*"). Domains are lower-cased at compile time
// and each may appear once across the whole table ("*" included).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "routing/route_config.h"
#include "routing/validation_errors.h"

namespace routing {

// Where the port of a Host value starts (its ':'), or npos (Envoy's HeaderUtility::getPortStart).
size_t HostPortStart(absl::string_view host);

class DomainMatcher {
 public:
  // Indexes the domains of every virtual host, adding an error for each duplicate at
  // "virtual_hosts[i].domains[j]" and a warning for a '*' that is neither first nor last.
  static DomainMatcher Create(const RouteTableConfig& config, ValidationErrors* errors);

  // The index of the virtual host serving `authority`, or nullopt.
  std::optional<size_t> Find(absl::string_view authority) const;

 private:
  // Wildcard domains of one length (without the '*'), keyed by that fixed part.
  struct Wildcards {
    size_t length;
    absl::flat_hash_map<std::string, size_t> virtual_hosts;
  };

  DomainMatcher() = default;
  static std::optional<size_t> FindWildcard(const std::vector<Wildcards>& wildcards,
                                            absl::string_view host, bool suffix);

  absl::flat_hash_map<std::string, size_t> exact_;
  std::vector<Wildcards> suffixes_;  // longest first
  std::vector<Wildcards> prefixes_;  // longest first
  std::optional<size_t> default_;
  bool ignore_port_ = false;
};

}  // namespace routing
