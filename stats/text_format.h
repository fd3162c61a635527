#pragma once

// Envoy's plain-text /stats format. Text readouts first (`name: "value"`, unescaped, as Envoy
// does), then counters and gauges merged (`name: value`), then histograms, each part sorted by
// dotted name in Envoy's order (stats/stat_name.h). A histogram line is
// `name: P0(nan,X) P25(nan,X) ... P100(nan,X)`, or `name: No recorded values` when empty. Envoy
// prints (interval, cumulative) quantile pairs; we keep no flush intervals, so the interval value
// is always `nan`, and the cumulative X is estimated from the buckets (EstimateQuantile in
// stats/metrics.h), printed like fmt's `{}` (shortest round-trip digits).

#include <functional>
#include <string>
#include <string_view>

#include "stats/store.h"

namespace stats {

struct TextOptions {
  bool used_only = false;  // Skip metrics never updated (see each type's Used()).
  // Keeps a metric when true for its dotted name; empty keeps all.
  std::function<bool(std::string_view dotted_name)> filter = nullptr;
};

std::string RenderText(const Store& store, const TextOptions& options);

}  // namespace stats
