// Python str semantics over UTF-8 text: code-point length and indexing, whitespace as
// str.isspace() defines it, case mapping (utf8proc's simple mappings), splitting and
// stripping, and str.splitlines() line boundaries. Inputs are valid UTF-8 (templates and
// contexts are validated on entry, and every operation here keeps text valid).
#ifndef EMBER_CHAT_PY_STRING_H_
#define EMBER_CHAT_PY_STRING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::chat {

std::u32string ToCodePoints(std::string_view s);
std::string FromCodePoints(std::u32string_view cps);
// len(s) in code points.
size_t CodePointLength(std::string_view s);

bool IsPySpace(char32_t cp);
// The code point sets str.isalpha/isdigit/isalnum/isupper/islower use (Unicode categories).
bool IsPyAlpha(char32_t cp);
bool IsPyDigit(char32_t cp);
bool IsPyCased(char32_t cp);
bool IsPyUpper(char32_t cp);
bool IsPyLower(char32_t cp);
// Whether repr() prints the code point as is (str.isprintable).
bool IsPyPrintable(char32_t cp);

std::string PyUpper(std::string_view s);
std::string PyLower(std::string_view s);
std::string PyTitle(std::string_view s);       // str.title()
std::string PyCapitalize(std::string_view s);  // str.capitalize()
std::string PySwapCase(std::string_view s);

enum class StripSide { kBoth, kLeft, kRight };
// str.strip() (chars == nullptr: whitespace) / lstrip / rstrip.
std::string PyStrip(std::string_view s, const std::string* chars, StripSide side);
// str.split(sep, maxsplit) / rsplit; sep == nullptr splits on whitespace runs.
std::vector<std::string> PySplit(std::string_view s, const std::string* sep, int64_t maxsplit,
                                 bool from_right);
// str.splitlines(keepends).
std::vector<std::string> PySplitLines(std::string_view s, bool keepends);
// str.replace(old, new, count); count < 0 replaces all.
std::string PyReplace(std::string_view s, std::string_view old_text, std::string_view new_text,
                      int64_t count);

// Normalizes a code point index the way Python slicing does; used by indexing too.
// Returns false if `index` is out of range for indexing.
bool PyIndex(int64_t index, int64_t length, int64_t* out);
// Python's slice.indices(): clamps start/stop for `step` and returns the picked positions.
std::vector<int64_t> PySliceIndices(const int64_t* start, const int64_t* stop, int64_t step,
                                    int64_t length);

}  // namespace ember::chat

#endif  // EMBER_CHAT_PY_STRING_H_
