#include "lib/tokenizer/utf8.h"

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace ember {

Utf8Char DecodeUtf8(std::string_view text) {
  Utf8Char c;
  const auto lead = static_cast<uint8_t>(text[0]);
  if (lead < 0x80) {
    c.kind = Utf8Char::Kind::kValid;
    c.code_point = lead;
    c.length = 1;
    return c;
  }
  // Well-formed sequences (Unicode table 3-7): the lead byte fixes the length and the
  // allowed range of the second byte, which is what excludes overlongs, surrogates and
  // values above U+10FFFF; later bytes are plain continuation bytes.
  size_t needed = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  char32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    needed = 2;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    needed = 3;
    cp = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    needed = 4;
    cp = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    c.length = 1;  // a continuation byte or a byte that never starts a character
    return c;
  }
  for (size_t i = 1; i < needed; ++i) {
    if (i >= text.size()) {
      c.kind = Utf8Char::Kind::kIncomplete;
      c.length = i;
      return c;
    }
    const auto b = static_cast<uint8_t>(text[i]);
    const uint8_t min = i == 1 ? lo : 0x80;
    const uint8_t max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      c.length = i;
      return c;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  c.kind = Utf8Char::Kind::kValid;
  c.code_point = cp;
  c.length = needed;
  return c;
}

size_t FindInvalidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Utf8Char c = DecodeUtf8(text.substr(pos));
    if (c.kind != Utf8Char::Kind::kValid) return pos;
    pos += c.length;
  }
  return text.size();
}

absl::Status CheckUtf8(std::string_view text, std::string_view what) {
  const size_t bad = FindInvalidUtf8(text);
  if (bad == text.size()) return absl::OkStatus();
  return InvalidUtf8Error(
      absl::StrCat(AV(what), ": invalid UTF-8 at byte offset ", bad, " (byte 0x",
                   absl::Hex(static_cast<uint8_t>(text[bad]), absl::kZeroPad2), ")"));
}

void AppendUtf8(char32_t cp, std::string* out) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = kReplacementChar;
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

std::string ToValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Utf8Char c = DecodeUtf8(bytes.substr(pos));
    if (c.kind == Utf8Char::Kind::kValid) {
      out.append(bytes.substr(pos, c.length));
    } else {
      AppendUtf8(kReplacementChar, &out);
    }
    pos += c.length;
  }
  return out;
}

void Utf8Stream::Push(std::string_view bytes, std::string* out) {
  // Complete the held-back character first, one byte at a time (it needs at most 3 more).
  while (pending_size_ > 0 && !bytes.empty()) {
    pending_[pending_size_++] = bytes.front();
    bytes.remove_prefix(1);
    const Utf8Char c = DecodeUtf8(std::string_view(pending_, pending_size_));
    if (c.kind == Utf8Char::Kind::kIncomplete) continue;
    if (c.kind == Utf8Char::Kind::kValid) {
      out->append(pending_, pending_size_);
      pending_size_ = 0;
    } else {
      // The maximal subpart ends before the byte that broke it; that byte and anything
      // after it start over.
      AppendUtf8(kReplacementChar, out);
      const std::string rest(pending_ + c.length, pending_size_ - c.length);
      pending_size_ = 0;
      Push(rest, out);
    }
  }
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Utf8Char c = DecodeUtf8(bytes.substr(pos));
    if (c.kind == Utf8Char::Kind::kIncomplete) {
      for (size_t i = 0; i < c.length; ++i) pending_[i] = bytes[pos + i];
      pending_size_ = c.length;
      return;
    }
    if (c.kind == Utf8Char::Kind::kValid) {
      out->append(bytes.substr(pos, c.length));
    } else {
      AppendUtf8(kReplacementChar, out);
    }
    pos += c.length;
  }
}

void Utf8Stream::Flush(std::string* out) {
  if (pending_size_ > 0) AppendUtf8(kReplacementChar, out);
  pending_size_ = 0;
}

}  // namespace ember
