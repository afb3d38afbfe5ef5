#include "lib/tokenizer/byte_level_bpe.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/tokenizer/added_token_splitter.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/gpt2_pretokenizer.h"
#include "lib/tokenizer/utf8.h"

namespace ember {
namespace {

constexpr int32_t kNormal = static_cast<int32_t>(TokenType::kNormal);
constexpr int32_t kUnknown = static_cast<int32_t>(TokenType::kUnknown);
constexpr int32_t kControl = static_cast<int32_t>(TokenType::kControl);
constexpr int32_t kUserDefined = static_cast<int32_t>(TokenType::kUserDefined);

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Token text -> the bytes it stands for. Byte symbols map back to bytes; llama.cpp keeps
// any other character as is (where it would print an "[UNK_BYTE_..]" marker instead).
std::string LlamaCppSymbolsToBytes(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const Utf8Char c = DecodeUtf8(text);
    const size_t len = std::max<size_t>(c.length, 1);
    const int b = c.kind == Utf8Char::Kind::kValid ? SymbolToByte(c.code_point) : -1;
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text.substr(0, len));
    }
    text.remove_prefix(len);
  }
  return out;
}

// llama.cpp's clean_spaces (its version of transformers' clean_up_tokenization): three
// passes over the decoded bytes, each looking at the previous pass's output.
std::string CleanSpaces(const std::string& s0) {
  // 1. " ?", " !", " .", " ," lose the space.
  std::string s1;
  s1.reserve(s0.size());
  for (size_t i = 0; i < s0.size(); ++i) {
    const char c = s0[i];
    if (i > 0 && s0[i - 1] == ' ' && (c == '?' || c == '!' || c == '.' || c == ',')) s1.pop_back();
    s1.push_back(c);
  }
  // 2. " ' " becomes "'". The space after the apostrophe is consumed, so it cannot also
  //    serve as the space before a following apostrophe.
  std::string s2;
  s2.reserve(s1.size());
  bool prev_consumed = false;
  for (size_t i = 0; i < s1.size(); ++i) {
    const char c = s1[i];
    if (i > 0 && c == '\'' && i + 1 < s1.size() && !prev_consumed && s1[i - 1] == ' ' &&
        s1[i + 1] == ' ') {
      s2.pop_back();
      s2.push_back(c);
      ++i;  // drop the space after it
      prev_consumed = true;
      continue;
    }
    prev_consumed = false;
    s2.push_back(c);
  }
  // 3. " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
  std::string s3;
  s3.reserve(s2.size());
  for (size_t i = 0; i < s2.size(); ++i) {
    const char c = s2[i];
    if (i > 0 && s2[i - 1] == ' ' && c == '\'' && i + 1 < s2.size()) {
      const char x1 = s2[i + 1];
      if (x1 == 's' || x1 == 'm') {
        s3.pop_back();
      } else if (x1 != 't' && x1 != 'd' && i + 2 < s2.size()) {
        const char x2 = s2[i + 2];
        if ((x1 == 'r' || x1 == 'v') && x2 == 'e') s3.pop_back();
      }
    }
    s3.push_back(c);
  }
  return s3;
}

// Ids of words already encoded. Bounded: it is emptied when it grows past its limits.
struct WordCache {
  static constexpr size_t kMaxWords = 1 << 17;
  static constexpr size_t kMaxIds = 1 << 21;
  static constexpr size_t kMaxWordBytes = 256;  // longer words are not worth keeping

  absl::flat_hash_map<std::string, std::pair<uint32_t, uint32_t>> index;  // -> (offset, count)
  std::vector<int32_t> ids;

  bool Lookup(std::string_view word, std::vector<int32_t>* out) const {
    auto it = index.find(AV(word));
    if (it == index.end()) return false;
    out->insert(out->end(), ids.begin() + it->second.first,
                ids.begin() + it->second.first + it->second.second);
    return true;
  }
  void Insert(std::string_view word, const int32_t* first, size_t count) {
    if (word.size() > kMaxWordBytes) return;
    if (index.size() >= kMaxWords || ids.size() + count > kMaxIds) {
      index.clear();
      ids.clear();
    }
    index.emplace(std::string(word), std::make_pair(static_cast<uint32_t>(ids.size()),
                                                    static_cast<uint32_t>(count)));
    ids.insert(ids.end(), first, first + count);
  }
};

