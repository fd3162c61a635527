#include "stats/text_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "stats/stat_name.h"

namespace stats {
namespace {

// Envoy's supported quantiles.
struct Quantile {
  uint32_t per_mille;
  const char* label;
};
constexpr std::array<Quantile, 10> kQuantiles = {{{0, "P0"},
                                                  {250, "P25"},
                                                  {500, "P50"},
                                                  {750, "P75"},
                                                  {900, "P90"},
                                                  {950, "P95"},
                                                  {990, "P99"},
                                                  {995, "P99.5"},
                                                  {999, "P99.9"},
                                                  {1000, "P100"}}};

// fmt's `{}` for a double: shortest round-trip digits, in fixed notation unless the decimal
// exponent is below -4 or at least 16.
std::string FormatShortest(double v) {
  if (std::isnan(v)) return "nan";
  const double magnitude = std::fabs(v);
  const bool scientific = magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e16);
  char buf[64];
  const std::to_chars_result result =
      std::to_chars(buf, buf + sizeof(buf), v,
                    scientific ? std::chars_format::scientific : std::chars_format::fixed);
  return std::string(buf, result.ptr);
}

template <typename T>
bool Selected(const T& metric, const TextOptions& options) {
  return (!options.used_only || metric.Used()) &&
         (!options.filter || options.filter(metric.name()));
}

template <typename T>
std::vector<const T*> SelectSorted(const std::vector<const T*>& metrics,
                                   const TextOptions& options) {
  std::vector<const T*> selected;
  for (const T* m : metrics) {
    if (Selected(*m, options)) selected.push_back(m);
  }
  std::sort(selected.begin(), selected.end(),
            [](const T* a, const T* b) { return StatNameLess(a->name(), b->name()); });
  return selected;
}

}  // namespace

std::string RenderText(const Store& store, const TextOptions& options) {
  const Store::Listing listing = store.List();
  std::string out;
  // Generous, so the string never regrows (see RenderPrometheus).
  out.reserve(128 * (listing.text_readouts.size() + listing.counters.size() +
                     listing.gauges.size() + 2 * listing.histograms.size()));
  for (const TextReadout* text : SelectSorted(listing.text_readouts, options)) {
    absl::StrAppend(&out, text->name(), ": \"", text->Value(), "\"\n");
  }

  std::vector<std::pair<const std::string*, std::string>> numbers;  // (name, value)
  for (const Counter* counter : listing.counters) {
    if (Selected(*counter, options)) {
      numbers.emplace_back(&counter->name(), absl::StrCat(counter->Value()));
    }
  }
  for (const Gauge* gauge : listing.gauges) {
    if (Selected(*gauge, options)) {
      numbers.emplace_back(&gauge->name(), absl::StrCat(gauge->Value()));
    }
  }
  std::sort(numbers.begin(), numbers.end(),
            [](const auto& a, const auto& b) { return StatNameLess(*a.first, *b.first); });
  for (const auto& [name, value] : numbers) absl::StrAppend(&out, *name, ": ", value, "\n");

  for (const Histogram* histogram : SelectSorted(listing.histograms, options)) {
    const HistogramValues values = histogram->Values();
    absl::StrAppend(&out, histogram->name(), ":");
    if (values.count == 0) {
      out += " No recorded values\n";
      continue;
    }
    for (const Quantile& q : kQuantiles) {
      absl::StrAppend(&out, " ", q.label, "(nan,",
                      FormatShortest(EstimateQuantile(histogram->bounds(), values, q.per_mille)),
                      ")");
    }
    out += '\n';
  }
  return out;
}

}  // namespace stats
