// SentencePiece-style BPE from a Hugging Face tokenizer.json, with HF `tokenizers`
// semantics: added tokens split out of the text (non-normalized ones from the raw text,
// normalized ones from the normalized text, where their pattern is their own normalized
// content), normalizer (Prepend / Replace / Unicode forms), Metaspace pre-tokenizer, BPE
// by merge rank with byte fallback and fused unknowns, and the decoder chain.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/tokenizer/added_token_splitter.h"
#include "lib/tokenizer/hf_merges.h"
#include "lib/tokenizer/hf_text_stages.h"
#include "lib/tokenizer/merge_boundaries.h"
#include "lib/tokenizer/piece_cache.h"
#include "lib/tokenizer/spm_tokenizer.h"
#include "lib/tokenizer/spm_vocab.h"
#include "lib/tokenizer/symbol_merge.h"
#include "lib/tokenizer/utf8.h"
#include "nlohmann/json.hpp"

namespace ember {
namespace {

using hf::BoolOr;
using hf::StringOr;
using hf::TypeOf;
using nlohmann::json;

// Normalized text (up to 3 bytes per space) must stay addressable with 32-bit offsets.
constexpr size_t kMaxTextBytes = size_t{1} << 30;

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool normalized = false;
};

// Key of the merge table: (left id, right id).
uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Per-call state of Encode: the piece cache and the merge loop's scratch vectors.
struct WordEncoder {
  PieceCache cache;
  std::vector<MergeSymbol> symbols;
  std::vector<MergeCandidate> heap;
};

class HfSpmTokenizer final : public Tokenizer {
 public:
  struct Config {
    hf::Normalizer normalizer;
    hf::Metaspace pre_tokenizer;
    hf::Decoder decoder;
    std::vector<AddedToken> added;                                      // in file order
    absl::flat_hash_map<uint64_t, std::pair<int32_t, int32_t>> merges;  // pair -> rank, id
    int32_t n_tokens = 0;
    int32_t unk = -1;
    bool byte_fallback = false, fuse_unk = false, ignore_merges = false;
    // Whether a merge takes a byte-fallback or UNK token as an operand: their text is not
    // the text they stand for, so MergeBoundaries cannot reason about them.
    bool merges_use_fallback_tokens = false;
    int32_t bos = -1, eos = -1;
    bool add_bos = false, add_eos = false;
  };

  HfSpmTokenizer(SpmVocab model_vocab, Config config)
      : vocab_(std::move(model_vocab)), config_(std::move(config)) {
    added_by_id_.assign(config_.n_tokens, -1);
    std::vector<AddedTokenSplitter::Token> raw, normalized;
    for (size_t i = 0; i < config_.added.size(); ++i) {
      const AddedToken& t = config_.added[i];
      added_by_id_[t.id] = static_cast<int32_t>(i);
      if (t.normalized) {
        // Matched in normalized text, as the normalizer spells it.
        std::string pattern = t.content;
        config_.normalizer.Apply(&pattern);
        normalized.push_back({t.id, std::move(pattern), t.special, /*normalized=*/false});
      } else {
        raw.push_back({t.id, t.content, t.special, /*normalized=*/false});
      }
    }
    raw_splitter_ = AddedTokenSplitter(AddedTokenRules::kHfTokenizers, std::move(raw));
    normalized_splitter_ =
        AddedTokenSplitter(AddedTokenRules::kHfTokenizers, std::move(normalized));

    // Words can be cut where no token spans unless unknown characters fuse into one <unk>
    // across the cut, or merges involve fallback tokens.
    bool all_bytes = true;
    for (int b = 0; b < 256; ++b) all_bytes = all_bytes && vocab_.byte_token(b) >= 0;
    const bool unk_fuses =
        config_.fuse_unk && config_.unk >= 0 && !(config_.byte_fallback && all_bytes);
    split_words_ = !unk_fuses && !config_.merges_use_fallback_tokens;
    if (split_words_) {
      std::vector<std::string_view> pieces;
      for (int32_t id = 0; id < vocab_.size(); ++id) pieces.push_back(vocab_.piece(id));
      boundaries_ = MergeBoundaries(pieces);
    }
  }

