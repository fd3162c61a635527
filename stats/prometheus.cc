#include "stats/prometheus.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "stats/stat_name.h"

namespace stats {
namespace {

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void AppendSanitized(std::string& out, std::string_view name) {
  if (!name.empty() && name[0] >= '0' && name[0] <= '9') out += '_';
  for (char c : name) {
    const bool keep =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += keep ? c : '_';
  }
}

void AppendLabels(std::string& out, const std::vector<Tag>& tags) {
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) out += ',';
    AppendSanitized(out, tags[i].name);
    out += "=\"";
    AppendEscaped(out, tags[i].value);
    out += '"';
  }
}

// Envoy's `{:.32g}`: 0.5 prints as 0.5, 3600000 as 3600000, 0.1 with all its 32 digits.
std::string FormatDouble(double v) { return absl::StrFormat("%.32g", v); }

template <typename T, typename AppendSeries>
void AppendFamilies(std::string& out, const std::vector<const T*>& metrics,
                    const PrometheusOptions& options, const char* type,
                    AppendSeries append_series) {
  absl::flat_hash_map<std::string_view, std::vector<const T*>> families;
  for (const T* m : metrics) {
    if ((options.used_only && !m->Used()) || (options.filter && !options.filter(m->name()))) {
      continue;
    }
    families[m->tag_extracted_name()].push_back(m);
  }
  std::vector<std::pair<std::string_view, std::vector<const T*>>> sorted(
      std::make_move_iterator(families.begin()), std::make_move_iterator(families.end()));
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return StatNameLess(a.first, b.first); });
  for (auto& [group, series] : sorted) {
    const std::string family = SanitizePrometheusName(std::string("envoy_").append(group));
    absl::StrAppend(&out, "# TYPE ", family, " ", type, "\n");
    std::sort(series.begin(), series.end(),
              [](const T* a, const T* b) { return StatNameLess(a->name(), b->name()); });
    for (const T* m : series) append_series(out, family, *m);
    out += '\n';
  }
}

}  // namespace

std::string SanitizePrometheusName(std::string_view name) {
  std::string out;
  AppendSanitized(out, name);
  return out;
}

std::string RenderPrometheus(const Store& store, const PrometheusOptions& options) {
  const Store::Listing listing = store.List();
  // Growing a multi-megabyte string by doubling costs more than rendering it (copies, and page
  // faults on each new buffer). Over-reserving is cheap: untouched pages are never faulted in.
  size_t lines = listing.counters.size() + listing.gauges.size() + listing.text_readouts.size();
  for (const Histogram* histogram : listing.histograms) lines += histogram->bounds().size() + 3;
  std::string out;
  out.reserve(lines * 128);
  AppendFamilies(out, listing.counters, options, "counter",
                 [](std::string& out, const std::string& family, const Counter& counter) {
                   absl::StrAppend(&out, family, "{");
                   AppendLabels(out, counter.tags());
                   absl::StrAppend(&out, "} ", counter.Value(), "\n");
                 });
  AppendFamilies(out, listing.gauges, options, "gauge",
                 [](std::string& out, const std::string& family, const Gauge& gauge) {
                   absl::StrAppend(&out, family, "{");
                   AppendLabels(out, gauge.tags());
                   absl::StrAppend(&out, "} ", gauge.Value(), "\n");
                 });
  if (options.text_readouts) {
    AppendFamilies(out, listing.text_readouts, options, "gauge",
                   [](std::string& out, const std::string& family, const TextReadout& text) {
                     absl::StrAppend(&out, family, "{");
                     AppendLabels(out, text.tags());
                     out += text.tags().empty() ? "text_value=\"" : ",text_value=\"";
                     AppendEscaped(out, text.Value());
                     out += "\"} 0\n";
                   });
  }
  AppendFamilies(out, listing.histograms, options, "histogram",
                 [](std::string& out, const std::string& family, const Histogram& histogram) {
                   const HistogramValues values = histogram.Values();
                   std::string labels;
                   AppendLabels(labels, histogram.tags());
                   const std::string bucket_labels =
                       labels.empty() ? "" : absl::StrCat(labels, ",");
                   const std::span<const double> bounds = histogram.bounds();
                   for (size_t i = 0; i < bounds.size(); ++i) {
                     absl::StrAppend(&out, family, "_bucket{", bucket_labels, "le=\"",
                                     FormatDouble(bounds[i]), "\"} ", values.cumulative[i], "\n");
                   }
                   absl::StrAppend(&out, family, "_bucket{", bucket_labels, "le=\"+Inf\"} ",
                                   values.count, "\n");
                   absl::StrAppend(&out, family, "_sum{", labels, "} ",
                                   FormatDouble(static_cast<double>(values.sum)), "\n");
                   absl::StrAppend(&out, family, "_count{", labels, "} ", values.count, "\n");
                 });
  return out;
}

}  // namespace stats
