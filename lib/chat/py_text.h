// Python's text forms of values: str() (what `{{ value }}` prints) and repr() (how a value
// prints inside a list or dict), including Python's float repr (shortest round-trip digits,
// "1e-05", "1e+16", "0.1", "5.0").
#ifndef EMBER_CHAT_PY_TEXT_H_
#define EMBER_CHAT_PY_TEXT_H_

#include <string>

#include "lib/chat/value.h"

namespace ember::chat {

// Values share sub-values, so the text of a small value can be astronomically long: the
// result stops growing once it exceeds `max_bytes` (callers that cap sizes then reject it).
inline constexpr size_t kMaxReprBytes = size_t{64} << 20;
std::string PyStr(const Value& v, size_t max_bytes = kMaxReprBytes);
std::string PyRepr(const Value& v, size_t max_bytes = kMaxReprBytes);
std::string PyFloatRepr(double f);
// repr() of a str: quotes and escapes as Python does.
std::string PyStringRepr(const std::string& s);

}  // namespace ember::chat

#endif  // EMBER_CHAT_PY_TEXT_H_