  absl::Status Encode(std::string_view text, const EncodeOptions& options,
                      std::vector<int32_t>* ids) const override {
    ids->clear();
    EMBER_RETURN_IF_ERROR(CheckUtf8(text, "text to encode"));
    if (text.size() >= kMaxTextBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("text to encode has ", text.size(), " bytes, the limit is ", kMaxTextBytes));
    }
    // EncodeOptions.add_bos stands for HF's add_special_tokens: BOS, and EOS when the
    // template / config asks for it.
    if (options.add_bos) {
      if (config_.bos < 0) {
        return absl::InvalidArgumentError("add_bos requested but the tokenizer has no BOS token");
      }
      ids->push_back(config_.bos);
    }
    std::vector<TextSegment> raw_segments, segments;
    std::string normalized;
    WordEncoder encoder;
    raw_splitter_.Split(text, options.parse_special, &raw_segments);
    for (const TextSegment& raw : raw_segments) {
      if (raw.token >= 0) {
        ids->push_back(raw.token);
        continue;
      }
      const bool raw_first = raw.text.data() == text.data();
      normalized.assign(raw.text);
      config_.normalizer.Apply(&normalized);
      normalized_splitter_.Split(normalized, options.parse_special, &segments);
      for (const TextSegment& s : segments) {
        if (s.token >= 0) {
          ids->push_back(s.token);
        } else {
          const bool first = raw_first && s.text.data() == normalized.data();
          config_.pre_tokenizer.Split(
              s.text, first, [&](std::string_view word) { EncodeWord(word, &encoder, ids); });
        }
      }
    }
    if (options.add_bos && config_.eos >= 0 && config_.add_eos) ids->push_back(config_.eos);
    return absl::OkStatus();
  }

  absl::Status TokenBytes(int32_t id, bool skip_special, std::string* out) const override {
    out->clear();
    EMBER_RETURN_IF_ERROR(CheckId(id));
    const AddedToken* added = Added(id);
    if (added != nullptr) {
      if (!(added->special && skip_special)) out->append(added->content);
      return absl::OkStatus();
    }
    if (!vocab_.Contains(id)) return absl::OkStatus();
    const std::string& piece = vocab_.piece(id);
    const int byte = config_.byte_fallback ? ParseByteToken(piece) : -1;
    if (byte >= 0) {
      out->push_back(static_cast<char>(byte));
      return absl::OkStatus();
    }
    // The per-token part of the decoder: its replacements of the space marker.
    out->assign(piece);
    config_.decoder.RenderToken(out);
    return absl::OkStatus();
  }