class ByteLevelBpe final : public Tokenizer {
 public:
  explicit ByteLevelBpe(ByteLevelBpeSpec spec);

  absl::Status Encode(std::string_view text, const EncodeOptions& options,
                      std::vector<int32_t>* ids) const override;
  absl::Status TokenBytes(int32_t id, bool skip_special, std::string* out) const override;
  absl::Status Decode(absl::Span<const int32_t> ids, bool skip_special,
                      std::string* out) const override;
  int32_t n_tokens() const override { return static_cast<int32_t>(type_.size()); }
  int32_t bos() const override { return bos_; }
  int32_t eos() const override { return eos_; }
  bool add_bos_by_default() const override { return add_bos_; }
  bool IsControl(int32_t id) const override {
    return id >= 0 && id < n_tokens() && type_[id] == kControl;
  }
  // Trailing UNUSED entries (a converted Phi-2's [PAD50295]..[PAD51199]) are no tokens.
  int32_t n_sampleable() const override {
    int32_t n = n_tokens();
    while (n > 0 && type_[n - 1] == static_cast<int32_t>(TokenType::kUnused)) --n;
    return n;
  }

 private:
  struct MergeRule {
    int32_t rank;
    int32_t result;
  };
  // Per-call working memory for BPE.
  struct Scratch {
    struct Symbol {
      int32_t id, prev, next;
    };
    struct Candidate {
      int32_t rank, left, left_id, right_id;
      // Heap order: lowest rank first, then leftmost (both references break ties so).
      bool operator<(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : left > o.left;
      }
    };
    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;
    std::vector<std::string_view> words;
    std::string prefixed;
  };

  void EncodeFragment(std::string_view text, Scratch* scratch, WordCache* cache,
                      std::vector<int32_t>* ids) const;
  void EncodeWord(std::string_view word, Scratch* scratch, std::vector<int32_t>* ids) const;
  void PushCandidate(Scratch* scratch, int32_t left) const;

  std::string_view Piece(int32_t id) const {
    return std::string_view(pieces_).substr(piece_offset_[id], piece_offset_[id + 1] - piece_offset_[id]);
  }
  // Tokens that skip_special renders as "".
  bool IsSpecial(int32_t id) const { return type_[id] == kControl || type_[id] == kUnknown; }

  BpeFlavor flavor_;
  std::string source_;
  std::vector<int32_t> type_;
  std::string pieces_;                 // every token's decoded bytes, back to back
  std::vector<uint32_t> piece_offset_; // n_tokens + 1 offsets into pieces_
  absl::flat_hash_map<uint64_t, MergeRule> merges_;
  int32_t byte_token_[256];
  AddedTokenSplitter splitter_;
  bool add_prefix_space_;
  bool clean_spaces_;
  int32_t bos_, eos_;
  bool add_bos_;

  // Shared across calls; a call that finds it busy uses a private one instead of waiting.
  mutable std::mutex cache_mu_;
  mutable WordCache cache_;
};

