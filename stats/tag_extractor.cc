#include "stats/tag_extractor.h"

#include <array>
#include <cstddef>
#include <optional>

namespace stats {
namespace {

// Where a regex matched in the name: [remove_begin, remove_end) is group 1, [value_begin,
// value_end) group 2.
struct Match {
  size_t remove_begin;
  size_t remove_end;
  size_t value_begin;
  size_t value_end;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// \w
bool IsWord(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// `.`: Envoy compiled these regexes as ECMAScript std::regex, whose `.` matches anything but the
// line terminators.
bool IsAny(char c) { return c != '\n' && c != '\r'; }

// `((.*?)\.)` at `begin`: the characters up to the next dot, unless a line terminator comes first.
std::optional<Match> LazySegment(std::string_view n, size_t begin) {
  for (size_t q = begin; q < n.size(); ++q) {
    if (n[q] == '.') return Match{begin, q + 1, begin, q};
    if (!IsAny(n[q])) break;
  }
  return std::nullopt;
}

// envoy.response_code: _rq(_(\d{3}))$
std::optional<Match> ResponseCode(std::string_view n) {
  if (n.size() < 7) return std::nullopt;
  const size_t s = n.size() - 7;  // "_rq_" then three digits.
  if (n.substr(s, 4) != "_rq_" || !IsDigit(n[s + 4]) || !IsDigit(n[s + 5]) || !IsDigit(n[s + 6])) {
    return std::nullopt;
  }
  return Match{s + 3, n.size(), s + 4, n.size()};
}

// envoy.response_code_class: _rq_((\d))xx$
std::optional<Match> ResponseCodeClass(std::string_view n) {
  if (n.size() < 7) return std::nullopt;
  const size_t s = n.size() - 7;  // "_rq_", a digit, "xx".
  if (n.substr(s, 4) != "_rq_" || !IsDigit(n[s + 4]) || n.substr(s + 5) != "xx") {
    return std::nullopt;
  }
  return Match{s + 4, s + 5, s + 4, s + 5};
}

// envoy.cluster_name: ^cluster\.(([^\.]+)\.)
std::optional<Match> ClusterName(std::string_view n) {
  constexpr size_t kBegin = 8;  // "cluster."
  if (!n.starts_with("cluster.")) return std::nullopt;
  const size_t dot = n.find('.', kBegin);
  if (dot == std::string_view::npos || dot == kBegin) return std::nullopt;
  return Match{kBegin, dot + 1, kBegin, dot};
}

// envoy.http_conn_manager_prefix: ^listener(?=\.).*?\.http\.((.*?)\.)
std::optional<Match> ListenerHttpPrefix(std::string_view n) {
  if (!n.starts_with("listener.")) return std::nullopt;
  // `.*?` starts at the dot after "listener" and grows one character at a time.
  for (size_t p = 8; p < n.size(); ++p) {
    if (n.substr(p, 6) == ".http.") {
      if (std::optional<Match> m = LazySegment(n, p + 6)) return m;
    }
    if (!IsAny(n[p])) break;
  }
  return std::nullopt;
}

// envoy.http_conn_manager_prefix: ^http\.((.*?)\.)
std::optional<Match> HttpPrefix(std::string_view n) {
  if (!n.starts_with("http.")) return std::nullopt;
  return LazySegment(n, 5);
}

// envoy.listener_address:
// ^listener\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.)
std::optional<Match> ListenerAddress(std::string_view n) {
  constexpr size_t kBegin = 9;  // "listener."
  if (!n.starts_with("listener.")) return std::nullopt;
  // First alternative: the greedy run backtracks to its last dot (the run includes dots).
  size_t run_end = kBegin;
  while (run_end < n.size() && (n[run_end] == '_' || n[run_end] == '.' || IsDigit(n[run_end]))) {
    ++run_end;
  }
  for (size_t e = run_end; e-- > kBegin;) {
    if (n[e] == '.') return Match{kBegin, e + 1, kBegin, e};
  }
  // Second alternative: its class has no dot, so only the whole run can be followed by one.
  auto is_ipv6_char = [](char c) {
    return c == '_' || c == '[' || c == ']' || IsDigit(c) || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
  };
  run_end = kBegin;
  while (run_end < n.size() && is_ipv6_char(n[run_end])) ++run_end;
  if (run_end < n.size() && n[run_end] == '.') return Match{kBegin, run_end + 1, kBegin, run_end};
  return std::nullopt;
}

// envoy.rds_route_config: ^http(?=\.).*?\.rds\.((.*?)\.)\w+?$
std::optional<Match> RdsRouteConfig(std::string_view n) {
  if (!n.starts_with("http.")) return std::nullopt;
  // `\w+?$` needs a non-empty all-word suffix; it is all-word from `word_suffix` on.
  size_t word_suffix = n.size();
  while (word_suffix > 0 && IsWord(n[word_suffix - 1])) --word_suffix;
  for (size_t p = 4; p < n.size(); ++p) {
    if (n.substr(p, 5) == ".rds.") {
      for (size_t q = p + 5; q < n.size(); ++q) {
        if (n[q] == '.' && q + 1 < n.size() && q + 1 >= word_suffix) {
          return Match{p + 5, q + 1, p + 5, q};
        }
        if (!IsAny(n[q])) break;
      }
    }
    if (!IsAny(n[p])) break;
  }
  return std::nullopt;
}

// envoy.worker_id: ^listener_manager\.((worker_\d+)\.)
std::optional<Match> WorkerId(std::string_view n) {
  constexpr std::string_view kPrefix = "listener_manager.worker_";
  if (!n.starts_with(kPrefix)) return std::nullopt;
  size_t end = kPrefix.size();
  while (end < n.size() && IsDigit(n[end])) ++end;
  if (end == kPrefix.size() || end == n.size() || n[end] != '.') return std::nullopt;
  constexpr size_t kBegin = 17;  // "listener_manager."
  return Match{kBegin, end + 1, kBegin, end};
}

struct Extractor {
  std::string_view tag_name;
  std::optional<Match> (*match)(std::string_view);
};

constexpr std::array<Extractor, 8> kExtractors = {{
    {kResponseCodeTag, ResponseCode},
    {kResponseCodeClassTag, ResponseCodeClass},
    {kClusterNameTag, ClusterName},
    {kHttpConnManagerPrefixTag, ListenerHttpPrefix},
    {kHttpConnManagerPrefixTag, HttpPrefix},
    {kListenerAddressTag, ListenerAddress},
    {kRdsRouteConfigTag, RdsRouteConfig},
    {kWorkerIdTag, WorkerId},
}};

}  // namespace

TagExtraction ExtractTags(std::string_view name) {
  TagExtraction result;
  std::vector<bool> removed(name.size(), false);
  for (const Extractor& extractor : kExtractors) {
    const std::optional<Match> m = extractor.match(name);
    if (!m) continue;
    result.tags.push_back(
        {extractor.tag_name,
         std::string(name.substr(m->value_begin, m->value_end - m->value_begin))});
    for (size_t i = m->remove_begin; i < m->remove_end; ++i) removed[i] = true;
  }
  result.tag_extracted_name.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (!removed[i]) result.tag_extracted_name.push_back(name[i]);
  }
  return result;
}

}  // namespace stats
