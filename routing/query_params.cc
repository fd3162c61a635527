#include "routing/query_params.h"

#include "absl/strings/ascii.h"

namespace routing {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// Compares a still-encoded name with a decoded one without allocating.
bool DecodedEquals(absl::string_view encoded, absl::string_view decoded) {
  if (encoded.find('%') == absl::string_view::npos) return encoded == decoded;
  return PercentDecode(encoded) == decoded;
}

}  // namespace

std::string PercentDecode(absl::string_view encoded) {
  std::string decoded;
  decoded.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size() &&
        absl::ascii_isxdigit(static_cast<unsigned char>(encoded[i + 1])) &&
        absl::ascii_isxdigit(static_cast<unsigned char>(encoded[i + 2]))) {
      decoded.push_back(
          static_cast<char>(HexValue(encoded[i + 1]) * 16 + HexValue(encoded[i + 2])));
      i += 2;
    } else {
      decoded.push_back(encoded[i]);
    }
  }
  return decoded;
}

std::optional<absl::string_view> FindRawQueryParameter(absl::string_view path,
                                                       absl::string_view name) {
  const size_t question = path.find('?');
  if (question == absl::string_view::npos) return std::nullopt;
  absl::string_view query = path.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const absl::string_view param = query.substr(0, amp);
    query = amp == absl::string_view::npos ? absl::string_view() : query.substr(amp + 1);
    const size_t equal = param.find('=');
    if (DecodedEquals(param.substr(0, equal), name)) {
      if (equal == absl::string_view::npos) return absl::string_view();
      return param.substr(equal + 1);
    }
  }
  return std::nullopt;
}

std::optional<QueryParameterMatcher> QueryParameterMatcher::Create(
    const QueryParameterMatcherConfig& config, ValidationErrors* errors) {
  bool ok = true;
  if (config.name.empty()) {
    ValidationErrors::ScopedField field(errors, "name");
    errors->AddError("must not be empty");
    ok = false;
  }
  std::optional<StringMatcher> string_match;
  if (config.string_match.has_value()) {
    ValidationErrors::ScopedField field(errors, "string_match");
    string_match = StringMatcher::Create(*config.string_match, errors);
    ok = ok && string_match.has_value();
  }
  if (!ok) return std::nullopt;
  return QueryParameterMatcher(config.name, std::move(string_match));
}

bool QueryParameterMatcher::Matches(absl::string_view path) const {
  const std::optional<absl::string_view> raw = FindRawQueryParameter(path, name_);
  if (!raw.has_value()) return false;
  if (!string_match_.has_value()) return true;
  if (raw->find('%') == absl::string_view::npos) return string_match_->Matches(*raw);
  return string_match_->Matches(PercentDecode(*raw));
}

}  // namespace routing
