#pragma once

// Envoy's order for dotted stat names, used to sort every rendered output. Envoy stores names as
// symbol sequences, one symbol per dot-separated segment, and compares them segment by segment:
// bytewise within a segment, and a name whose segments are a prefix of another's sorts first. So
// `cluster.a.x` sorts before `cluster.a-b.x`, unlike a plain string comparison. The same order
// is a bytewise comparison in which '.' sorts before every other byte, which is how it is computed.

#include <string_view>

namespace stats {

bool StatNameLess(std::string_view a, std::string_view b);

}  // namespace stats
