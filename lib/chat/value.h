// The values a chat template computes with, modelled on the Python objects jinja2 sees:
// Undefined, None, bool, int, float, str (optionally "safe", jinja2's Markup), list, tuple,
// dict (insertion-ordered) and opaque objects (namespace, macro, loop, bound methods, ...).
// Lists, tuples, dicts and strings are immutable once built (the sandbox forbids mutating
// them), so values share them freely; only namespaces change, through `set ns.attr`.
#ifndef EMBER_CHAT_VALUE_H_
#define EMBER_CHAT_VALUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace ember::chat {

class Value;
class Object;
class Interpreter;

using ValueList = std::vector<Value>;

inline constexpr uint32_t kMaxValueDepth = 200;

// Arguments of a call: positional, then keyword (in call order).
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

class Dict;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kTuple, kDict, kObject,
              kGenerator };  // kGenerator: what jinja2's map/select/... filters return

  Value() = default;  // Undefined
  static Value Undefined(std::string hint = {});
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value String(std::string s, bool safe = false);
  static Value List(ValueList items);
  static Value Tuple(ValueList items);
  // A one-pass iterable (Python generator): always true, no len(), no indexing.
  static Value Generator(ValueList items);
  static Value FromDict(std::shared_ptr<const Dict> dict);
  static Value FromObject(std::shared_ptr<Object> object);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // Python's numbers include bool.
  bool is_number() const { return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kTuple; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_generator() const { return kind_ == Kind::kGenerator; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // bool and int
  double as_float() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  const std::string& str() const;  // string; the hint for Undefined
  bool safe() const { return safe_; }
  const ValueList& items() const;  // list, tuple and generator
  const Dict& dict() const;
  const std::shared_ptr<const Dict>& dict_ptr() const { return dict_; }
  Object* object() const { return object_.get(); }
  const std::shared_ptr<Object>& object_ptr() const { return object_; }

  // Nesting depth: 0 for scalars, 1 + the deepest element for containers. Storing a value
  // deeper than kMaxValueDepth is an error, because destroying, printing or comparing a
  // value recurses once per level.
  uint32_t depth() const;

  // Python's bool(value).
  bool Truthy() const;
  // The Python type name used in messages ("str", "list", "dict object"...).
  std::string TypeName() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool safe_ = false;
  uint32_t depth_ = 0;
  int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const std::string> str_;
  std::shared_ptr<const ValueList> list_;
  std::shared_ptr<const Dict> dict_;
  std::shared_ptr<Object> object_;
};

// The error jinja2 raises when an Undefined is used beyond printing, testing or iterating
// ("'x' is undefined", "'dict object' has no attribute 'y'").
absl::Status UndefinedError(const Value& undefined);

// Python equality (1 == 1.0 == True, element-wise for sequences, order-free for dicts).
// Containers that share storage are equal at once, as Python's identity shortcut makes
// them. Values share sub-values freely, so a hostile template can build structures whose
// element-wise comparison is exponential: past kMaxCompareSteps element comparisons the
// answer is "not equal" instead of a hang.
inline constexpr uint64_t kMaxCompareSteps = 1000000;
bool PyEquals(const Value& a, const Value& b);
// PyEquals drawing on a budget shared with other comparisons (`*steps` counts up).
bool PyEqualsWithin(const Value& a, const Value& b, uint64_t* steps);

// An insertion-ordered mapping with Python key equality. String keys are indexed; other
// keys (rare in templates) are found by a linear scan.
class Dict {
 public:
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  // nullptr if absent.
  const Value* Find(const Value& key) const;
  const Value* FindString(std::string_view key) const;
  // Inserts or replaces (keeping the first insertion's position, as Python does).
  void Set(Value key, Value value);

 private:
  std::vector<std::pair<Value, Value>> entries_;
  absl::flat_hash_map<std::string, size_t> string_index_;
};

// Non-data objects: namespaces, macros, loop state, builtin functions, bound methods.
class Object {
 public:
  virtual ~Object() = default;
  virtual std::string TypeName() const = 0;
  // Attribute lookup (`obj.name`); Undefined if absent.
  virtual Value GetAttr(std::string_view name) const;
  // `set obj.name = value`; false if the object does not allow it (only namespaces do).
  virtual bool SetAttr(std::string_view name, Value value);
  virtual bool callable() const { return false; }
  virtual absl::StatusOr<Value> Call(Interpreter& interp, CallArgs& args);
  // str(obj).
  virtual std::string Str() const;
  // Drops references to other values at the end of a render, so that reference cycles
  // (a namespace holding itself, a macro stored in the scope it closes over) are freed.
  virtual void BreakCycles() {}
  // Nesting depth of the values the object holds (see Value::depth).
  virtual uint32_t depth() const { return 0; }
};

}  // namespace ember::chat

#endif  // EMBER_CHAT_VALUE_H_
