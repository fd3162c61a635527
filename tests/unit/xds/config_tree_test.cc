// The raw config readers: YAML (scalar styles, merge keys) and the strict JSON parser.

#include "xds/config_tree.h"

#include "gtest/gtest.h"

namespace xds {
namespace {

TEST(ParseYamlTest, KeepsOrderAndScalarStyles) {
  absl::StatusOr<ConfigNode> root = ParseYaml("b: 1\na: 'quoted'\nc: [x, \"y\"]\nd:\n");
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_EQ(root->kind, ConfigNode::Kind::kMap);
  ASSERT_EQ(root->entries.size(), 4u);
  EXPECT_EQ(root->entries[0].first, "b");
  EXPECT_EQ(root->entries[0].second.style, ConfigNode::Style::kPlain);
  EXPECT_EQ(root->entries[1].second.scalar, "quoted");
  EXPECT_EQ(root->entries[1].second.style, ConfigNode::Style::kString);
  EXPECT_EQ(root->Find("c")->items[1].style, ConfigNode::Style::kString);
  EXPECT_EQ(root->Find("d")->kind, ConfigNode::Kind::kNull);
  EXPECT_EQ(root->Find("missing"), nullptr);
}

TEST(ParseYamlTest, MergeKeysAndAnchors) {
  absl::StatusOr<ConfigNode> root = ParseYaml(R"(
base: &base {connect_timeout: 1s, type: STATIC}
cluster:
  <<: *base
  type: STRICT_DNS
  name: c
)");
  ASSERT_TRUE(root.ok()) << root.status();
  const ConfigNode* cluster = root->Find("cluster");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->Find("type")->scalar, "STRICT_DNS");  // explicit keys win
  EXPECT_EQ(cluster->Find("connect_timeout")->scalar, "1s");
  EXPECT_EQ(cluster->Find("<<"), nullptr);
}

TEST(ParseYamlTest, ErrorsNameTheLine) {
  absl::StatusOr<ConfigNode> root = ParseYaml("a: 1\nb: [1, 2\n");
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(std::string(root.status().message()), "invalid YAML at line 3, column 1: end of sequence flow not found");
}

TEST(ParseJsonTest, TypesEscapesAndNesting) {
  absl::StatusOr<ConfigNode> root = ParseJson(
      R"({"s": "a\"b\\c\u00e9\ud83d\ude00", "n": -1.5e3, "t": true, "f": false, "z": null,
          "l": [1, {"k": []}], "e": {}})");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->Find("s")->scalar, "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(root->Find("s")->style, ConfigNode::Style::kString);
  EXPECT_EQ(root->Find("n")->scalar, "-1.5e3");
  EXPECT_EQ(root->Find("n")->style, ConfigNode::Style::kJsonNumber);
  EXPECT_EQ(root->Find("t")->scalar, "true");
  EXPECT_EQ(root->Find("f")->style, ConfigNode::Style::kJsonBool);
  EXPECT_EQ(root->Find("z")->kind, ConfigNode::Kind::kNull);
  EXPECT_EQ(root->Find("l")->items[1].Find("k")->kind, ConfigNode::Kind::kList);
  EXPECT_EQ(root->Find("e")->kind, ConfigNode::Kind::kMap);
}

TEST(ParseJsonTest, RejectsWhatIsNotJson) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"{a: 1}", "invalid JSON at line 1, column 2: expected a string key"},
           Case{"{\"a\": 1,}", "invalid JSON at line 1, column 9: expected a string key"},
           Case{"[1, 2", "invalid JSON at line 1, column 6: unterminated array"},
           Case{"{\"a\": 01}", "invalid JSON at line 1, column 8: expected ',' or '}'"},
           Case{"# comment\n{}", "invalid JSON at line 1, column 1: unexpected character '#'"},
           Case{"{\"a\": \"\x01\"}", "invalid JSON at line 1, column 8: control character in string"},
           Case{"{\"a\": \"\\ud800\"}", "invalid JSON at line 1, column 14: invalid surrogate pair"},
           Case{"{} {}", "invalid JSON at line 1, column 4: unexpected text after the JSON value"},
           Case{"", "invalid JSON at line 1, column 1: unexpected end of input"},
       }) {
    absl::StatusOr<ConfigNode> root = ParseJson(c.text);
    ASSERT_FALSE(root.ok()) << c.text;
    EXPECT_EQ(std::string(root.status().message()), c.error) << c.text;
  }
}

TEST(ParseJsonTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  absl::StatusOr<ConfigNode> root = ParseJson(deep);
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.status().message().find("nesting is too deep"), absl::string_view::npos);
}

TEST(LoadConfigFileTest, ChoosesTheReaderByExtension) {
  EXPECT_EQ(std::string(LoadConfigFile("config.txt").status().message()),
            "config.txt: unsupported config file extension (use .yaml, .yml or .json)");
  EXPECT_EQ(LoadConfigFile("/nonexistent.yaml").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace xds