  absl::Status Decode(absl::Span<const int32_t> ids, bool skip_special,
                      std::string* out) const override {
    out->clear();
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) {
      EMBER_RETURN_IF_ERROR(CheckId(id));
      const AddedToken* added = Added(id);
      if (added != nullptr) {
        if (!(added->special && skip_special)) tokens.push_back(added->content);
      } else if (vocab_.Contains(id)) {
        tokens.push_back(vocab_.piece(id));
      }
    }
    *out = config_.decoder.Decode(std::move(tokens));
    return absl::OkStatus();
  }

  int32_t n_tokens() const override { return config_.n_tokens; }
  int32_t bos() const override { return config_.bos; }
  int32_t eos() const override { return config_.eos; }
  bool add_bos_by_default() const override { return config_.add_bos && config_.bos >= 0; }
  bool IsControl(int32_t id) const override {
    const AddedToken* added = Added(id);
    return added != nullptr && added->special;
  }

 private:
  absl::Status CheckId(int32_t id) const {
    if (id >= 0 && id < config_.n_tokens) return absl::OkStatus();
    return InvalidTokenError(
        absl::StrCat("token id ", id, " is not in [0, ", config_.n_tokens, ")"));
  }

  const AddedToken* Added(int32_t id) const {
    if (id < 0 || id >= config_.n_tokens || added_by_id_[id] < 0) return nullptr;
    return &config_.added[added_by_id_[id]];
  }

  // HF's BPE model on one word (whole-word lookup first with ignore_merges). The word is
  // cut where no merge can cross and each distinct piece is merged once per call.
  void EncodeWord(std::string_view word, WordEncoder* encoder, std::vector<int32_t>* ids) const {
    if (word.empty()) return;
    if (config_.ignore_merges) {
      const int32_t whole = vocab_.Find(word);
      if (whole >= 0) {
        ids->push_back(whole);
        return;
      }
    }
    const auto encode_piece = [&](std::string_view piece) {
      encoder->cache.Append(
          piece,
          [&](std::string_view p, std::vector<int32_t>* out) { MergePiece(p, encoder, out); }, ids);
    };
    if (split_words_) {
      boundaries_.Split(word, encode_piece);
    } else {
      encode_piece(word);
    }
  }

  // Characters (or their byte tokens, or UNK) merged by rank.
  void MergePiece(std::string_view word, WordEncoder* encoder, std::vector<int32_t>* ids) const {
    std::vector<MergeSymbol>& symbols = encoder->symbols;
    symbols.clear();
    const auto add = [&](uint32_t start, uint32_t length, int32_t id) {
      MergeSymbol s;
      s.start = start;
      s.length = length;
      s.id = id;
      s.prev = static_cast<int32_t>(symbols.size()) - 1;
      s.next = static_cast<int32_t>(symbols.size()) + 1;
      symbols.push_back(s);
    };
    int64_t unk_start = -1;  // a pending run of unknown characters (fuse_unk)
    uint32_t unk_length = 0;
    const auto flush_unk = [&] {
      if (unk_start >= 0) add(static_cast<uint32_t>(unk_start), unk_length, config_.unk);
      unk_start = -1;
    };
    for (uint32_t pos = 0; pos < word.size();) {
      const uint32_t len = static_cast<uint32_t>(DecodeUtf8(word.substr(pos)).length);
      const std::string_view ch = word.substr(pos, len);
      const int32_t id = vocab_.Find(ch);
      if (id >= 0) {
        flush_unk();
        add(pos, len, id);
      } else if (config_.byte_fallback && ByteTokensExist(ch)) {
        flush_unk();
        for (uint32_t k = 0; k < len; ++k) {
          add(pos + k, 1, vocab_.byte_token(static_cast<uint8_t>(ch[k])));
        }
      } else if (config_.unk >= 0) {
        if (unk_start >= 0 && !config_.fuse_unk) flush_unk();
        if (unk_start < 0) {
          unk_start = pos;
          unk_length = 0;
        }
        unk_length += len;
      }  // else: HF drops a character it cannot represent
      pos += len;
    }
    flush_unk();
    if (symbols.empty()) return;
    symbols.back().next = -1;
    MergeSymbols(
        symbols,
        [&](const MergeSymbol& left, const MergeSymbol& right, MergeCandidate* c) {
          const auto it = config_.merges.find(PairKey(left.id, right.id));
          if (it == config_.merges.end()) return false;
          c->priority = static_cast<float>(it->second.first);  // lowest rank first
          c->id = it->second.second;
          return true;
        },
        encoder->heap);
    for (int32_t i = 0; i >= 0; i = symbols[i].next) ids->push_back(symbols[i].id);
  }

  bool ByteTokensExist(std::string_view ch) const {
    for (char c : ch) {
      if (vocab_.byte_token(static_cast<uint8_t>(c)) < 0) return false;
    }
    return true;
  }

  SpmVocab vocab_;  // the BPE model's vocabulary (what merges and byte fallback may produce)
  Config config_;
  std::vector<int32_t> added_by_id_;        // id -> index into config_.added, or -1
  AddedTokenSplitter raw_splitter_;         // normalized == false: matched in raw text
  AddedTokenSplitter normalized_splitter_;  // normalized == true: matched after normalizing
  bool split_words_ = false;
  MergeBoundaries boundaries_;
};

