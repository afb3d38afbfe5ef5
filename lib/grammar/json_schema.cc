#include "lib/grammar/json_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/grammar/json_escapes.h"
#include "lib/grammar/limits.h"
#include "lib/grammar/number_ranges.h"
#include "lib/grammar/regex.h"
#include "lib/tokenizer/utf8.h"
#include "nlohmann/json.hpp"

namespace ember::grammar {

namespace {

using Json = nlohmann::ordered_json;

// Keywords that only annotate (or hold subschemas reached through $ref).
const absl::flat_hash_set<std::string>& AnnotationKeywords() {
  static const auto* s = new absl::flat_hash_set<std::string>{
      "title", "description", "default", "examples", "$schema", "$id", "id", "$comment", "deprecated",
      "readOnly", "writeOnly", "$defs", "definitions", "contentMediaType", "contentEncoding", "$anchor",
      "$vocabulary", "$dynamicAnchor", "$recursiveAnchor", "example"};
  return *s;
}

// JSON Schema assertions (and applicators) this converter does not enforce.
const absl::flat_hash_set<std::string>& UnsupportedKeywords() {
  static const auto* s = new absl::flat_hash_set<std::string>{
      "not", "if", "then", "else", "patternProperties", "dependencies", "dependentRequired",
      "dependentSchemas", "minProperties", "maxProperties", "propertyNames", "unevaluatedProperties",
      "unevaluatedItems", "contains", "minContains", "maxContains", "multipleOf", "divisibleBy",
      "$dynamicRef", "$recursiveRef", "extends", "disallow", "contentSchema"};
  return *s;
}

// Keywords handled here.
const absl::flat_hash_set<std::string>& SupportedKeywords() {
  static const auto* s = new absl::flat_hash_set<std::string>{
      "type", "properties", "required", "additionalProperties", "enum", "const", "items", "prefixItems",
      "additionalItems", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "minimum",
      "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "format", "anyOf", "oneOf", "allOf",
      "$ref"};
  return *s;
}

// Formats JSON Schema defines; the ones not compiled below are rejected, any other format
// name is an annotation.
const absl::flat_hash_set<std::string>& SpecFormats() {
  static const auto* s = new absl::flat_hash_set<std::string>{
      "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4",
      "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template", "json-pointer",
      "relative-json-pointer", "regex"};
  return *s;
}

// Patterns (in the regex subset) for the formats we enforce: each accepts only strings that
// Python's jsonschema format checker accepts.
const char* FormatPattern(const std::string& format) {
  static constexpr char kDate[] =
      "(?:(?:[1-9]\\d{3}|0[1-9]\\d{2}|00[1-9]\\d|000[1-9])-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|"
      "(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))|"
      "(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29)";
  static constexpr char kTime[] = "(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:[Zz]|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)";
  static const std::string date = absl::StrCat("^", kDate, "$");
  static const std::string time = absl::StrCat("^", kTime, "$");
  static const std::string date_time = absl::StrCat("^", kDate, "[Tt]", kTime, "$");
  if (format == "date") return date.c_str();
  if (format == "time") return time.c_str();
  if (format == "date-time") return date_time.c_str();
  if (format == "uuid") return "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
  if (format == "email") return "^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$";
  if (format == "ipv4") return "^(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)$";
  return nullptr;
}

enum TypeBit : uint8_t {
  kNull = 1, kBool = 2, kObject = 4, kArray = 8, kString = 16, kInteger = 32, kFraction = 64,  // non-integers
};
constexpr uint8_t kAllTypes = 127;

uint8_t TypeBitsOf(const std::string& t) {
  if (t == "null") return kNull;
  if (t == "boolean") return kBool;
  if (t == "object") return kObject;
  if (t == "array") return kArray;
  if (t == "string") return kString;
  if (t == "integer") return kInteger;
  if (t == "number") return kInteger | kFraction;
  return 0;
}

uint8_t TypeBitsOfValue(const Json& v) {
  if (v.is_null()) return kNull;
  if (v.is_boolean()) return kBool;
  if (v.is_object()) return kObject;
  if (v.is_array()) return kArray;
  if (v.is_string()) return kString;
  if (v.is_number_integer() || v.is_number_unsigned()) return kInteger;
  const double d = v.get<double>();
  return std::isfinite(d) && d == std::floor(d) ? kInteger : kFraction;
}

std::string EscapePointerToken(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool JsonEqual(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number() && !a.is_boolean() && !b.is_boolean()) return a.get<double>() == b.get<double>();
  return a == b;
}

class Converter {
 public:
  Converter(Json root, GrammarIr* ir) : root_(std::move(root)), ir_(ir) {}

  absl::Status Run() {
    const int32_t body = Convert(root_, "", 0);
    if (!status_.ok()) return status_;
    const int32_t root = ir_->RuleId("root");
    ir_->Define(root, ir_->Seq({Ws(), body, Ws()}));
    ir_->set_root(root);
    return absl::OkStatus();
  }

  // JSON mode.
  void ObjectOnly() {
    const int32_t root = ir_->RuleId("root");
    ir_->Define(root, ir_->Seq({Ws(), AnyObject(), Ws()}));
    ir_->set_root(root);
  }

