#include "stats/stat_name.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

namespace stats {
namespace {

// Index of the first differing byte among the first `n`. Eight bytes at a time: sorting names
// that share long prefixes (`cluster.<name>.upstream_`) is most of the rendering time otherwise.
size_t Mismatch(const char* a, const char* b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) {
      const uint64_t diff = x ^ y;
      return i + (std::endian::native == std::endian::little ? std::countr_zero(diff)
                                                             : std::countl_zero(diff)) /
                     8;
    }
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

bool StatNameLess(std::string_view a, std::string_view b) {
  const size_t common = std::min(a.size(), b.size());
  const size_t i = Mismatch(a.data(), b.data(), common);
  // Equal up to here: the shorter name's last segment ends first, so it sorts first.
  if (i == common) return a.size() < b.size();
  // A dot ends a's (or b's) segment there, making it a prefix of the other's segment.
  auto rank = [](char c) {
    return c == '.' ? -1 : static_cast<int>(static_cast<unsigned char>(c));
  };
  return rank(a[i]) < rank(b[i]);
}

}  // namespace stats
