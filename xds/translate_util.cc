#include "xds/translate_util.h"

#include <arpa/inet.h>

namespace xds {

bool IsIpLiteral(std::string_view address) {
  std::string text(address);
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

}  // namespace xds
