#include "xds/config_tree.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace xds {

const ConfigNode* ConfigNode::Find(std::string_view key) const {
  for (const auto& [name, value] : entries) {
    if (name == key) return &value;
  }
  return nullptr;
}

namespace {

constexpr int kMaxDepth = 100;  // bounds recursion on hostile input

absl::Status ConvertYaml(const YAML::Node& node, int depth, ConfigNode* out) {
  if (depth > kMaxDepth) return absl::InvalidArgumentError("YAML nesting is too deep");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out->kind = ConfigNode::Kind::kNull;
      return absl::OkStatus();
    case YAML::NodeType::Scalar:
      out->kind = ConfigNode::Kind::kScalar;
      out->scalar = node.Scalar();
      // yaml-cpp tags non-plain (quoted or block) scalars "!", plain ones "?".
      out->style = node.Tag() == "!" ? ConfigNode::Style::kString : ConfigNode::Style::kPlain;
      return absl::OkStatus();
    case YAML::NodeType::Sequence:
      out->kind = ConfigNode::Kind::kList;
      for (const YAML::Node& item : node) {
        absl::Status status = ConvertYaml(item, depth + 1, &out->items.emplace_back());
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    case YAML::NodeType::Map: {
      out->kind = ConfigNode::Kind::kMap;
      std::vector<std::pair<std::string, ConfigNode>> merged;  // from "<<" merge keys
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return absl::InvalidArgumentError("YAML mapping keys must be scalars");
        }
        ConfigNode value;
        absl::Status status = ConvertYaml(entry.second, depth + 1, &value);
        if (!status.ok()) return status;
        const std::string& key = entry.first.Scalar();
        // YAML merge key ("<<: *anchor"), which configs use to share cluster templates; yaml-cpp
        // resolves the alias but leaves the merge to the application. Explicit keys win.
        if (key == "<<" && entry.first.Tag() != "!") {
          std::vector<ConfigNode*> sources;
          if (value.kind == ConfigNode::Kind::kMap) sources.push_back(&value);
          if (value.kind == ConfigNode::Kind::kList) {
            for (ConfigNode& item : value.items) sources.push_back(&item);
          }
          for (ConfigNode* source : sources) {
            if (source->kind != ConfigNode::Kind::kMap) {
              return absl::InvalidArgumentError("YAML merge key \"<<\" needs a mapping");
            }
            for (auto& merged_entry : source->entries) merged.push_back(std::move(merged_entry));
          }
          continue;
        }
        out->entries.emplace_back(key, std::move(value));
      }
      for (auto& [key, value] : merged) {
        if (out->Find(key) == nullptr) out->entries.emplace_back(std::move(key), std::move(value));
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

// A strict RFC 8259 JSON parser producing ConfigNodes, so that ".json" files are read as JSON
// (YAML would accept comments, unquoted strings and more).
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  absl::StatusOr<ConfigNode> Parse() {
    ConfigNode root;
    SkipSpace();
    if (!ParseValue(0, &root)) return Error();
    SkipSpace();
    if (pos_ != text_.size()) {
      error_ = "unexpected text after the JSON value";
      return Error();
    }
    return root;
  }

 private:
  absl::Status Error() const {
    int line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at line ", line, ", column ", column, ": ", error_));
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool ParseValue(int depth, ConfigNode* out) {
    if (depth > kMaxDepth) return Fail("nesting is too deep");
    if (pos_ >= text_.size()) return Fail("unexpected end of input");
    char c = text_[pos_];
    if (c == '{') return ParseObject(depth, out);
    if (c == '[') return ParseArray(depth, out);
    if (c == '"') {
      out->kind = ConfigNode::Kind::kScalar;
      out->style = ConfigNode::Style::kString;
      return ParseString(&out->scalar);
    }
    for (std::string_view literal : {"true", "false"}) {
      if (ConsumeLiteral(literal)) {
        out->kind = ConfigNode::Kind::kScalar;
        out->style = ConfigNode::Style::kJsonBool;
        out->scalar = std::string(literal);
        return true;
      }
    }
    if (ConsumeLiteral("null")) {
      out->kind = ConfigNode::Kind::kNull;
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
    return Fail(absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }

  bool ConsumeLiteral(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  bool ParseNumber(ConfigNode* out) {
    size_t start = pos_;
    auto digits = [&] {
      size_t begin = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > begin;
    };
    if (text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return Fail("invalid number");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return Fail("invalid number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return Fail("invalid number");
    }
    out->kind = ConfigNode::Kind::kScalar;
    out->style = ConfigNode::Style::kJsonNumber;
    out->scalar = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool ParseHex4(uint32_t* value) {
    if (pos_ + 4 > text_.size()) return Fail("truncated \\u escape");
    *value = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[pos_++];
      *value <<= 4;
      if (h >= '0' && h <= '9') {
        *value |= h - '0';
      } else if (h >= 'a' && h <= 'f') {
        *value |= h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        *value |= h - 'A' + 10;
      } else {
        return Fail("invalid \\u escape");
      }
    }
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) {
        --pos_;  // point at the character
        return Fail("control character in string");
      }
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // surrogate pair
            uint32_t low;
            if (!ConsumeLiteral("\\u") || !ParseHex4(&low) || low < 0xDC00 || low > 0xDFFF) {
              return Fail("invalid surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail("invalid surrogate pair");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail("invalid escape in string");
      }
    }
    return Fail("unterminated string");
  }

  bool ParseArray(int depth, ConfigNode* out) {
    out->kind = ConfigNode::Kind::kList;
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (!ParseValue(depth + 1, &out->items.emplace_back())) return false;
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unterminated array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }

  bool ParseObject(int depth, ConfigNode* out) {
    out->kind = ConfigNode::Kind::kMap;
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a string key");
      std::string key;
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      SkipSpace();
      ConfigNode value;
      if (!ParseValue(depth + 1, &value)) return false;
      out->entries.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unterminated object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}'");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

absl::StatusOr<ConfigNode> ParseYaml(std::string_view text) {
  // yaml-cpp reports errors by throwing; this is the boundary where they become a Status.
  try {
    YAML::Node root = YAML::Load(std::string(text));
    ConfigNode out;
    absl::Status status = ConvertYaml(root, 0, &out);
    if (!status.ok()) return status;
    return out;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML at line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
}

absl::StatusOr<ConfigNode> ParseJson(std::string_view text) { return JsonParser(text).Parse(); }

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return buffer.str();
}

absl::StatusOr<ConfigNode> LoadConfigFile(const std::string& path) {
  std::string lower = absl::AsciiStrToLower(path);
  bool json = absl::EndsWith(lower, ".json");
  bool yaml = absl::EndsWith(lower, ".yaml") || absl::EndsWith(lower, ".yml");
  if (!json && !yaml) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": unsupported config file extension (use .yaml, .yml or .json)"));
  }
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<ConfigNode> root = json ? ParseJson(*text) : ParseYaml(*text);
  if (!root.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", root.status().message()));
  }
  return root;
}

}  // namespace xds
