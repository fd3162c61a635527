#include "routing/domain_matcher.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace routing {
namespace {

// Adds `key` → `vhost` to the wildcard table of `length`, keeping the tables longest first.
// Returns the virtual host already holding the key, if any.
template <typename Wildcards>
std::optional<size_t> InsertWildcard(std::vector<Wildcards>& tables, std::string key,
                                     size_t vhost) {
  auto it = std::find_if(tables.begin(), tables.end(),
                         [&](const Wildcards& t) { return t.length == key.size(); });
  if (it == tables.end()) {
    it = tables.insert(std::find_if(tables.begin(), tables.end(),
                                    [&](const Wildcards& t) { return t.length < key.size(); }),
                       Wildcards{key.size(), {}});
  }
  auto [entry, inserted] = it->virtual_hosts.emplace(std::move(key), vhost);
  if (!inserted) return entry->second;
  return std::nullopt;
}

bool HasUpper(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

size_t HostPortStart(absl::string_view host) {
  const size_t port_start = host.rfind(':');
  if (port_start == absl::string_view::npos) return port_start;
  // An IPv6 literal is bracketed (RFC 3986 3.2.2): its colons are not a port separator.
  const size_t v6_end = host.rfind(']');
  if (v6_end == absl::string_view::npos || v6_end < port_start) return port_start;
  return absl::string_view::npos;
}

DomainMatcher DomainMatcher::Create(const RouteTableConfig& config, ValidationErrors* errors) {
  DomainMatcher matcher;
  matcher.ignore_port_ = config.ignore_port_in_host_matching;
  for (size_t i = 0; i < config.virtual_hosts.size(); ++i) {
    const VirtualHostConfig& vhost = config.virtual_hosts[i];
    for (size_t j = 0; j < vhost.domains.size(); ++j) {
      const std::string domain = absl::AsciiStrToLower(vhost.domains[j]);
      std::optional<size_t> existing;
      if (domain == "*") {
        existing = matcher.default_;
        if (!existing.has_value()) matcher.default_ = i;
      } else if (!domain.empty() && domain.front() == '*') {
        existing = InsertWildcard(matcher.suffixes_, domain.substr(1), i);
      } else if (!domain.empty() && domain.back() == '*') {
        existing = InsertWildcard(matcher.prefixes_, domain.substr(0, domain.size() - 1), i);
      } else {
        auto [entry, inserted] = matcher.exact_.emplace(domain, i);
        if (!inserted) existing = entry->second;
      }

      ValidationErrors::ScopedField vhosts(errors, "virtual_hosts");
      ValidationErrors::ScopedField vhost_index(errors, ValidationErrors::Index(i));
      ValidationErrors::ScopedField domains(errors, "domains");
      ValidationErrors::ScopedField domain_index(errors, ValidationErrors::Index(j));
      if (existing.has_value()) {
        errors->AddError(absl::StrCat("domain \"", vhost.domains[j],
                                      "\" is already used by virtual host \"",
                                      config.virtual_hosts[*existing].name, "\""));
      }
      if (domain.size() > 2 && domain.find('*', 1) < domain.size() - 1) {
        errors->AddWarning(absl::StrCat("domain \"", vhost.domains[j],
                                        "\": '*' is a wildcard only as the first or last "
                                        "character; elsewhere it is matched literally"));
      }
    }
  }
  return matcher;
}

std::optional<size_t> DomainMatcher::FindWildcard(const std::vector<Wildcards>& wildcards,
                                                  absl::string_view host, bool suffix) {
  for (const Wildcards& table : wildcards) {
    // ">=": the wildcard must stand for at least one character.
    if (table.length >= host.size()) continue;
    const absl::string_view key =
        suffix ? host.substr(host.size() - table.length) : host.substr(0, table.length);
    auto it = table.virtual_hosts.find(key);
    if (it != table.virtual_hosts.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<size_t> DomainMatcher::Find(absl::string_view authority) const {
  absl::string_view host = authority;
  if (ignore_port_) host = host.substr(0, HostPortStart(host));
  std::string lowered;  // only allocated for a host that is not already lower case
  if (HasUpper(host)) {
    lowered = absl::AsciiStrToLower(host);
    host = lowered;
  }
  if (auto it = exact_.find(host); it != exact_.end()) return it->second;
  if (auto vhost = FindWildcard(suffixes_, host, /*suffix=*/true)) return vhost;
  if (auto vhost = FindWildcard(prefixes_, host, /*suffix=*/false)) return vhost;
  return default_;
}

}  // namespace routing