 private:
  int32_t Fail(const std::string& pointer, std::string_view message) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat("JSON Schema at '", pointer.empty() ? "#" : "#" + pointer,
                                                        "': ", std::string(message)));
    }
    return ir_->Never();
  }

  // ---- Building blocks of JSON text.

  int32_t Ws() {
    if (ws_ < 0) {
      ws_ = ir_->NewRule("ws");
      ir_->Define(ws_, ir_->Alt({ir_->Empty(), ir_->Literal(" "),
                                 ir_->Seq({ir_->Literal("\n"), ir_->Repeat(ir_->Class({{' ', ' '}, {'\t', '\t'}}), 0, 32)})}));
    }
    return ir_->Ref(ws_);
  }
  int32_t Token(std::string_view s) { return ir_->Literal(s); }
  int32_t Comma() { return ir_->Seq({Ws(), Token(","), Ws()}); }
  int32_t Colon() { return ir_->Seq({Ws(), Token(":"), Ws()}); }

  // One character of `ranges` as spelled inside a JSON string: itself when it may appear
  // unescaped, its short escape (\n, \", \/, ...) and its \u spellings (a surrogate pair for
  // a character outside the Basic Multilingual Plane). Every spelling decodes to exactly one
  // character of `ranges`, so a repetition counts characters as minLength/maxLength do and a
  // key's spellings are told apart from the declared names (lone surrogates never match).
  int32_t JsonChar(const std::vector<CodeRange>& ranges_in) {
    const std::vector<CodeRange> ranges = NormalizeRanges(ranges_in);
    std::string key;
    for (const CodeRange& r : ranges) absl::StrAppend(&key, static_cast<uint32_t>(r.lo), "-", static_cast<uint32_t>(r.hi), ",");
    auto it = json_chars_.find(key);
    if (it != json_chars_.end()) return ir_->Ref(it->second);
    std::vector<CodeRange> plain;
    std::vector<int32_t> alts;
    auto contains = [&](char32_t c) {
      for (const CodeRange& r : ranges) {
        if (c >= r.lo && c <= r.hi) return true;
      }
      return false;
    };
    for (const CodeRange& r : ranges) {
      // Remove 0x00-0x1F, '"' and '\\'.
      char32_t lo = std::max<char32_t>(r.lo, 0x20);
      if (lo > r.hi) continue;
      std::vector<CodeRange> pieces = {{lo, r.hi}};
      for (char32_t ex : {char32_t('"'), char32_t('\\')}) {
        std::vector<CodeRange> next;
        for (const CodeRange& p : pieces) {
          if (ex < p.lo || ex > p.hi) {
            next.push_back(p);
            continue;
          }
          if (p.lo < ex) next.push_back({p.lo, ex - 1});
          if (ex < p.hi) next.push_back({ex + 1, p.hi});
        }
        pieces = std::move(next);
      }
      plain.insert(plain.end(), pieces.begin(), pieces.end());
    }
    if (!plain.empty()) alts.push_back(ir_->Class(plain));
    static constexpr struct { char32_t c; const char* esc; } kShort[] = {
        {'"', "\\\""}, {'\\', "\\\\"}, {'/', "\\/"}, {'\b', "\\b"}, {'\f', "\\f"}, {'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}};
    for (const auto& s : kShort) {
      if (contains(s.c)) alts.push_back(Token(s.esc));
    }
    if (!ranges.empty()) alts.push_back(UnicodeEscapeExpr(ir_, ranges));
    const int32_t rule = ir_->NewRule("char");
    ir_->Define(rule, ir_->Alt(std::move(alts)));
    json_chars_[key] = rule;
    return ir_->Ref(rule);
  }

  // Any one character inside a JSON string, in any spelling.
  int32_t AnyStringChar() { return JsonChar({{0, kMaxCodePoint}}); }

  // The JSON strings whose decoded text is `s` (each character in any of its spellings).
  int32_t StringLiteral(const std::string& s) {
    std::vector<int32_t> items = {Token("\"")};
    size_t i = 0;
    while (i < s.size()) {
      Utf8Char ch = DecodeUtf8(std::string_view(s).substr(i));
      const char32_t cp = ch.kind == Utf8Char::Kind::kValid ? ch.code_point : kReplacementChar;
      i += std::max<size_t>(ch.length, 1);
      items.push_back(JsonChar({{cp, cp}}));
    }
    items.push_back(Token("\""));
    return ir_->Seq(std::move(items));
  }

  int32_t AnyString() {
    if (any_string_ < 0) {
      any_string_ = ir_->NewRule("string");
      ir_->Define(any_string_, ir_->Seq({Token("\""), ir_->Star(AnyStringChar()), Token("\"")}));
    }
    return ir_->Ref(any_string_);
  }

  int32_t AnyNumber() {
    if (any_number_ < 0) {
      any_number_ = ir_->NewRule("number");
      const int32_t digit = ir_->Class({{'0', '9'}});
      ir_->Define(any_number_,
                  ir_->Seq({ir_->Optional(Token("-")),
                            ir_->Alt({Token("0"), ir_->Seq({ir_->Class({{'1', '9'}}), ir_->Star(digit)})}),
                            ir_->Optional(ir_->Seq({Token("."), ir_->Repeat(digit, 1, kUnbounded)})),
                            ir_->Optional(ir_->Seq({ir_->Class({{'e', 'e'}, {'E', 'E'}}),
                                                    ir_->Optional(ir_->Class({{'+', '+'}, {'-', '-'}})),
                                                    ir_->Repeat(digit, 1, kUnbounded)}))}));
    }
    return ir_->Ref(any_number_);
  }

  int32_t AnyInteger() { return IntegerRangeExpr(ir_, std::nullopt, std::nullopt); }

  int32_t AnyValue() {
    if (any_value_ < 0) {
      any_value_ = ir_->NewRule("value");
      const int32_t object = AnyObject();
      const int32_t array = ir_->NewRule("array");
      ir_->Define(array, ir_->Seq({Token("["), Ws(),
                                   ir_->Optional(ir_->Seq({AnyValueRef(), ir_->Star(ir_->Seq({Comma(), AnyValueRef()})), Ws()})),
                                   Token("]")}));
      ir_->Define(any_value_, ir_->Alt({object, ir_->Ref(array), AnyString(), AnyNumber(), Token("true"),
                                        Token("false"), Token("null")}));
    }
    return ir_->Ref(any_value_);
  }
  int32_t AnyValueRef() { return ir_->Ref(any_value_); }

  int32_t AnyObject() {
    if (any_object_ < 0) {
      any_object_ = ir_->NewRule("object");
      if (any_value_ < 0) AnyValue();
      const int32_t member = ir_->Seq({AnyString(), Colon(), AnyValueRef()});
      ir_->Define(any_object_, ir_->Seq({Token("{"), Ws(),
                                         ir_->Optional(ir_->Seq({member, ir_->Star(ir_->Seq({Comma(), member})), Ws()})),
                                         Token("}")}));
    }
    return ir_->Ref(any_object_);
  }

  // A JSON string (quotes included) whose decoded text is none of `keys`.
  int32_t StringNotIn(const std::vector<std::string>& keys) {
    if (keys.empty()) return AnyString();
    // Trie over code points.
    struct TrieNode {
      std::vector<std::pair<char32_t, int>> children;
      bool terminal = false;
    };
    std::vector<TrieNode> trie(1);
    for (const std::string& k : keys) {
      int node = 0;
      size_t i = 0;
      while (i < k.size()) {
        Utf8Char ch = DecodeUtf8(std::string_view(k).substr(i));
        const char32_t cp = ch.kind == Utf8Char::Kind::kValid ? ch.code_point : kReplacementChar;
        i += std::max<size_t>(ch.length, 1);
        int next = -1;
        for (auto& [c, n] : trie[node].children) {
          if (c == cp) next = n;
        }
        if (next < 0) {
          next = static_cast<int>(trie.size());
          trie[node].children.push_back({cp, next});
          trie.emplace_back();
        }
        node = next;
      }
      trie[node].terminal = true;
    }
    const int32_t free_tail = ir_->Seq({ir_->Star(AnyStringChar()), Token("\"")});
    std::vector<int32_t> rules(trie.size());
    for (size_t n = 0; n < trie.size(); ++n) rules[n] = ir_->NewRule("key");
    for (size_t n = 0; n < trie.size(); ++n) {
      std::vector<int32_t> alts;
      if (!trie[n].terminal) alts.push_back(Token("\""));
      std::vector<CodeRange> used;
      for (auto& [c, child] : trie[n].children) {
        alts.push_back(ir_->Seq({JsonChar({{c, c}}), ir_->Ref(rules[child])}));
        used.push_back({c, c});
      }
      const std::vector<CodeRange> others = ComplementRanges(used);
      alts.push_back(ir_->Seq({JsonChar(others), free_tail}));
      ir_->Define(rules[n], ir_->Alt(std::move(alts)));
    }
    return ir_->Seq({Token("\""), ir_->Ref(rules[0])});
  }

  // ---- Schemas.

  const Json* ResolvePointer(const std::string& ref, const std::string& pointer) {
    if (ref.empty() || ref[0] != '#') {
      Fail(pointer, absl::StrCat("$ref '", ref, "' is not a local reference (only #/... is supported)"));
      return nullptr;
    }
    const Json* cur = &root_;
    size_t i = 1;
    if (i < ref.size() && ref[i] != '/') {
      Fail(pointer, absl::StrCat("$ref '", ref, "': anchors are unsupported"));
      return nullptr;
    }
    while (i < ref.size()) {
      size_t next = ref.find('/', i + 1);
      if (next == std::string::npos) next = ref.size();
      std::string token = ref.substr(i + 1, next - i - 1);
      std::string decoded;
      for (size_t k = 0; k < token.size(); ++k) {
        if (token[k] == '~' && k + 1 < token.size()) {
          decoded += token[k + 1] == '1' ? '/' : '~';
          ++k;
        } else if (token[k] == '%' && k + 2 < token.size() && HexNibble(token[k + 1]) >= 0 &&
                   HexNibble(token[k + 2]) >= 0) {
          decoded += static_cast<char>(HexNibble(token[k + 1]) * 16 + HexNibble(token[k + 2]));
          k += 2;
        } else {
          decoded += token[k];
        }
      }
      if (cur->is_object()) {
        auto it = cur->find(decoded);
        if (it == cur->end()) {
          Fail(pointer, absl::StrCat("$ref '", ref, "' points nowhere"));
          return nullptr;
        }
        cur = &*it;
      } else if (cur->is_array()) {
        size_t idx = 0;
        for (char c : decoded) {
          if (c < '0' || c > '9' || idx > 1000000) {
            Fail(pointer, absl::StrCat("$ref '", ref, "' points nowhere"));
            return nullptr;
          }
          idx = idx * 10 + static_cast<size_t>(c - '0');
        }
        if (decoded.empty() || idx >= cur->size()) {
          Fail(pointer, absl::StrCat("$ref '", ref, "' points nowhere"));
          return nullptr;
        }
        cur = &(*cur)[idx];
      } else {
        Fail(pointer, absl::StrCat("$ref '", ref, "' points nowhere"));
        return nullptr;
      }
      i = next;
    }
    return cur;
  }

  bool HasAssertions(const Json& s, const char* except) {
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it.key() == except) continue;
      if (SupportedKeywords().contains(it.key()) || UnsupportedKeywords().contains(it.key())) return true;
    }
    return false;
  }

  // The schema with its top-level $ref inlined (merged with its siblings), repeatedly.
  std::optional<Json> Resolve(const Json& s, const std::string& pointer, int hops = 0) {
    if (!s.is_object() || !s.contains("$ref")) return s;
    if (hops > 32) {
      Fail(pointer, "$ref chain too long or recursive where it cannot be (inside allOf/oneOf)");
      return std::nullopt;
    }
    if (!s["$ref"].is_string()) {
      Fail(pointer, "$ref must be a string");
      return std::nullopt;
    }
    const Json* target = ResolvePointer(s["$ref"].get<std::string>(), pointer);
    if (target == nullptr) return std::nullopt;
    Json rest = s;
    rest.erase("$ref");
    std::optional<Json> t = Resolve(*target, pointer, hops + 1);
    if (!t) return std::nullopt;
    if (!HasAssertions(rest, "")) return t;
    return Merge(*t, rest, pointer, hops + 1);
  }

  // allOf of two schemas as one schema (both already free of a top-level $ref).
  std::optional<Json> Merge(const Json& a_in, const Json& b_in, const std::string& pointer, int hops) {
    if (a_in.is_boolean()) return a_in.get<bool>() ? b_in : a_in;
    if (b_in.is_boolean()) return b_in.get<bool>() ? a_in : b_in;
    if (!a_in.is_object() || !b_in.is_object()) {
      Fail(pointer, "a schema must be an object or a boolean");
      return std::nullopt;
    }
    std::optional<Json> ra = Resolve(a_in, pointer, hops), rb = Resolve(b_in, pointer, hops);
    if (!ra || !rb) return std::nullopt;
    const Json& a = *ra;
    const Json& b = *rb;
    if (a.is_boolean() || b.is_boolean()) return Merge(a, b, pointer, hops);
    Json out = a;
    // Nested allOfs first.
    for (const Json* side : {&a, &b}) {
      if (side->contains("allOf")) {
        Fail(pointer, "nested allOf inside allOf/$ref is unsupported");
        return std::nullopt;
      }
    }
    auto all_of = [](const Json& x, const Json& y) {
      if (x.is_boolean() && x.get<bool>()) return y;
      if (y.is_boolean() && y.get<bool>()) return x;
      if (x == y) return x;
      return Json{{"allOf", Json::array({x, y})}};
    };
    // Properties and additionalProperties, per key.
    if (a.contains("properties") || b.contains("properties") || a.contains("additionalProperties") ||
        b.contains("additionalProperties")) {
      const Json empty = Json::object();
      const Json& pa = a.contains("properties") ? a["properties"] : empty;
      const Json& pb = b.contains("properties") ? b["properties"] : empty;
      const Json ta = a.contains("additionalProperties") ? a["additionalProperties"] : Json(true);
      const Json tb = b.contains("additionalProperties") ? b["additionalProperties"] : Json(true);
      Json props = Json::object();
      for (auto it = pa.begin(); it != pa.end(); ++it) {
        props[it.key()] = all_of(it.value(), pb.contains(it.key()) ? pb[it.key()] : tb);
      }
      for (auto it = pb.begin(); it != pb.end(); ++it) {
        if (!pa.contains(it.key())) props[it.key()] = all_of(ta, it.value());
      }
      out["properties"] = props;
      out["additionalProperties"] = all_of(ta, tb);
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      const std::string& k = it.key();
      const Json& v = it.value();
      if (k == "properties" || k == "additionalProperties" || AnnotationKeywords().contains(k)) continue;
      if (!out.contains(k)) {
        out[k] = v;
        continue;
      }
      const Json& av = a[k];
      if (JsonEqual(av, v)) continue;
      if (k == "type") {
        uint8_t ta = 0, tb = 0;
        for (const Json& t : av.is_array() ? av : Json::array({av})) ta |= t.is_string() ? TypeBitsOf(t.get<std::string>()) : 0;
        for (const Json& t : v.is_array() ? v : Json::array({v})) tb |= t.is_string() ? TypeBitsOf(t.get<std::string>()) : 0;
        const uint8_t both = ta & tb;
        Json types = Json::array();
        if (both & kNull) types.push_back("null");
        if (both & kBool) types.push_back("boolean");
        if (both & kObject) types.push_back("object");
        if (both & kArray) types.push_back("array");
        if (both & kString) types.push_back("string");
        if ((both & kFraction) && (both & kInteger)) types.push_back("number");
        else if (both & kInteger) types.push_back("integer");
        if (types.empty()) return Json(false);
        out["type"] = types;
      } else if (k == "required") {
        Json req = av;
        for (const Json& r : v) {
          if (std::find(req.begin(), req.end(), r) == req.end()) req.push_back(r);
        }
        out["required"] = req;
      } else if (k == "minLength" || k == "minItems" || k == "minimum" || k == "exclusiveMinimum") {
        if (av.is_number() && v.is_number()) out[k] = av.get<double>() >= v.get<double>() ? av : v;
        else return MergeConflict(pointer, k);
      } else if (k == "maxLength" || k == "maxItems" || k == "maximum" || k == "exclusiveMaximum") {
        if (av.is_number() && v.is_number()) out[k] = av.get<double>() <= v.get<double>() ? av : v;
        else return MergeConflict(pointer, k);
      } else if (k == "enum") {
        if (!av.is_array() || !v.is_array()) return MergeConflict(pointer, k);
        Json both = Json::array();
        for (const Json& x : av) {
          for (const Json& y : v) {
            if (JsonEqual(x, y)) {
              both.push_back(x);
              break;
            }
          }
        }
        out[k] = both;
      } else if (k == "const") {
        return Json(false);  // two different constants
      } else if (k == "items" && av.is_object() == v.is_object() && !av.is_array() && !v.is_array()) {
        out[k] = all_of(av, v);
      } else if (k == "anyOf" || k == "oneOf") {
        // (A1|A2) & (B1|B2): distribute, bounded.
        if (!av.is_array() || !v.is_array() || av.size() * v.size() > 64) return MergeConflict(pointer, k);
        if (k == "oneOf") return MergeConflict(pointer, k);
        Json cross = Json::array();
        for (const Json& x : av) {
          for (const Json& y : v) cross.push_back(Json{{"allOf", Json::array({x, y})}});
        }
        out[k] = cross;
      } else {
        return MergeConflict(pointer, k);
      }
    }
    return out;
  }

  std::optional<Json> MergeConflict(const std::string& pointer, const std::string& k) {
    Fail(pointer, absl::StrCat("allOf: combining two different '", k, "' is unsupported"));
    return std::nullopt;
  }

  int32_t RefRule(const std::string& ref, const std::string& pointer, int depth) {
    auto it = ref_rules_.find(ref);
    if (it != ref_rules_.end()) return ir_->Ref(it->second);
    const Json* target = ResolvePointer(ref, pointer);
    if (target == nullptr) return ir_->Never();
    const int32_t rule = ir_->NewRule("ref");
    ref_rules_[ref] = rule;
    ir_->Define(rule, Convert(*target, ref.substr(1), depth + 1));
    return ir_->Ref(rule);
  }

  int32_t Convert(const Json& s, const std::string& pointer, int depth) {
    if (!status_.ok()) return ir_->Never();
    if (depth > kMaxNestingDepth) return Fail(pointer, absl::StrCat("schema nested deeper than ", kMaxNestingDepth));
    if (++n_converted_ > 200000) return Fail(pointer, "schema too large");
    if (s.is_boolean()) return s.get<bool>() ? AnyValue() : ir_->Never();
    if (!s.is_object()) return Fail(pointer, "a schema must be an object or a boolean");
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      if (UnsupportedKeywords().contains(k)) {
        return Fail(absl::StrCat(pointer, "/", EscapePointerToken(k)), absl::StrCat("unsupported keyword '", k, "'"));
      }
      if (k == "uniqueItems" && !(it.value().is_boolean() && !it.value().get<bool>())) {
        return Fail(absl::StrCat(pointer, "/uniqueItems"), "unsupported keyword 'uniqueItems' (true)");
      }
    }
    if (s.contains("$ref")) {
      if (!s["$ref"].is_string()) return Fail(pointer + "/$ref", "$ref must be a string");
      if (!HasAssertions(s, "$ref")) return RefRule(s["$ref"].get<std::string>(), pointer, depth);
      std::optional<Json> r = Resolve(s, pointer);
      if (!r) return ir_->Never();
      if (r->is_object() && r->contains("$ref")) return Fail(pointer, "recursive $ref with sibling keywords is unsupported");
      return Convert(*r, pointer, depth + 1);
    }
    if (s.contains("allOf")) {
      const Json& all = s["allOf"];
      if (!all.is_array() || all.empty()) return Fail(pointer + "/allOf", "allOf must be a non-empty array");
      Json merged = s;
      merged.erase("allOf");
      std::optional<Json> acc = Resolve(merged, pointer);
      for (size_t i = 0; i < all.size() && acc; ++i) {
        const std::string p = absl::StrCat(pointer, "/allOf/", i);
        std::optional<Json> item = Resolve(all[i], p);
        if (!item) return ir_->Never();
        if (item->is_object() && item->contains("allOf")) {
          // Flatten one nested allOf level.
          Json inner = *item;
          const Json nested = inner["allOf"];
          inner.erase("allOf");
          acc = Merge(*acc, inner, p, 0);
          for (size_t j = 0; j < nested.size() && acc; ++j) {
            std::optional<Json> ni = Resolve(nested[j], p);
            if (!ni) return ir_->Never();
            acc = Merge(*acc, *ni, p, 0);
          }
        } else {
          acc = Merge(*acc, *item, p, 0);
        }
      }
      if (!acc) return ir_->Never();
      return Convert(*acc, pointer, depth + 1);
    }
    for (const char* k : {"anyOf", "oneOf"}) {
      if (!s.contains(k)) continue;
      const Json& branches = s[k];
      if (!branches.is_array() || branches.empty()) return Fail(absl::StrCat(pointer, "/", k), "must be a non-empty array");
      Json base = s;
      base.erase(k);
      const bool has_base = HasAssertions(base, "");
      std::vector<Json> resolved;
      for (size_t i = 0; i < branches.size(); ++i) {
        const std::string p = absl::StrCat(pointer, "/", k, "/", i);
        std::optional<Json> b = has_base ? Merge(base, branches[i], p, 0) : Resolve(branches[i], p);
        if (!b) return ir_->Never();
        resolved.push_back(std::move(*b));
      }
      if (std::string(k) == "oneOf") {
        for (size_t i = 0; i < resolved.size(); ++i) {
          for (size_t j = i + 1; j < resolved.size(); ++j) {
            if (!Disjoint(resolved[i], resolved[j])) {
              return Fail(absl::StrCat(pointer, "/oneOf"),
                          absl::StrCat("unsupported keyword 'oneOf' with branches ", i, " and ", j,
                                       " that may both match (only disjoint types, a const/enum discriminator or "
                                       "additionalProperties: false with distinct required properties are supported)"));
            }
          }
        }
      }
      std::vector<int32_t> alts;
      for (size_t i = 0; i < resolved.size(); ++i) {
        alts.push_back(Convert(resolved[i], absl::StrCat(pointer, "/", k, "/", i), depth + 1));
      }
      return ir_->Alt(std::move(alts));
    }
    // enum / const
    if (s.contains("enum") || s.contains("const")) return ConvertEnum(s, pointer);
    // type
    uint8_t types = kAllTypes;
    if (s.contains("type")) {
      const Json& t = s["type"];
      types = 0;
      for (const Json& x : t.is_array() ? t : Json::array({t})) {
        const uint8_t bits = x.is_string() ? TypeBitsOf(x.get<std::string>()) : 0;
        if (bits == 0) return Fail(pointer + "/type", absl::StrCat("unknown type ", x.dump()));
        types |= bits;
      }
    }
    std::vector<int32_t> alts;
    if (types & kNull) alts.push_back(Token("null"));
    if (types & kBool) alts.push_back(ir_->Alt({Token("true"), Token("false")}));
    if (types & kObject) alts.push_back(ConvertObject(s, pointer, depth));
    if (types & kArray) alts.push_back(ConvertArray(s, pointer, depth));
    if (types & kString) alts.push_back(ConvertString(s, pointer));
    if (types & (kInteger | kFraction)) alts.push_back(ConvertNumber(s, pointer, (types & kFraction) != 0));
    return ir_->Alt(std::move(alts));
  }

  // The JSON types a (resolved) schema can match, for the oneOf check.
  uint8_t PossibleTypes(const Json& s, int hops = 0) {
    if (hops > 16) return kAllTypes;
    if (s.is_boolean()) return s.get<bool>() ? kAllTypes : 0;
    if (!s.is_object()) return kAllTypes;
    if (s.contains("$ref") && s["$ref"].is_string()) {
      const Json* t = ResolvePointerQuiet(s["$ref"].get<std::string>());
      if (t == nullptr) return kAllTypes;
      uint8_t bits = PossibleTypes(*t, hops + 1);
      Json rest = s;
      rest.erase("$ref");
      return bits & PossibleTypes(rest, hops + 1);
    }
    uint8_t bits = kAllTypes;
    if (s.contains("type")) {
      const Json& t = s["type"];
      bits = 0;
      for (const Json& x : t.is_array() ? t : Json::array({t})) bits |= x.is_string() ? TypeBitsOf(x.get<std::string>()) : 0;
    }
    if (s.contains("const")) bits &= TypeBitsOfValue(s["const"]);
    if (s.contains("enum") && s["enum"].is_array()) {
      uint8_t e = 0;
      for (const Json& v : s["enum"]) e |= TypeBitsOfValue(v);
      bits &= e;
    }
    for (const char* k : {"anyOf", "oneOf"}) {
      if (s.contains(k) && s[k].is_array()) {
        uint8_t u = 0;
        for (const Json& b : s[k]) u |= PossibleTypes(b, hops + 1);
        bits &= u;
      }
    }
    if (s.contains("allOf") && s["allOf"].is_array()) {
      for (const Json& b : s["allOf"]) bits &= PossibleTypes(b, hops + 1);
    }
    return bits;
  }

  const Json* ResolvePointerQuiet(const std::string& ref) {
    absl::Status saved = status_;
    const Json* t = ResolvePointer(ref, "");
    status_ = saved;
    return t;
  }

  // Literal values a schema allows (const/enum), if it restricts to a finite set.
  std::optional<std::vector<Json>> LiteralSet(const Json& s) {
    if (!s.is_object()) return std::nullopt;
    Json r = s;
    if (s.contains("$ref") && s["$ref"].is_string()) {
      const Json* t = ResolvePointerQuiet(s["$ref"].get<std::string>());
      if (t == nullptr || !t->is_object()) return std::nullopt;
      r = *t;
    }
    if (r.contains("const")) return std::vector<Json>{r["const"]};
    if (r.contains("enum") && r["enum"].is_array()) return std::vector<Json>(r["enum"].begin(), r["enum"].end());
    return std::nullopt;
  }

  bool Disjoint(const Json& a, const Json& b) {
    const uint8_t ta = PossibleTypes(a), tb = PossibleTypes(b);
    const uint8_t overlap = ta & tb;
    if (overlap == 0) return true;
    // Finite literal sets with no common value.
    std::optional<std::vector<Json>> la = LiteralSet(a), lb = LiteralSet(b);
    if (la && lb) {
      for (const Json& x : *la) {
        for (const Json& y : *lb) {
          if (JsonEqual(x, y)) return false;
        }
      }
      return true;
    }
    if (overlap != kObject || !a.is_object() || !b.is_object()) return false;
    auto required = [](const Json& s) {
      std::set<std::string> r;
      if (s.contains("required") && s["required"].is_array()) {
        for (const Json& x : s["required"]) {
          if (x.is_string()) r.insert(x.get<std::string>());
        }
      }
      return r;
    };
    const std::set<std::string> ra = required(a), rb = required(b);
    // A discriminator: a property both require whose allowed literals differ.
    for (const std::string& k : ra) {
      if (!rb.count(k)) continue;
      if (!a.contains("properties") || !b.contains("properties")) continue;
      if (!a["properties"].contains(k) || !b["properties"].contains(k)) continue;
      std::optional<std::vector<Json>> va = LiteralSet(a["properties"][k]), vb = LiteralSet(b["properties"][k]);
      if (!va || !vb) continue;
      bool common = false;
      for (const Json& x : *va) {
        for (const Json& y : *vb) common = common || JsonEqual(x, y);
      }
      if (!common) return true;
    }
    // additionalProperties: false on one side and a required key the other side cannot have.
    auto closed_excludes = [](const Json& closed, const std::set<std::string>& req) {
      if (!closed.contains("additionalProperties") || closed["additionalProperties"] != Json(false)) return false;
      for (const std::string& k : req) {
        if (!closed.contains("properties") || !closed["properties"].contains(k)) return true;
      }
      return false;
    };
    return closed_excludes(a, rb) || closed_excludes(b, ra);
  }

  // A zero fraction (".0", ".000"): enum and const compare numbers by value, so 1.0 is 1.
  int32_t ZeroFraction() { return ir_->Optional(ir_->Seq({Token("."), ir_->Repeat(Token("0"), 1, kUnbounded)})); }

  // The JSON texts equal to `v` as JSON Schema compares values (enum, const): strings in any
  // spelling of their characters, integral numbers with or without a zero fraction, arrays
  // and objects member by member (objects in the schema's member order) with whitespace
  // between tokens.
  int32_t ValueLiteral(const Json& v) {
    if (v.is_string()) return StringLiteral(v.get<std::string>());
    if (v.is_number_integer() || v.is_number_unsigned()) return ir_->Seq({Token(v.dump()), ZeroFraction()});
    if (v.is_number_float()) {
      const double d = v.get<double>();
      const std::string shortest = v.dump();
      if (std::isfinite(d) && d == std::floor(d)) {
        // Also every digit of an integral double (1e+20 is 100000000000000000000).
        char digits[400];
        std::snprintf(digits, sizeof(digits), "%.0f", std::fabs(d));
        const std::string whole = absl::StrCat(d < 0 ? "-" : "", digits);
        std::vector<int32_t> alts = {ir_->Seq({Token(whole), ZeroFraction()})};
        if (shortest != whole && shortest != whole + ".0") alts.push_back(Token(shortest));
        return ir_->Alt(std::move(alts));
      }
      return Token(shortest);
    }
    if (v.is_array()) {
      if (v.empty()) return ir_->Seq({Token("["), Ws(), Token("]")});
      std::vector<int32_t> items = {Token("["), Ws()};
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) items.push_back(Comma());
        items.push_back(ValueLiteral(v[i]));
      }
      items.push_back(Ws());
      items.push_back(Token("]"));
      return ir_->Seq(std::move(items));
    }
    if (v.is_object()) {
      if (v.empty()) return ir_->Seq({Token("{"), Ws(), Token("}")});
      std::vector<int32_t> items = {Token("{"), Ws()};
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) items.push_back(Comma());
        first = false;
        items.push_back(StringLiteral(it.key()));
        items.push_back(Colon());
        items.push_back(ValueLiteral(it.value()));
      }
      items.push_back(Ws());
      items.push_back(Token("}"));
      return ir_->Seq(std::move(items));
    }
    return Token(v.dump());  // null, true, false
  }

  int32_t ConvertEnum(const Json& s, const std::string& pointer) {
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      if (k == "enum" || k == "const" || k == "type") continue;
      if (SupportedKeywords().contains(k) && k != "format") {
        return Fail(absl::StrCat(pointer, "/", EscapePointerToken(k)),
                    absl::StrCat("unsupported keyword '", k, "' next to enum/const"));
      }
      if (k == "format" && it.value().is_string() && SpecFormats().contains(it.value().get<std::string>())) {
        return Fail(pointer + "/format", "unsupported keyword 'format' next to enum/const");
      }
    }
    std::vector<Json> values;
    if (s.contains("enum")) {
      if (!s["enum"].is_array()) return Fail(pointer + "/enum", "enum must be an array");
      values.assign(s["enum"].begin(), s["enum"].end());
    }
    if (s.contains("const")) {
      if (s.contains("enum")) {
        std::vector<Json> kept;
        for (const Json& v : values) {
          if (JsonEqual(v, s["const"])) kept.push_back(v);
        }
        values = kept;
      } else {
        values = {s["const"]};
      }
    }
    uint8_t types = kAllTypes;
    if (s.contains("type")) {
      types = 0;
      const Json& t = s["type"];
      for (const Json& x : t.is_array() ? t : Json::array({t})) types |= x.is_string() ? TypeBitsOf(x.get<std::string>()) : 0;
    }
    std::vector<int32_t> alts;
    for (const Json& v : values) {
      if (TypeBitsOfValue(v) & types) alts.push_back(ValueLiteral(v));
    }
    return ir_->Alt(std::move(alts));
  }

  std::optional<uint32_t> Count(const Json& s, const char* k, const std::string& pointer) {
    if (!s.contains(k)) return std::nullopt;
    const Json& v = s[k];
    if (!v.is_number() || v.get<double>() < 0) {
      Fail(absl::StrCat(pointer, "/", k), "must be a non-negative number");
      return std::nullopt;
    }
    const double d = std::ceil(v.get<double>());
    if (d > kMaxRepeatBound) {
      // A huge maximum is the same as none for any text we could check; a huge minimum is not.
      if (std::string(k).rfind("max", 0) == 0) return std::nullopt;
      Fail(absl::StrCat(pointer, "/", k), absl::StrCat("exceeds the limit of ", kMaxRepeatBound));
      return std::nullopt;
    }
    return static_cast<uint32_t>(d);
  }

  int32_t ConvertString(const Json& s, const std::string& pointer) {
    const std::optional<uint32_t> min_len = Count(s, "minLength", pointer);
    const std::optional<uint32_t> max_len = Count(s, "maxLength", pointer);
    const bool has_len = min_len || max_len;
    std::string pattern;
    std::string pattern_ptr;
    if (s.contains("format") && s["format"].is_string()) {
      const std::string f = s["format"].get<std::string>();
      const char* fp = FormatPattern(f);
      if (fp != nullptr) {
        pattern = fp;
        pattern_ptr = pointer + "/format";
      } else if (SpecFormats().contains(f)) {
        return Fail(pointer + "/format", absl::StrCat("unsupported format '", f, "'"));
      }
    }
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) return Fail(pointer + "/pattern", "must be a string");
      if (!pattern.empty()) return Fail(pointer + "/pattern", "unsupported keyword 'pattern' together with 'format'");
      pattern = s["pattern"].get<std::string>();
      pattern_ptr = pointer + "/pattern";
    }
    if (!pattern.empty()) {
      if (has_len) return Fail(pattern_ptr, "pattern/format together with minLength/maxLength is unsupported");
      int32_t body = -1;
      absl::Status st = RegexToGrammar(pattern, [this](const std::vector<CodeRange>& r) { return JsonChar(r); }, ir_, &body);
      if (!st.ok()) return Fail(pattern_ptr, std::string(st.message()));
      return ir_->Seq({Token("\""), body, Token("\"")});
    }
    if (!has_len) return AnyString();
    const uint32_t lo = min_len.value_or(0);
    const uint32_t hi = max_len.value_or(kUnbounded);
    if (!status_.ok()) return ir_->Never();
    return ir_->Seq({Token("\""), ir_->Repeat(AnyStringChar(), lo, hi), Token("\"")});
  }

  // An integral bound as int64 (rounded inwards for integers), or an error.
  bool Bound(const Json& s, const char* k, bool is_min, bool integers, std::optional<int64_t>* out, bool* exclusive,
             const std::string& pointer) {
    if (!s.contains(k)) return true;
    const Json& v = s[k];
    if (v.is_boolean()) {  // draft 4: exclusiveMinimum: true modifies minimum
      *exclusive = *exclusive || v.get<bool>();
      return true;
    }
    if (!v.is_number()) {
      Fail(absl::StrCat(pointer, "/", k), "must be a number");
      return false;
    }
    const bool excl = std::string(k).rfind("exclusive", 0) == 0;
    double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 9e15) {
      Fail(absl::StrCat(pointer, "/", k), "bound out of the supported range");
      return false;
    }
    if (integers) {
      // Integer n > d  <=>  n >= floor(d) + 1; n >= d <=> n >= ceil(d); likewise for max.
      double b = is_min ? (excl ? std::floor(d) + 1 : std::ceil(d)) : (excl ? std::ceil(d) - 1 : std::floor(d));
      const int64_t iv = static_cast<int64_t>(b);
      if (!*out || (is_min ? iv > **out : iv < **out)) *out = iv;
      return true;
    }
    if (d != std::floor(d)) {
      Fail(absl::StrCat(pointer, "/", k), "a non-integral bound on a number is unsupported");
      return false;
    }
    const int64_t iv = static_cast<int64_t>(d);
    if (!*out || (is_min ? iv > **out : iv < **out) || (iv == **out && excl)) {
      *out = iv;
      *exclusive = excl;
    }
    return true;
  }

  int32_t ConvertNumber(const Json& s, const std::string& pointer, bool fractions) {
    const bool bounded = s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") ||
                         s.contains("exclusiveMaximum");
    if (!bounded) return fractions ? AnyNumber() : AnyInteger();
    std::optional<int64_t> lo, hi;
    bool lo_excl = false, hi_excl = false;
    // Draft 4 boolean exclusives modify the plain bounds: read them first.
    if (s.contains("exclusiveMinimum") && s["exclusiveMinimum"].is_boolean()) lo_excl = s["exclusiveMinimum"].get<bool>();
    if (s.contains("exclusiveMaximum") && s["exclusiveMaximum"].is_boolean()) hi_excl = s["exclusiveMaximum"].get<bool>();
    const bool d4_lo = lo_excl, d4_hi = hi_excl;
    if (!fractions) {
      // Integers: fold exclusivity into the bound.
      Json t = s;
      if (d4_lo && t.contains("minimum")) {
        t["exclusiveMinimum"] = t["minimum"];
        t.erase("minimum");
      }
      if (d4_hi && t.contains("maximum")) {
        t["exclusiveMaximum"] = t["maximum"];
        t.erase("maximum");
      }
      bool dummy = false;
      if (!Bound(t, "minimum", true, true, &lo, &dummy, pointer) ||
          (t["exclusiveMinimum"].is_number() && !Bound(t, "exclusiveMinimum", true, true, &lo, &dummy, pointer)) ||
          !Bound(t, "maximum", false, true, &hi, &dummy, pointer) ||
          (t["exclusiveMaximum"].is_number() && !Bound(t, "exclusiveMaximum", false, true, &hi, &dummy, pointer))) {
        return ir_->Never();
      }
      return IntegerRangeExpr(ir_, lo, hi);
    }
    lo_excl = false;
    hi_excl = false;
    if (!Bound(s, "minimum", true, false, &lo, &lo_excl, pointer)) return ir_->Never();
    lo_excl = lo_excl || d4_lo;
    if (s.contains("exclusiveMinimum") && s["exclusiveMinimum"].is_number() &&
        !Bound(s, "exclusiveMinimum", true, false, &lo, &lo_excl, pointer)) {
      return ir_->Never();
    }
    if (!Bound(s, "maximum", false, false, &hi, &hi_excl, pointer)) return ir_->Never();
    hi_excl = hi_excl || d4_hi;
    if (s.contains("exclusiveMaximum") && s["exclusiveMaximum"].is_number() &&
        !Bound(s, "exclusiveMaximum", false, false, &hi, &hi_excl, pointer)) {
      return ir_->Never();
    }
    return NumberRangeExpr(ir_, lo, lo_excl, hi, hi_excl);
  }

  int32_t ConvertObject(const Json& s, const std::string& pointer, int depth) {
    struct Prop {
      std::string key;
      int32_t value;
      bool required;
    };
    std::vector<Prop> props;
    std::set<std::string> required;
    std::vector<std::string> required_in_order;  // undeclared ones are emitted in this order
    if (s.contains("required")) {
      const Json& r = s["required"];
      if (!r.is_array()) return Fail(pointer + "/required", "must be an array");
      for (const Json& x : r) {
        if (!x.is_string()) return Fail(pointer + "/required", "must hold strings");
        if (required.insert(x.get<std::string>()).second) required_in_order.push_back(x.get<std::string>());
      }
    }
    const Json additional = s.contains("additionalProperties") ? s["additionalProperties"] : Json(true);
    const bool additional_allowed = !(additional.is_boolean() && !additional.get<bool>());
    std::vector<std::string> declared;
    if (s.contains("properties")) {
      const Json& p = s["properties"];
      if (!p.is_object()) return Fail(pointer + "/properties", "must be an object");
      for (auto it = p.begin(); it != p.end(); ++it) {
        declared.push_back(it.key());
        const bool req = required.count(it.key()) != 0;
        if (it.value().is_boolean() && !it.value().get<bool>()) {
          if (req) return ir_->Never();
          continue;
        }
        props.push_back({it.key(),
                         Convert(it.value(), absl::StrCat(pointer, "/properties/", EscapePointerToken(it.key())), depth + 1),
                         req});
      }
    }
    // Required properties not declared: validated by additionalProperties.
    for (const std::string& r : required_in_order) {
      if (std::find(declared.begin(), declared.end(), r) != declared.end()) continue;
      if (!additional_allowed) return ir_->Never();
      declared.push_back(r);
      props.push_back({r, Convert(additional, pointer + "/additionalProperties", depth + 1), true});
    }
    int32_t extra_member = -1;
    if (additional_allowed) {
      extra_member = ir_->Seq({StringNotIn(declared), Colon(),
                               Convert(additional, pointer + "/additionalProperties", depth + 1)});
    }
    auto member = [&](const Prop& p) {
      return ir_->Seq({StringLiteral(p.key), Colon(), p.value});
    };
    // after[i]: members i.. when something came before (each preceded by a comma);
    // first[i]: the same when nothing came before.
    const size_t n = props.size();
    std::vector<int32_t> after(n + 1), first(n + 1);
    for (size_t i = 0; i <= n; ++i) {
      after[i] = ir_->NewRule("members");
      first[i] = ir_->NewRule("members");
    }
    if (extra_member >= 0) {
      ir_->Define(after[n], ir_->Star(ir_->Seq({Comma(), extra_member})));
      ir_->Define(first[n], ir_->Optional(ir_->Seq({extra_member, ir_->Star(ir_->Seq({Comma(), extra_member}))})));
    } else {
      ir_->Define(after[n], ir_->Empty());
      ir_->Define(first[n], ir_->Empty());
    }
    for (size_t i = n; i-- > 0;) {
      const int32_t with = ir_->Seq({Comma(), member(props[i]), ir_->Ref(after[i + 1])});
      const int32_t first_with = ir_->Seq({member(props[i]), ir_->Ref(after[i + 1])});
      if (props[i].required) {
        ir_->Define(after[i], with);
        ir_->Define(first[i], first_with);
      } else {
        ir_->Define(after[i], ir_->Alt({with, ir_->Ref(after[i + 1])}));
        ir_->Define(first[i], ir_->Alt({first_with, ir_->Ref(first[i + 1])}));
      }
    }
    return ir_->Seq({Token("{"), Ws(), ir_->Ref(first[0]), Ws(), Token("}")});
  }

  int32_t ConvertArray(const Json& s, const std::string& pointer, int depth) {
    std::vector<int32_t> prefix;
    int32_t items = -1;  // -1: no further items allowed
    bool items_any = true;
    const Json* prefix_json = nullptr;
    std::string prefix_ptr;
    if (s.contains("prefixItems")) {
      prefix_json = &s["prefixItems"];
      prefix_ptr = pointer + "/prefixItems";
    } else if (s.contains("items") && s["items"].is_array()) {
      prefix_json = &s["items"];
      prefix_ptr = pointer + "/items";
    }
    if (prefix_json != nullptr) {
      if (!prefix_json->is_array()) return Fail(prefix_ptr, "must be an array");
      for (size_t i = 0; i < prefix_json->size(); ++i) {
        prefix.push_back(Convert((*prefix_json)[i], absl::StrCat(prefix_ptr, "/", i), depth + 1));
      }
    }
    // The schema for items after the prefix.
    const Json* rest = nullptr;
    std::string rest_ptr;
    if (s.contains("prefixItems") && s.contains("items")) {
      rest = &s["items"];
      rest_ptr = pointer + "/items";
    } else if (!s.contains("prefixItems") && s.contains("items") && !s["items"].is_array()) {
      rest = &s["items"];
      rest_ptr = pointer + "/items";
    } else if (s.contains("items") && s["items"].is_array() && s.contains("additionalItems")) {
      rest = &s["additionalItems"];
      rest_ptr = pointer + "/additionalItems";
    }
    if (rest != nullptr) {
      if (rest->is_boolean() && !rest->get<bool>()) {
        items_any = false;
      } else {
        items = Convert(*rest, rest_ptr, depth + 1);
        items_any = false;
      }
    }
    if (items_any) items = AnyValue();
    const uint32_t min = Count(s, "minItems", pointer).value_or(0);
    std::optional<uint32_t> max = Count(s, "maxItems", pointer);
    if (!status_.ok()) return ir_->Never();
    const uint32_t k = static_cast<uint32_t>(prefix.size());
    if (items < 0) max = std::min(max.value_or(k), k);
    if (max && min > *max) return ir_->Never();
    // Element j (0-based): prefix[j] or items. rest(j): elements j.. each after a comma.
    auto element = [&](uint32_t j) { return j < k ? prefix[j] : items; };
    int32_t tail;  // elements from index max(k, 1)..
    const uint32_t start = std::max<uint32_t>(k, 1);
    if (max && *max <= start) {
      tail = ir_->Empty();
    } else if (items < 0) {
      tail = ir_->Empty();
    } else {
      const uint32_t need = min > start ? min - start : 0;
      const int32_t one = ir_->Seq({Comma(), items});
      const uint32_t opt_max = max ? *max - start - need : kUnbounded;
      tail = ir_->Seq({ir_->Repeat(one, need, need), ir_->Repeat(one, 0, opt_max)});
    }
    // Prefix elements 1..k-1, each optional from index `min` on (nested, so that an element
    // only appears after the previous one).
    int32_t rest_expr = tail;
    for (uint32_t j = std::min(k, max.value_or(k)); j-- > 1;) {
      const int32_t with = ir_->Seq({Comma(), element(j), rest_expr});
      rest_expr = j >= min ? ir_->Optional(with) : with;
    }
    if (max && *max == 0) return ir_->Seq({Token("["), Ws(), Token("]")});
    const int32_t body = ir_->Seq({element(0), rest_expr, Ws()});
    if (element(0) < 0) return ir_->Seq({Token("["), Ws(), Token("]")});
    return ir_->Seq({Token("["), Ws(), min == 0 ? ir_->Optional(body) : body, Token("]")});
  }

  Json root_;
  GrammarIr* ir_;
  absl::Status status_;
  int32_t ws_ = -1, any_string_ = -1, any_number_ = -1, any_value_ = -1, any_object_ = -1;
  absl::flat_hash_map<std::string, int32_t> json_chars_;
  absl::flat_hash_map<std::string, int32_t> ref_rules_;
  int n_converted_ = 0;
};

// Deepest bracket nesting of a JSON text, so that hostile input is refused before the
// (recursive) JSON library sees it.
int MaxNesting(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

absl::Status JsonSchemaToGrammar(std::string_view schema_json, GrammarIr* ir) {
  if (schema_json.size() > kMaxGrammarTextBytes) {
    return absl::InvalidArgumentError(absl::StrCat("schema exceeds ", kMaxGrammarTextBytes, " bytes"));
  }
  if (MaxNesting(schema_json) > 4 * kMaxNestingDepth) {
    return absl::InvalidArgumentError(absl::StrCat("schema nested deeper than ", 4 * kMaxNestingDepth, " brackets"));
  }
  Json root = Json::parse(schema_json.begin(), schema_json.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return absl::InvalidArgumentError("the schema is not valid JSON");
  return Converter(std::move(root), ir).Run();
}

void JsonObjectGrammar(GrammarIr* ir) { Converter(Json::object(), ir).ObjectOnly(); }

}  // namespace ember::grammar