// A token given in tokenizer_config.json as "text" or {"content": "text", ...}.
std::string ConfigTokenText(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return "";
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  return StringOr(v, "content", "");
}

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateFromJson(const json& tokenizer, const json& config,
                                                          std::string_view source) {
  if (!tokenizer.is_object() || !tokenizer.contains("model") || !tokenizer["model"].is_object()) {
    return InvalidModelError(absl::StrCat(AV(source), ": no \"model\" object"));
  }
  const json& model = tokenizer["model"];
  if (TypeOf(model) != "BPE") {
    return UnsupportedError(absl::StrCat(AV(source), ": model type '", TypeOf(model),
                                         "' is not supported by the SentencePiece tokenizer"));
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() &&
        !(model[key].is_string() && model[key].get<std::string>().empty())) {
      return UnsupportedError(absl::StrCat(AV(source), ": BPE ", key, " is not supported"));
    }
  }
  if (!model.contains("vocab") || !model["vocab"].is_object() || model["vocab"].empty()) {
    return InvalidModelError(absl::StrCat(AV(source), ": model.vocab is missing or empty"));
  }
  const json& vocab_json = model["vocab"];
  if (vocab_json.size() > static_cast<size_t>(kMaxVocabSize)) {
    return InvalidModelError(absl::StrCat(AV(source), ": model.vocab has ", vocab_json.size(),
                                          " entries, more than the limit of ", kMaxVocabSize));
  }

  HfSpmTokenizer::Config cfg;
  cfg.byte_fallback = BoolOr(model, "byte_fallback", false);
  cfg.fuse_unk = BoolOr(model, "fuse_unk", false);
  cfg.ignore_merges = BoolOr(model, "ignore_merges", false);

  // Model vocabulary, by id.
  int64_t max_id = -1;
  for (const auto& [text, id] : vocab_json.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxVocabSize) {
      return InvalidModelError(absl::StrCat(AV(source), ": model.vocab entry '",
                                            absl::CHexEscape(text), "' has an invalid id"));
    }
    max_id = std::max(max_id, id.get<int64_t>());
  }
  std::vector<SpmVocab::Entry> entries(max_id + 1);
  std::vector<bool> seen(max_id + 1, false);
  for (auto& e : entries) e.type = TokenType::kUnused;  // ids with no entry
  for (const auto& [text, id_json] : vocab_json.items()) {
    const int64_t id = id_json.get<int64_t>();
    if (seen[id]) {
      return InvalidModelError(
          absl::StrCat(AV(source), ": model.vocab gives id ", id, " to two tokens"));
    }
    seen[id] = true;
    entries[id].piece = text;
    entries[id].type = TokenType::kNormal;
    if (cfg.byte_fallback && ParseByteToken(text) >= 0) entries[id].type = TokenType::kByte;
  }
  EMBER_ASSIGN_OR_RETURN(SpmVocab vocab, SpmVocab::Create(std::move(entries), source));

  const std::string unk_text = StringOr(model, "unk_token", "");
  if (!unk_text.empty()) {
    cfg.unk = vocab.Find(unk_text);
    if (cfg.unk < 0) {
      return InvalidModelError(
          absl::StrCat(AV(source), ": unk_token '", unk_text, "' is not in model.vocab"));
    }
  }

  // Merges: "a b" strings or ["a", "b"] pairs, in rank order; both parts and their
  // concatenation must be tokens.
  if (model.contains("merges") && !model["merges"].is_array()) {
    return InvalidModelError(absl::StrCat(AV(source), ": model.merges is not an array"));
  }
  const json empty_array = json::array();
  const json& merges = model.contains("merges") ? model["merges"] : empty_array;
  if (merges.size() > (size_t{1} << 24)) {  // ranks must stay exact as float priorities
    return InvalidModelError(absl::StrCat(AV(source), ": model.merges has ", merges.size(),
                                          " entries, more than the limit of ", 1 << 24));
  }
  cfg.merges.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& m = merges[rank];
    const auto parts = SplitHfMerge(m);
    if (!parts.has_value()) {
      return InvalidModelError(m.is_string() ? absl::StrCat(AV(source), ": merge ", rank, " '",
                                                            absl::CHexEscape(m.get<std::string>()),
                                                            "' is not two tokens")
                                             : absl::StrCat(AV(source), ": merge ", rank, " is malformed"));
    }
    const auto& [left, right] = *parts;
    const int32_t l = vocab.Find(left), r = vocab.Find(right), merged = vocab.Find(left + right);
    if (l < 0 || r < 0 || merged < 0) {
      return InvalidModelError(absl::StrCat(AV(source), ": merge ", rank, " ('",
                                            absl::CHexEscape(left), "', '", absl::CHexEscape(right),
                                            "') uses or forms a token not in model.vocab"));
    }
    cfg.merges[PairKey(l, r)] = {static_cast<int32_t>(rank), merged};
    for (int32_t operand : {l, r}) {
      if (operand == cfg.unk || vocab.type(operand) == TokenType::kByte) {
        cfg.merges_use_fallback_tokens = true;
      }
    }
  }

  // Added tokens (ids may extend past the model vocabulary).
  int64_t n_tokens = vocab.size();
  if (tokenizer.contains("added_tokens") && tokenizer["added_tokens"].is_array()) {
    for (const json& a : tokenizer["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
          !a.contains("content") || !a["content"].is_string()) {
        return InvalidModelError(absl::StrCat(AV(source), ": malformed entry in added_tokens"));
      }
      const int64_t id = a["id"].get<int64_t>();
      if (id < 0 || id >= kMaxVocabSize) {
        return InvalidModelError(
            absl::StrCat(AV(source), ": added token id ", id, " is out of range"));
      }
      AddedToken t;
      t.id = static_cast<int32_t>(id);
      t.content = a["content"].get<std::string>();
      t.special = BoolOr(a, "special", false);
      t.normalized = BoolOr(a, "normalized", !t.special);
      cfg.added.push_back(std::move(t));
      n_tokens = std::max(n_tokens, id + 1);
    }
  }
  cfg.n_tokens = static_cast<int32_t>(n_tokens);

  EMBER_ASSIGN_OR_RETURN(cfg.normalizer,
                         hf::Normalizer::FromJson(tokenizer.value("normalizer", json()), source));
  EMBER_ASSIGN_OR_RETURN(cfg.pre_tokenizer,
                         hf::Metaspace::FromJson(tokenizer.value("pre_tokenizer", json()), source));
  EMBER_ASSIGN_OR_RETURN(cfg.decoder,
                         hf::Decoder::FromJson(tokenizer.value("decoder", json()), source));

  // BOS / EOS: the template post-processor says what add_special_tokens adds; the config's
  // add_bos_token / add_eos_token and bos_token / eos_token override it.
  const auto find_token = [&](const std::string& text) -> int32_t {
    for (const AddedToken& t : cfg.added) {
      if (t.content == text) return t.id;
    }
    return vocab.Find(text);
  };
  const json post = tokenizer.value("post_processor", json());
  if (TypeOf(post) == "TemplateProcessing" && post.contains("single") &&
      post["single"].is_array() && !post["single"].empty()) {
    const auto special_id = [&](const json& item) -> int32_t {
      if (!item.is_object() || !item.contains("SpecialToken")) return -1;
      const std::string name = StringOr(item["SpecialToken"], "id", "");
      if (post.contains("special_tokens") && post["special_tokens"].is_object() &&
          post["special_tokens"].contains(name)) {
        const json& st = post["special_tokens"][name];
        if (st.contains("ids") && st["ids"].is_array() && st["ids"].size() == 1 &&
            st["ids"][0].is_number_integer()) {
          const int64_t id = st["ids"][0].get<int64_t>();
          if (id >= 0 && id < n_tokens) return static_cast<int32_t>(id);
        }
      }
      return find_token(name);
    };
    const json& single = post["single"];
    const int32_t first = special_id(single.front());
    const int32_t last = single.size() > 1 ? special_id(single.back()) : -1;
    if (first >= 0) {
      cfg.bos = first;
      cfg.add_bos = true;
    }
    if (last >= 0) {
      cfg.eos = last;
      cfg.add_eos = true;
    }
  }
  const std::string bos_text = ConfigTokenText(config, "bos_token");
  const std::string eos_text = ConfigTokenText(config, "eos_token");
  if (!bos_text.empty() && find_token(bos_text) >= 0) cfg.bos = find_token(bos_text);
  if (!eos_text.empty() && find_token(eos_text) >= 0) cfg.eos = find_token(eos_text);
  if (cfg.bos < 0) cfg.bos = find_token("<s>");
  if (cfg.eos < 0) cfg.eos = find_token("</s>");
  cfg.add_bos = BoolOr(config, "add_bos_token", cfg.add_bos);
  cfg.add_eos = BoolOr(config, "add_eos_token", cfg.add_eos);

  return std::unique_ptr<Tokenizer>(new HfSpmTokenizer(std::move(vocab), std::move(cfg)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateSpmTokenizerFromHfJson(
    const nlohmann::json& tokenizer, const nlohmann::json& config, std::string_view source) {
  // Every access above is checked; this only guards against a json exception we missed.
  try {
    return CreateFromJson(tokenizer, config, source);
  } catch (const nlohmann::json::exception& e) {
    return InvalidModelError(absl::StrCat(AV(source), ": ", e.what()));
  }
}

}  // namespace ember
