#include "stats/stat_name.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace stats {
namespace {

TEST(StatNameLessTest, ComparesSegmentBySegment) {
  // Plain string order puts '-' (0x2d) before '.' (0x2e); segment order compares "a" with "a-b".
  EXPECT_TRUE(StatNameLess("cluster.a.x", "cluster.a-b.x"));
  EXPECT_FALSE(StatNameLess("cluster.a-b.x", "cluster.a.x"));
  EXPECT_LT(std::string("cluster.a-b.x"), std::string("cluster.a.x"));
}

TEST(StatNameLessTest, SegmentPrefixSortsFirst) {
  EXPECT_TRUE(StatNameLess("cluster", "cluster.a"));
  EXPECT_FALSE(StatNameLess("cluster.a", "cluster"));
  EXPECT_TRUE(StatNameLess("cluster.a", "cluster_manager.a"));
  EXPECT_TRUE(StatNameLess("a.b", "a.b.c"));
  EXPECT_TRUE(StatNameLess("", "a"));
  EXPECT_TRUE(StatNameLess("a", "a."));  // An empty last segment.
}

TEST(StatNameLessTest, IsAStrictOrder) {
  for (const char* name : {"", "a", "a.b", "a..b", ".", "a-b.c"}) {
    EXPECT_FALSE(StatNameLess(name, name)) << name;
  }
  EXPECT_TRUE(StatNameLess("a..b", "a.b"));  // Empty segment before "b".
  EXPECT_FALSE(StatNameLess("a.b", "a..b"));
}

TEST(StatNameLessTest, BytewiseWithinASegment) {
  EXPECT_TRUE(StatNameLess("x.upstream_rq_200", "x.upstream_rq_2xx"));
  EXPECT_TRUE(StatNameLess("x.B", "x.a"));         // Uppercase before lowercase.
  EXPECT_TRUE(StatNameLess("x.z", "x.\xc3\xa9"));  // Bytes >= 0x80 after ASCII (unsigned).
}

TEST(StatNameLessTest, SortsAList) {
  std::vector<std::string> names = {"cluster_manager.x", "cluster.a-b.x", "cluster.a.y",
                                    "cluster.a.x",       "cluster.a",     "cluster.ab.x"};
  std::sort(names.begin(), names.end(), StatNameLess);
  EXPECT_EQ(names,
            (std::vector<std::string>{"cluster.a", "cluster.a.x", "cluster.a.y", "cluster.a-b.x",
                                      "cluster.ab.x", "cluster_manager.x"}));
}

// The definition, spelled out: split into segments, compare the segment lists lexicographically.
bool SegmentwiseLess(std::string_view a, std::string_view b) {
  auto split = [](std::string_view s) {
    std::vector<std::string_view> segments;
    for (size_t dot; (dot = s.find('.')) != std::string_view::npos; s.remove_prefix(dot + 1)) {
      segments.push_back(s.substr(0, dot));
    }
    segments.push_back(s);
    return segments;
  };
  return split(a) < split(b);
}

// Pairs that differ at one random position, so mismatches land anywhere in long names.
TEST(StatNameLessTest, SameAsSegmentwiseOnRandomNames) {
  std::mt19937 rng(7);
  auto random_byte = [&] { return ".-_a\xff"[std::uniform_int_distribution<int>(0, 4)(rng)]; };
  for (int i = 0; i < 100000; ++i) {
    std::string a(std::uniform_int_distribution<size_t>(0, 40)(rng), ' ');
    for (char& c : a) c = random_byte();
    std::string b = a;
    const size_t at = std::uniform_int_distribution<size_t>(0, a.size())(rng);
    switch (i % 3) {
      case 0:  // Change one byte (or append one).
        if (at < b.size()) {
          b[at] = random_byte();
        } else {
          b += random_byte();
        }
        break;
      case 1:  // Truncate.
        b.resize(at);
        break;
      default:  // Insert a byte.
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), random_byte());
    }
    ASSERT_EQ(StatNameLess(a, b), SegmentwiseLess(a, b)) << '"' << a << "\" vs \"" << b << '"';
    ASSERT_EQ(StatNameLess(b, a), SegmentwiseLess(b, a)) << '"' << b << "\" vs \"" << a << '"';
  }
}

}  // namespace
}  // namespace stats
