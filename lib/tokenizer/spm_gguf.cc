// SentencePiece-style tokenizer from GGUF metadata, with llama.cpp's semantics: control and
// user-defined tokens are cut out of the text first, each remaining fragment gets "▁" for
// spaces (plus a prefix "▁" when it starts the text or follows a special token), and
// adjacent symbols merge by the highest score of the token they form; what never becomes a
// token falls back to byte tokens <0xNN>.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/format/gguf.h"
#include "lib/tokenizer/added_token_splitter.h"
#include "lib/tokenizer/merge_boundaries.h"
#include "lib/tokenizer/piece_cache.h"
#include "lib/tokenizer/spm_tokenizer.h"
#include "lib/tokenizer/spm_vocab.h"
#include "lib/tokenizer/symbol_merge.h"
#include "lib/tokenizer/utf8.h"

namespace ember {
namespace {

// Length of the UTF-8 character starting with `lead`, the way llama.cpp's SentencePiece
// session splits text into initial symbols (the input is validated UTF-8, so this is exact).
inline uint32_t CharLength(uint8_t lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Escaped text (up to 3 bytes per space) must stay addressable with 32-bit offsets.
constexpr size_t kMaxTextBytes = size_t{1} << 30;

class LlamaCppSpmTokenizer final : public Tokenizer {
 public:
  struct Options {
    int32_t bos = -1, eos = -1, unk = -1;
    bool add_bos = true, add_eos = false, add_space_prefix = true;
  };

  LlamaCppSpmTokenizer(SpmVocab vocab, const Options& options)
      : vocab_(std::move(vocab)), options_(options) {
    // Text that spells one of these is cut out before merging: USER_DEFINED tokens always,
    // CONTROL and UNKNOWN ones only with parse_special.
    std::vector<AddedTokenSplitter::Token> special;
    for (int32_t id = 0; id < vocab_.size(); ++id) {
      const TokenType t = vocab_.type(id);
      if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
        special.push_back({id, vocab_.piece(id), /*special=*/t != TokenType::kUserDefined,
                           /*normalized=*/false});
      }
    }
    splitter_ = AddedTokenSplitter(AddedTokenRules::kLlamaCpp, std::move(special));
    std::vector<std::string_view> pieces;
    for (int32_t id = 0; id < vocab_.size(); ++id) pieces.push_back(vocab_.piece(id));
    boundaries_ = MergeBoundaries(pieces);
  }

  absl::Status Encode(std::string_view text, const EncodeOptions& options,
                      std::vector<int32_t>* ids) const override {
    ids->clear();
    EMBER_RETURN_IF_ERROR(CheckUtf8(text, "text to encode"));
    // EncodeOptions.add_bos plays the role of llama.cpp's add_special: BOS, and EOS when the
    // model asks for it (tokenizer.ggml.add_eos_token).
    if (options.add_bos) {
      if (options_.bos < 0) {
        return absl::InvalidArgumentError("add_bos requested but the vocabulary has no BOS token");
      }
      ids->push_back(options_.bos);
    }
    if (!text.empty()) {
      if (text.size() >= kMaxTextBytes) {
        return absl::InvalidArgumentError(absl::StrCat("text to encode has ", text.size(),
                                                       " bytes, the limit is ", kMaxTextBytes));
      }
      std::vector<TextSegment> segments;
      splitter_.Split(text, options.parse_special, &segments);
      PieceCache cache;
      Scratch scratch;
      std::string escaped;
      bool after_special = true;  // the text start counts as a boundary
      for (const TextSegment& segment : segments) {
        if (segment.token >= 0) {
          ids->push_back(segment.token);
          after_special = true;
          continue;
        }
        escaped.clear();
        if (options_.add_space_prefix && after_special) escaped.append(kSpaceMarker);
        for (char c : segment.text) {
          if (c == ' ') {
            escaped.append(kSpaceMarker);
          } else {
            escaped.push_back(c);
          }
        }
        after_special = false;
        // Cut where no merge can cross, and encode each distinct piece once.
        boundaries_.Split(escaped, [&](std::string_view piece) {
          cache.Append(
              piece,
              [&](std::string_view p, std::vector<int32_t>* out) { EncodePiece(p, &scratch, out); },
              ids);
        });
      }
    }
    if (options.add_bos && options_.add_eos && options_.eos >= 0) ids->push_back(options_.eos);
    return absl::OkStatus();
  }

  absl::Status TokenBytes(int32_t id, bool skip_special, std::string* out) const override {
    out->clear();
    if (!vocab_.Contains(id)) {
      return InvalidTokenError(
          absl::StrCat("token id ", id, " is not in [0, ", vocab_.size(), ")"));
    }
    AppendPiece(id, skip_special, out);
    return absl::OkStatus();
  }

  // llama.cpp's detokenize without removing BOS/EOS: pieces concatenated, and with a
  // prefix-space vocabulary the first piece loses one leading space.
  absl::Status Decode(absl::Span<const int32_t> ids, bool skip_special,
                      std::string* out) const override {
    out->clear();
    bool strip_space = options_.add_space_prefix;
    std::string piece;
    for (int32_t id : ids) {
      if (!vocab_.Contains(id)) {
        return InvalidTokenError(
            absl::StrCat("token id ", id, " is not in [0, ", vocab_.size(), ")"));
      }
      piece.clear();
      AppendPiece(id, skip_special, &piece);
      std::string_view view = piece;
      if (strip_space && !view.empty() && view.front() == ' ') view.remove_prefix(1);
      strip_space = false;
      out->append(view);
    }
    return absl::OkStatus();
  }

  int32_t n_tokens() const override { return vocab_.size(); }
  int32_t bos() const override { return options_.bos; }
  int32_t eos() const override { return options_.eos; }
  bool add_bos_by_default() const override { return options_.add_bos && options_.bos >= 0; }
  bool IsControl(int32_t id) const override {
    return vocab_.Contains(id) && vocab_.type(id) == TokenType::kControl;
  }

 private:
  struct Scratch {
    std::vector<MergeSymbol> symbols;
    std::vector<MergeCandidate> heap;
  };

  // Score-driven BPE over one escaped piece of text.
  void EncodePiece(std::string_view text, Scratch* scratch, std::vector<int32_t>* ids) const {
    std::vector<MergeSymbol>& symbols = scratch->symbols;
    symbols.clear();
    for (uint32_t pos = 0; pos < text.size();) {
      const uint32_t len = std::min<uint32_t>(CharLength(static_cast<uint8_t>(text[pos])),
                                              static_cast<uint32_t>(text.size()) - pos);
      MergeSymbol s;
      s.start = pos;
      s.length = len;
      s.prev = static_cast<int32_t>(symbols.size()) - 1;
      s.next = static_cast<int32_t>(symbols.size()) + 1;
      s.id = vocab_.Find(text.substr(pos, len));
      symbols.push_back(s);
      pos += len;
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;
    MergeSymbols(
        symbols,
        [&](const MergeSymbol& left, const MergeSymbol& right, MergeCandidate* c) {
          const int32_t id = vocab_.Find(text.substr(left.start, left.length + right.length));
          if (id < 0) return false;
          c->priority = -vocab_.score(id);  // highest score first
          c->id = id;
          return true;
        },
        scratch->heap);
    for (int32_t i = 0; i >= 0; i = symbols[i].next) {
      const MergeSymbol& s = symbols[i];
      if (s.id >= 0) {
        ids->push_back(s.id);
        continue;
      }
      for (uint32_t k = 0; k < s.length; ++k) {
        const int32_t id = ByteToken(static_cast<uint8_t>(text[s.start + k]));
        if (id >= 0) ids->push_back(id);
      }
    }
  }

  // <0xNN>, else a token spelled as the single byte, else UNK (-1 if there is none).
  int32_t ByteToken(uint8_t b) const {
    int32_t id = vocab_.byte_token(b);
    if (id < 0) id = vocab_.Find(std::string_view(reinterpret_cast<const char*>(&b), 1));
    return id >= 0 ? id : options_.unk;
  }

  void AppendPiece(int32_t id, bool skip_special, std::string* out) const {
    const std::string& piece = vocab_.piece(id);
    switch (vocab_.type(id)) {
      case TokenType::kNormal:
        out->append(UnescapeSpaces(piece));
        break;
      case TokenType::kUserDefined:
        out->append(piece);
        break;
      case TokenType::kControl:
      case TokenType::kUnknown:
        if (!skip_special) out->append(piece);
        break;
      case TokenType::kByte:
        out->push_back(static_cast<char>(vocab_.byte_value(id)));
        break;
      default:  // UNUSED and types llama.cpp does not know render as nothing
        break;
    }
  }

  SpmVocab vocab_;
  Options options_;
  AddedTokenSplitter splitter_;
  MergeBoundaries boundaries_;
};

// A token id from metadata: absent -> `fallback` (dropped to -1 when the vocabulary is too
// small for it), negative -> none, out of range -> InvalidModelError.
absl::StatusOr<int32_t> ReadTokenId(const GgufFile& gguf, std::string_view key, int32_t fallback,
                                    int32_t n_tokens) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) return fallback < n_tokens ? fallback : -1;
  if ((v->type == GgufType::kInt8 || v->type == GgufType::kInt16 || v->type == GgufType::kInt32 ||
       v->type == GgufType::kInt64) &&
      v->i < 0) {
    return -1;
  }
  EMBER_ASSIGN_OR_RETURN(std::optional<uint64_t> id, gguf.GetUint(key));
  if (*id >= static_cast<uint64_t>(n_tokens)) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": ", AV(key), " = ", *id,
                                          " is outside the vocabulary of ", n_tokens, " tokens"));
  }
  return static_cast<int32_t>(*id);
}

