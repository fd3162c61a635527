#include "routing/header_matcher.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "routing/request_headers.h"

namespace routing {

using Kind = HeaderMatcherConfig::Kind;

std::optional<HeaderMatcher> HeaderMatcher::Create(const HeaderMatcherConfig& config,
                                                   ValidationErrors* errors) {
  bool ok = true;
  if (config.name.empty()) {
    ValidationErrors::ScopedField field(errors, "name");
    errors->AddError("must not be empty");
    ok = false;
  }
  std::optional<StringMatcher> string_match;
  if (config.kind == Kind::kString) {
    ValidationErrors::ScopedField field(errors, "string_match");
    string_match = StringMatcher::Create(config.string_match, errors);
    ok = ok && string_match.has_value();
  }
  if (!ok) return std::nullopt;
  return HeaderMatcher(config, std::move(string_match));
}

HeaderMatcher::HeaderMatcher(const HeaderMatcherConfig& config,
                             std::optional<StringMatcher> string_match)
    : name_(absl::AsciiStrToLower(config.name)),
      kind_(config.kind),
      present_(config.present),
      legacy_exact_value_(config.legacy_exact_value),
      string_match_(std::move(string_match)),
      range_start_(config.range_start),
      range_end_(config.range_end),
      invert_match_(config.invert_match),
      treat_missing_header_as_empty_(config.treat_missing_header_as_empty) {}

bool HeaderMatcher::Matches(const RequestView& request) const {
  absl::string_view value;
  std::string joined;  // only allocated for a repeated header
  int count = 0;
  ForEachHeaderValue(request, name_, [&](absl::string_view v) {
    if (count == 0) {
      value = v;
    } else {
      if (count == 1) joined.assign(value.data(), value.size());
      joined.push_back(',');
      joined.append(v.data(), v.size());
    }
    ++count;
  });
  if (count > 1) value = joined;

  if (count == 0 && !treat_missing_header_as_empty_) {
    return kind_ == Kind::kPresent && (!present_ != invert_match_);
  }
  bool match = false;
  switch (kind_) {
    case Kind::kPresent:
      match = present_;
      break;
    case Kind::kLegacyExact:
      match = legacy_exact_value_.empty() || value == legacy_exact_value_;
      break;
    case Kind::kString:
      match = string_match_->Matches(value);
      break;
    case Kind::kRange: {
      int64_t number = 0;
      match = absl::SimpleAtoi(value, &number) && number >= range_start_ && number < range_end_;
      break;
    }
  }
  return match != invert_match_;
}

}  // namespace routing