ByteLevelBpe::ByteLevelBpe(ByteLevelBpeSpec spec)
    : flavor_(spec.flavor),
      source_(std::move(spec.source)),
      type_(std::move(spec.type)),
      add_prefix_space_(spec.add_prefix_space),
      clean_spaces_(spec.clean_spaces),
      bos_(spec.bos),
      eos_(spec.eos),
      add_bos_(spec.add_bos) {
  std::copy(std::begin(spec.byte_token), std::end(spec.byte_token), byte_token_);
  merges_.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& m = spec.merges[rank];
    // A repeated pair keeps its first (lowest) rank.
    merges_.try_emplace(PairKey(m.left, m.right), MergeRule{static_cast<int32_t>(rank), m.result});
  }

  piece_offset_.reserve(spec.text.size() + 1);
  std::string bytes;
  for (size_t id = 0; id < spec.text.size(); ++id) {
    piece_offset_.push_back(static_cast<uint32_t>(pieces_.size()));
    const std::string& text = spec.text[id];
    if (flavor_ == BpeFlavor::kHfTokenizers) {
      // HF's ByteLevel decoder: a token made only of byte symbols becomes those bytes; any
      // other token (an added token with literal spaces, say) stays as written.
      pieces_ += SymbolsToBytes(text, &bytes) ? bytes : text;
    } else {
      // llama.cpp's token_to_piece for BPE vocabularies.
      const int32_t t = type_[id];
      if (t == kNormal) {
        pieces_ += LlamaCppSymbolsToBytes(text);
      } else if (t == kControl || t == kUnknown || t == kUserDefined) {
        pieces_ += text;
      }  // UNUSED, BYTE and undefined types render as nothing
    }
  }
  piece_offset_.push_back(static_cast<uint32_t>(pieces_.size()));

  std::vector<AddedTokenSplitter::Token> added;
  if (flavor_ == BpeFlavor::kHfTokenizers) {
    std::vector<bool> normalized(type_.size(), false);
    for (int32_t id : spec.normalized_added) normalized[id] = true;
    for (size_t id = 0; id < type_.size(); ++id) {
      if (type_[id] != kControl && type_[id] != kUserDefined) continue;
      added.push_back({static_cast<int32_t>(id), spec.text[id], type_[id] == kControl,
                       static_cast<bool>(normalized[id])});
    }
    splitter_ = AddedTokenSplitter(AddedTokenRules::kHfTokenizers, std::move(added));
  } else {
    // llama.cpp splits out CONTROL and UNKNOWN tokens only with parse_special, and
    // USER_DEFINED ones always.
    for (size_t id = 0; id < type_.size(); ++id) {
      const int32_t t = type_[id];
      if (t != kControl && t != kUnknown && t != kUserDefined) continue;
      added.push_back({static_cast<int32_t>(id), spec.text[id], t != kUserDefined, false});
    }
    splitter_ = AddedTokenSplitter(AddedTokenRules::kLlamaCpp, std::move(added));
  }
}

absl::Status ByteLevelBpe::Encode(std::string_view text, const EncodeOptions& options,
                                  std::vector<int32_t>* ids) const {
  ids->clear();
  EMBER_RETURN_IF_ERROR(CheckUtf8(text, "text to encode"));
  if (options.add_bos) {
    if (bos_ < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ": add_bos requested but the vocabulary has no BOS token"));
    }
    ids->push_back(bos_);
  }
  std::vector<TextSegment> segments;
  splitter_.Split(text, options.parse_special, &segments);

  Scratch scratch;
  std::unique_lock<std::mutex> lock(cache_mu_, std::try_to_lock);
  WordCache private_cache;
  WordCache* cache = lock.owns_lock() ? &cache_ : &private_cache;
  for (const TextSegment& seg : segments) {
    if (seg.token >= 0) {
      ids->push_back(seg.token);
    } else {
      EncodeFragment(seg.text, &scratch, cache, ids);
    }
  }
  return absl::OkStatus();
}

void ByteLevelBpe::EncodeFragment(std::string_view text, Scratch* scratch, WordCache* cache,
                                  std::vector<int32_t>* ids) const {
  if (add_prefix_space_ && text.front() != ' ') {
    scratch->prefixed.assign(1, ' ');
    scratch->prefixed.append(text);
    text = scratch->prefixed;
  }
  scratch->words.clear();
  SplitGpt2Words(text, &scratch->words);
  for (std::string_view word : scratch->words) {
    if (cache->Lookup(word, ids)) continue;
    const size_t first = ids->size();
    EncodeWord(word, scratch, ids);
    cache->Insert(word, ids->data() + first, ids->size() - first);
  }
}

