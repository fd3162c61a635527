#pragma once

// The Prometheus text exposition served at /stats/prometheus, byte-compatible with Envoy's
// (source/server/admin/prometheus_stats.cc): counters, then gauges, then (on request) text
// readouts as gauges, then histograms. Within each type, series are grouped into families by
// tag-extracted name, families in Envoy's stat name order (stats/stat_name.h), each a `# TYPE`
// line, its series sorted by dotted name, and an empty line. Metric names are
// `envoy_<sanitized tag-extracted name>`; tags become labels in extraction order. Like current
// Envoy (older versions did not), label values are escaped as the format requires:
// backslash, double quote and newline become \\, \" and \n.

#include <functional>
#include <string>
#include <string_view>

#include "stats/store.h"

namespace stats {

struct PrometheusOptions {
  bool used_only = false;  // Skip metrics never updated (see each type's Used()).
  // Keeps a metric when true for its dotted name; empty keeps all.
  std::function<bool(std::string_view dotted_name)> filter = nullptr;
  // Text readouts as gauges of value 0 with the text in a `text_value` label (Envoy >= 1.21).
  bool text_readouts = false;
};

std::string RenderPrometheus(const Store& store, const PrometheusOptions& options);

// Replaces every character outside [a-zA-Z0-9_] with '_' and prefixes '_' to a leading digit.
std::string SanitizePrometheusName(std::string_view name);

}  // namespace stats
