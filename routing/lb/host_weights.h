#pragma once

// Whether the eligible hosts of a picker all have the same weight: Envoy's pickers use their
// cheap unweighted algorithm then, and an EDF schedule otherwise.

#include <cstddef>
#include <vector>

#include "routing/lb/endpoint_picker.h"

namespace routing::lb {

inline bool WeightsAreEqual(const std::vector<Host>& hosts, const std::vector<size_t>& eligible) {
  for (size_t host : eligible) {
    if (hosts[host].weight != hosts[eligible.front()].weight) return false;
  }
  return true;
}

}  // namespace routing::lb
