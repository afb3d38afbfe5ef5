#include "lib/chat/json_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "absl/status/status.h"
#include "lib/base/errors.h"
#include "lib/chat/py_string.h"
#include "lib/chat/py_text.h"
#include "lib/chat/value.h"

namespace ember::chat {

namespace {

absl::StatusOr<Value> FromJson(const nlohmann::ordered_json& j, uint32_t depth) {
  if (depth > kMaxValueDepth) {
    return absl::InvalidArgumentError("JSON context nests deeper than " + std::to_string(kMaxValueDepth));
  }
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::None();
    case nlohmann::ordered_json::value_t::boolean: return Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::Int(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::Int(static_cast<int64_t>(u));
      return Value::Float(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::Float(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& e : j) {
        EMBER_ASSIGN_OR_RETURN(Value v, FromJson(e, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::List(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto dict = std::make_shared<Dict>();
      for (const auto& [k, e] : j.items()) {
        EMBER_ASSIGN_OR_RETURN(Value v, FromJson(e, depth + 1));
        dict->Set(Value::String(k), std::move(v));
      }
      return Value::FromDict(std::move(dict));
    }
    default:
      return absl::InvalidArgumentError("JSON context holds a value of unsupported type");
  }
}

void AppendJsonString(const std::string& s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  char buf[16];
  for (char32_t cp : ToCodePoints(s)) {
    switch (cp) {
      case '"': *out += "\\\""; continue;
      case '\\': *out += "\\\\"; continue;
      case '\n': *out += "\\n"; continue;
      case '\r': *out += "\\r"; continue;
      case '\t': *out += "\\t"; continue;
      case '\b': *out += "\\b"; continue;
      case '\f': *out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      *out += buf;
    } else if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (!ensure_ascii) {
      out->append(FromCodePoints(std::u32string(1, cp)));
    } else if (cp <= 0xFFFF) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      *out += buf;
    } else {
      const char32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                    static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      *out += buf;
    }
  }
  out->push_back('"');
}

std::string JsonFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  return PyFloatRepr(f);
}

absl::StatusOr<std::string> KeyText(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::kString: return k.str();
    case Value::Kind::kInt: return std::to_string(k.as_int());
    case Value::Kind::kFloat: return JsonFloat(k.as_float());
    case Value::Kind::kBool: return std::string(k.as_bool() ? "true" : "false");
    case Value::Kind::kNone: return std::string("null");
    default:
      return absl::InvalidArgumentError("keys must be str, int, float, bool or None, not " + k.TypeName());
  }
}

absl::Status Dump(const Value& v, const JsonDumpOptions& o, int level, std::string* out) {
  // Shared sub-values can make the text of a small value astronomically long.
  if (out->size() > o.max_bytes) return absl::InvalidArgumentError("tojson: the JSON text would be too large");
  auto newline = [&](int lvl) {
    if (!o.indent) return;
    out->push_back('\n');
    for (int i = 0; i < lvl; ++i) out->append(*o.indent);
  };
  switch (v.kind()) {
    case Value::Kind::kNone: *out += "null"; return absl::OkStatus();
    case Value::Kind::kBool: *out += v.as_bool() ? "true" : "false"; return absl::OkStatus();
    case Value::Kind::kInt: *out += std::to_string(v.as_int()); return absl::OkStatus();
    case Value::Kind::kFloat: *out += JsonFloat(v.as_float()); return absl::OkStatus();
    case Value::Kind::kString: AppendJsonString(v.str(), o.ensure_ascii, out); return absl::OkStatus();
    case Value::Kind::kList:
    case Value::Kind::kTuple: {
      const ValueList& items = v.items();
      if (items.empty()) {
        *out += "[]";
        return absl::OkStatus();
      }
      out->push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) *out += o.item_separator;
        newline(level + 1);
        EMBER_RETURN_IF_ERROR(Dump(items[i], o, level + 1, out));
      }
      newline(level);
      out->push_back(']');
      return absl::OkStatus();
    }
    case Value::Kind::kDict: {
      if (v.dict().size() == 0) {
        *out += "{}";
        return absl::OkStatus();
      }
      std::vector<std::pair<std::string, const Value*>> entries;
      for (const auto& [k, val] : v.dict().entries()) {
        EMBER_ASSIGN_OR_RETURN(std::string key, KeyText(k));
        entries.emplace_back(std::move(key), &val);
      }
      if (o.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return ToCodePoints(a.first) < ToCodePoints(b.first); });
      }
      out->push_back('{');
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) *out += o.item_separator;
        newline(level + 1);
        AppendJsonString(entries[i].first, o.ensure_ascii, out);
        *out += o.key_separator;
        EMBER_RETURN_IF_ERROR(Dump(*entries[i].second, o, level + 1, out));
      }
      newline(level);
      out->push_back('}');
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("Object of type " + v.TypeName() + " is not JSON serializable");
  }
}

}  // namespace

absl::StatusOr<Value> ValueFromJson(const nlohmann::ordered_json& json) { return FromJson(json, 0); }

absl::StatusOr<std::string> PyJsonDumps(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  EMBER_RETURN_IF_ERROR(Dump(value, options, 0, &out));
  return out;
}

}  // namespace ember::chat