absl::StatusOr<bool> ReadFlag(const GgufFile& gguf, std::string_view key, bool fallback) {
  EMBER_ASSIGN_OR_RETURN(std::optional<bool> value, gguf.GetBool(key));
  return value.value_or(fallback);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateSpmTokenizerFromGguf(const GgufFile& gguf) {
  const std::string& source = gguf.path();
  EMBER_ASSIGN_OR_RETURN(std::vector<std::string_view> tokens,
                         gguf.GetStringArray("tokenizer.ggml.tokens"));
  if (tokens.empty()) {
    return InvalidModelError(absl::StrCat(source, ": tokenizer.ggml.tokens is missing or empty"));
  }
  if (tokens.size() > static_cast<size_t>(kMaxVocabSize)) {
    return InvalidModelError(absl::StrCat(source, ": tokenizer.ggml.tokens has ", tokens.size(),
                                          " entries, more than the limit of ", kMaxVocabSize));
  }
  EMBER_ASSIGN_OR_RETURN(std::vector<float> scores, gguf.GetFloatArray("tokenizer.ggml.scores"));
  EMBER_ASSIGN_OR_RETURN(std::vector<int32_t> types,
                         gguf.GetInt32Array("tokenizer.ggml.token_type"));
  // Absent arrays mean score 0 and type NORMAL (as in llama.cpp); present ones must match.
  if (gguf.Find("tokenizer.ggml.scores") != nullptr && scores.size() != tokens.size()) {
    return InvalidModelError(absl::StrCat(source, ": tokenizer.ggml.scores has ", scores.size(),
                                          " entries but tokenizer.ggml.tokens has ",
                                          tokens.size()));
  }
  if (gguf.Find("tokenizer.ggml.token_type") != nullptr && types.size() != tokens.size()) {
    return InvalidModelError(absl::StrCat(source, ": tokenizer.ggml.token_type has ", types.size(),
                                          " entries but tokenizer.ggml.tokens has ",
                                          tokens.size()));
  }
  std::vector<SpmVocab::Entry> entries(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    entries[i].piece = std::string(tokens[i]);
    // A NaN score would break the merge queue's ordering; it ranks below every real score.
    if (!scores.empty()) {
      entries[i].score = std::isnan(scores[i]) ? -std::numeric_limits<float>::max() : scores[i];
    }
    if (!types.empty()) entries[i].type = static_cast<TokenType>(types[i]);
  }
  EMBER_ASSIGN_OR_RETURN(SpmVocab vocab, SpmVocab::Create(std::move(entries), source));

  const int32_t n = vocab.size();
  LlamaCppSpmTokenizer::Options options;
  // llama.cpp's SentencePiece defaults: <unk> 0, <s> 1, </s> 2.
  EMBER_ASSIGN_OR_RETURN(options.bos, ReadTokenId(gguf, "tokenizer.ggml.bos_token_id", 1, n));
  EMBER_ASSIGN_OR_RETURN(options.eos, ReadTokenId(gguf, "tokenizer.ggml.eos_token_id", 2, n));
  EMBER_ASSIGN_OR_RETURN(options.unk, ReadTokenId(gguf, "tokenizer.ggml.unknown_token_id", 0, n));
  EMBER_ASSIGN_OR_RETURN(options.add_bos, ReadFlag(gguf, "tokenizer.ggml.add_bos_token", true));
  EMBER_ASSIGN_OR_RETURN(options.add_eos, ReadFlag(gguf, "tokenizer.ggml.add_eos_token", false));
  EMBER_ASSIGN_OR_RETURN(options.add_space_prefix,
                         ReadFlag(gguf, "tokenizer.ggml.add_space_prefix", true));
  return std::unique_ptr<Tokenizer>(new LlamaCppSpmTokenizer(std::move(vocab), options));
}

}  // namespace ember
