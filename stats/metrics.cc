#include "stats/metrics.h"

#include <cmath>

namespace stats {

HistogramValues Histogram::Values() const {
  HistogramValues values;
  values.cumulative.reserve(bounds_.size());
  for (uint32_t i = 0; i < bounds_.size(); ++i) {
    values.count += shards_->Sum(slot_ + i);
    values.cumulative.push_back(values.count);
  }
  values.count += shards_->Sum(slot_ + static_cast<uint32_t>(bounds_.size()));
  values.sum = shards_->Sum(slot_ + static_cast<uint32_t>(bounds_.size()) + 1);
  return values;
}

bool Histogram::Used() const {
  for (uint32_t i = 0; i <= bounds_.size(); ++i) {
    if (shards_->Sum(slot_ + i) != 0) return true;
  }
  return false;
}

double EstimateQuantile(std::span<const double> bounds, const HistogramValues& values,
                        uint32_t per_mille) {
  if (values.count == 0) return std::nan("");
  // Ranks scaled by 1000 stay exact integers in a double, so e.g. P90 of 3 samples interpolates
  // by exactly 0.7 rather than by 2.7000000000000002 - 2.
  const double rank = static_cast<double>(per_mille) * static_cast<double>(values.count);
  double below = 0;  // Samples (x 1000) in the buckets before the current one.
  for (size_t i = 0; i < bounds.size(); ++i) {
    const double upto = 1000.0 * static_cast<double>(values.cumulative[i]);
    if (upto >= rank && upto > below) {
      const double lower = i == 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * (rank - below) / (upto - below);
    }
    below = upto;
  }
  return bounds.empty() ? std::nan("") : bounds.back();
}

void TextReadout::Set(std::string_view value) {
  absl::MutexLock lock(&mu_);
  value_.assign(value);
  used_ = true;
}

std::string TextReadout::Value() const {
  absl::MutexLock lock(&mu_);
  return value_;
}

bool TextReadout::Used() const {
  absl::MutexLock lock(&mu_);
  return used_;
}

}  // namespace stats
