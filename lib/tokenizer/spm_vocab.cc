#include "lib/tokenizer/spm_vocab.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/errors.h"

namespace ember {

int ParseByteToken(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  int value = 0;
  for (char c : piece.substr(3, 2)) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return -1;
    }
    value = value * 16 + digit;
  }
  return value;
}

std::string UnescapeSpaces(std::string_view piece) {
  std::string out;
  out.reserve(piece.size());
  size_t pos = 0;
  while (pos < piece.size()) {
    const size_t hit = piece.find(kSpaceMarker, pos);
    if (hit == std::string_view::npos) {
      out.append(piece.substr(pos));
      break;
    }
    out.append(piece.substr(pos, hit - pos));
    out.push_back(' ');
    pos = hit + kSpaceMarker.size();
  }
  return out;
}

absl::StatusOr<SpmVocab> SpmVocab::Create(std::vector<Entry> entries, std::string_view source) {
  if (entries.empty()) return InvalidModelError(absl::StrCat(AV(source), ": empty vocabulary"));
  if (entries.size() > static_cast<size_t>(kMaxVocabSize)) {
    return InvalidModelError(absl::StrCat(AV(source), ": vocabulary of ", entries.size(),
                                          " tokens exceeds the limit of ", kMaxVocabSize));
  }
  SpmVocab vocab;
  vocab.entries_ = std::move(entries);
  const int32_t n = vocab.size();
  vocab.byte_values_.assign(n, -1);
  vocab.index_.reserve(n);
  for (int32_t id = 0; id < n; ++id) {
    const Entry& e = vocab.entries_[id];
    if (e.type == TokenType::kByte) {
      const int value = ParseByteToken(e.piece);
      if (value < 0) {
        return InvalidModelError(absl::StrCat(AV(source), ": token ", id,
                                              " has type BYTE but its text '",
                                              absl::CHexEscape(e.piece), "' is not <0xNN>"));
      }
      vocab.byte_values_[id] = static_cast<int16_t>(value);
    }
    vocab.index_[absl::string_view(e.piece.data(), e.piece.size())] = id;
  }
  for (int b = 0; b < 256; ++b) {
    vocab.byte_tokens_[b] = vocab.Find(absl::StrFormat("<0x%02X>", b));
  }
  return vocab;
}

}  // namespace ember
