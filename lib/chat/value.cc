#include "lib/chat/value.h"

#include <algorithm>

#include "absl/status/status.h"
#include "lib/base/errors.h"

namespace ember::chat {

namespace {
const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
const ValueList& EmptyList() {
  static const ValueList* empty = new ValueList();
  return *empty;
}
}  // namespace

Value Value::Undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.str_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}
Value Value::None() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.int_ = b ? 1 : 0;
  return v;
}
Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_ = i;
  return v;
}
Value Value::Float(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.float_ = f;
  return v;
}
Value Value::String(std::string s, bool safe) {
  Value v;
  v.kind_ = Kind::kString;
  v.safe_ = safe;
  v.str_ = std::make_shared<const std::string>(std::move(s));
  return v;
}
Value Value::List(ValueList items) {
  Value v;
  v.kind_ = Kind::kList;
  for (const Value& item : items) v.depth_ = std::max(v.depth_, item.depth() + 1);
  if (items.empty()) v.depth_ = 1;
  v.list_ = std::make_shared<const ValueList>(std::move(items));
  return v;
}
Value Value::Tuple(ValueList items) {
  Value v = List(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}
Value Value::Generator(ValueList items) {
  Value v = List(std::move(items));
  v.kind_ = Kind::kGenerator;
  return v;
}
Value Value::FromDict(std::shared_ptr<const Dict> dict) {
  Value v;
  v.kind_ = Kind::kDict;
  v.depth_ = 1;
  for (const auto& [key, value] : dict->entries()) {
    v.depth_ = std::max({v.depth_, key.depth() + 1, value.depth() + 1});
  }
  v.dict_ = std::move(dict);
  return v;
}
Value Value::FromObject(std::shared_ptr<Object> object) {
  Value v;
  v.kind_ = Kind::kObject;
  v.object_ = std::move(object);
  return v;
}

uint32_t Value::depth() const { return kind_ == Kind::kObject ? object_->depth() : depth_; }

const std::string& Value::str() const { return str_ ? *str_ : EmptyString(); }
const ValueList& Value::items() const { return list_ ? *list_ : EmptyList(); }
const Dict& Value::dict() const {
  static const Dict* empty = new Dict();
  return dict_ ? *dict_ : *empty;
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool:
    case Kind::kInt: return int_ != 0;
    case Kind::kFloat: return float_ != 0;
    case Kind::kString: return !str().empty();
    case Kind::kList:
    case Kind::kTuple: return !items().empty();
    case Kind::kDict: return dict().size() != 0;
    case Kind::kObject:
    case Kind::kGenerator: return true;
  }
  return false;
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kGenerator: return "generator";
    case Kind::kDict: return "dict";
    case Kind::kObject: return object_->TypeName();
  }
  return "?";
}

absl::Status UndefinedError(const Value& undefined) {
  return absl::InvalidArgumentError(undefined.str().empty() ? std::string("value is undefined") : undefined.str());
}

namespace {

bool Equals(const Value& a, const Value& b, uint64_t* steps) {
  if (++*steps > kMaxCompareSteps) return false;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return true;
    case Value::Kind::kString: return a.str() == b.str();
    case Value::Kind::kList:
    case Value::Kind::kTuple: {
      const ValueList& x = a.items();
      const ValueList& y = b.items();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equals(x[i], y[i], steps)) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      if (a.dict_ptr() == b.dict_ptr()) return true;
      if (a.dict().size() != b.dict().size()) return false;
      for (const auto& [k, v] : a.dict().entries()) {
        const Value* other = b.dict().Find(k);
        if (other == nullptr || !Equals(v, *other, steps)) return false;
      }
      return true;
    }
    case Value::Kind::kObject: return a.object() == b.object();
    case Value::Kind::kGenerator: return &a.items() == &b.items();
    default: return false;
  }
}

}  // namespace

bool PyEquals(const Value& a, const Value& b) {
  uint64_t steps = 0;
  return Equals(a, b, &steps);
}

bool PyEqualsWithin(const Value& a, const Value& b, uint64_t* steps) { return Equals(a, b, steps); }

const Value* Dict::Find(const Value& key) const {
  if (key.is_string()) return FindString(key.str());
  for (const auto& [k, v] : entries_) {
    if (PyEquals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::FindString(std::string_view key) const {
  auto it = string_index_.find(AV(key));
  return it == string_index_.end() ? nullptr : &entries_[it->second].second;
}

void Dict::Set(Value key, Value value) {
  if (key.is_string()) {
    auto [it, inserted] = string_index_.try_emplace(key.str(), entries_.size());
    if (!inserted) {
      entries_[it->second].second = std::move(value);
      return;
    }
    entries_.emplace_back(std::move(key), std::move(value));
    return;
  }
  for (auto& [k, v] : entries_) {
    if (PyEquals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

Value Object::GetAttr(std::string_view) const { return Value::Undefined(); }
bool Object::SetAttr(std::string_view, Value) { return false; }
absl::StatusOr<Value> Object::Call(Interpreter&, CallArgs&) {
  return absl::InvalidArgumentError("'" + TypeName() + "' object is not callable");
}
std::string Object::Str() const { return "<" + TypeName() + " object>"; }

}  // namespace ember::chat