void ByteLevelBpe::PushCandidate(Scratch* scratch, int32_t left) const {
  if (left < 0) return;
  const auto& l = scratch->symbols[left];
  if (l.next < 0) return;
  const int32_t right_id = scratch->symbols[l.next].id;
  auto it = merges_.find(PairKey(l.id, right_id));
  if (it == merges_.end()) return;
  scratch->heap.push_back({it->second.rank, left, l.id, right_id});
  std::push_heap(scratch->heap.begin(), scratch->heap.end());
}

void ByteLevelBpe::EncodeWord(std::string_view word, Scratch* scratch,
                              std::vector<int32_t>* ids) const {
  const int32_t n = static_cast<int32_t>(word.size());
  if (n == 1) {
    ids->push_back(byte_token_[static_cast<uint8_t>(word[0])]);
    return;
  }
  auto& symbols = scratch->symbols;
  auto& heap = scratch->heap;
  symbols.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] = {byte_token_[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  heap.clear();
  for (int32_t i = 0; i + 1 < n; ++i) PushCandidate(scratch, i);
  // Lazy deletion: a candidate is stale once either side has changed.
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const auto c = heap.back();
    heap.pop_back();
    auto& left = symbols[c.left];
    if (left.id != c.left_id || left.next < 0) continue;
    auto& right = symbols[left.next];
    if (right.id != c.right_id) continue;
    left.id = merges_.find(PairKey(c.left_id, c.right_id))->second.result;
    right.id = -1;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    PushCandidate(scratch, left.prev);
    PushCandidate(scratch, c.left);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) ids->push_back(symbols[i].id);
}

absl::Status ByteLevelBpe::TokenBytes(int32_t id, bool skip_special, std::string* out) const {
  if (id < 0 || id >= n_tokens()) {
    return InvalidTokenError(
        absl::StrCat(source_, ": token id ", id, " is not in [0, ", n_tokens(), ")"));
  }
  out->clear();
  if (skip_special && IsSpecial(id)) return absl::OkStatus();
  const std::string_view piece = Piece(id);
  out->assign(piece.data(), piece.size());
  return absl::OkStatus();
}

absl::Status ByteLevelBpe::Decode(absl::Span<const int32_t> ids, bool skip_special,
                                  std::string* out) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= n_tokens()) {
      return InvalidTokenError(absl::StrCat(source_, ": token id ", id, " (position ", i,
                                            ") is not in [0, ", n_tokens(), ")"));
    }
    if (skip_special && IsSpecial(id)) continue;
    const std::string_view piece = Piece(id);
    bytes.append(piece.data(), piece.size());
  }
  if (flavor_ == BpeFlavor::kHfTokenizers) {
    *out = ToValidUtf8(bytes);  // HF decodes with String::from_utf8_lossy
  } else {
    *out = clean_spaces_ ? CleanSpaces(bytes) : std::move(bytes);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateByteLevelBpe(ByteLevelBpeSpec spec) {
  const size_t n = spec.text.size();
  if (spec.type.size() != n) {
    return absl::InternalError(absl::StrCat(spec.source, ": token text/type counts differ"));
  }
  for (const auto& m : spec.merges) {
    for (int32_t id : {m.left, m.right, m.result}) {
      if (id < 0 || static_cast<size_t>(id) >= n) {
        return absl::InternalError(absl::StrCat(spec.source, ": merge names token ", id));
      }
    }
  }
  for (int32_t id : spec.byte_token) {
    if (id < 0 || static_cast<size_t>(id) >= n) {
      return absl::InternalError(absl::StrCat(spec.source, ": byte token ", id));
    }
  }
  for (int32_t id : spec.normalized_added) {
    if (id < 0 || static_cast<size_t>(id) >= n) {
      return absl::InternalError(absl::StrCat(spec.source, ": added token ", id));
    }
  }
  return std::unique_ptr<Tokenizer>(new ByteLevelBpe(std::move(spec)));
}

}  // namespace ember
