#include "xds/listener_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace xds {

std::string SocketAddress::ToString() const {
  if (address.find(':') != std::string::npos) return absl::StrCat("[", address, "]:", port);
  return absl::StrCat(address, ":", port);
}

std::string ListenerConfig::StatPrefix() const {
  if (!stat_prefix.empty()) return stat_prefix;
  return absl::StrReplaceAll(address.ToString(), {{":", "_"}});
}

}  // namespace xds
