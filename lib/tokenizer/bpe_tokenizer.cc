// Loaders for GPT-2 byte-level BPE vocabularies: GGUF metadata (llama.cpp semantics) and
// HF tokenizer.json (tokenizers semantics). Both validate everything they read and hand a
// ByteLevelBpeSpec to CreateByteLevelBpe.
#include "lib/tokenizer/bpe_tokenizer.h"

#include <limits>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/format/gguf.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/byte_level_bpe.h"
#include "lib/tokenizer/hf_merges.h"
#include "lib/tokenizer/utf8.h"
#include "nlohmann/json.hpp"

namespace ember {
namespace {

using json = nlohmann::json;

// More tokens than any real vocabulary; keeps ids and offsets comfortably in 32 bits.
constexpr int64_t kMaxTokens = int64_t{1} << 24;

std::string SymbolText(uint8_t byte) {
  std::string s;
  AppendUtf8(ByteToSymbol(byte), &s);
  return s;
}

// Quotes a token for an error message, truncated so hostile input cannot flood it.
std::string Quoted(std::string_view s) {
  constexpr size_t kMax = 40;
  return absl::StrCat("'", AV(s.substr(0, kMax)), s.size() > kMax ? "...'" : "'");
}

// Fills spec.byte_token from a text -> id map, or names the missing byte.
template <typename Map>
absl::Status FindByteTokens(const Map& ids, std::string_view where, ByteLevelBpeSpec* spec) {
  for (int b = 0; b < 256; ++b) {
    const std::string symbol = SymbolText(static_cast<uint8_t>(b));
    auto it = ids.find(symbol);
    if (it == ids.end()) {
      return InvalidModelError(absl::StrCat(spec->source, ": ", AV(where), " has no token for byte 0x",
                                            absl::Hex(b, absl::kZeroPad2), " (symbol ",
                                            Quoted(symbol), ")"));
    }
    spec->byte_token[b] = it->second;
  }
  return absl::OkStatus();
}

// Resolves a merge (left, right) against a text -> id map.
template <typename Map>
absl::Status AddMerge(const Map& ids, std::string_view left, std::string_view right,
                      std::string_view where, ByteLevelBpeSpec* spec) {
  auto l = ids.find(std::string(left));
  auto r = ids.find(std::string(right));
  for (auto [it, part] : {std::pair{l, left}, std::pair{r, right}}) {
    if (it == ids.end()) {
      return InvalidModelError(absl::StrCat(spec->source, ": ", AV(where), ": ", Quoted(part),
                                            " is not a token"));
    }
  }
  const std::string merged = absl::StrCat(AV(left), AV(right));
  auto m = ids.find(merged);
  if (m == ids.end()) {
    return InvalidModelError(absl::StrCat(spec->source, ": ", AV(where), ": the merged token ",
                                          Quoted(merged), " is not a token"));
  }
  spec->merges.push_back({l->second, r->second, m->second});
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// GGUF

absl::StatusOr<std::optional<int32_t>> GgufTokenId(const GgufFile& gguf, std::string_view key,
                                                   size_t n_tokens) {
  EMBER_ASSIGN_OR_RETURN(std::optional<uint64_t> v, gguf.GetUint(key));
  if (!v.has_value()) return std::optional<int32_t>();
  if (*v >= n_tokens) {
    return InvalidModelError(absl::StrCat(gguf.path(), ": ", AV(key), " = ", *v,
                                          " is not a token id (", n_tokens, " tokens)"));
  }
  return std::optional<int32_t>(static_cast<int32_t>(*v));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateGpt2TokenizerFromGguf(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string_view> model,
                         gguf.GetString("tokenizer.ggml.model"));
  if (model != "gpt2") {
    return UnsupportedError(absl::StrCat(path, ": tokenizer.ggml.model is '",
                                         AV(model.value_or("")), "', not 'gpt2'"));
  }
  // llama.cpp runs the GPT-2 pattern for these two names. A file without the key predates
  // it; llama.cpp would then fall back to its "default" pattern, but such files hold GPT-2
  // style vocabularies, so the GPT-2 pattern is used for them too.
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string_view> pre, gguf.GetString("tokenizer.ggml.pre"));
  if (pre.has_value() && *pre != "gpt-2" && *pre != "phi-2") {
    return UnsupportedError(absl::StrCat(path, ": tokenizer.ggml.pre '", AV(*pre),
                                         "' is not supported (only 'gpt-2' and 'phi-2')"));
  }

  EMBER_ASSIGN_OR_RETURN(std::vector<std::string_view> tokens,
                         gguf.GetStringArray("tokenizer.ggml.tokens"));
  if (tokens.empty()) return InvalidModelError(absl::StrCat(path, ": no tokenizer.ggml.tokens"));
  if (static_cast<int64_t>(tokens.size()) > kMaxTokens) {
    return InvalidModelError(absl::StrCat(path, ": tokenizer.ggml.tokens has ", tokens.size(),
                                          " entries (limit ", kMaxTokens, ")"));
  }
  EMBER_ASSIGN_OR_RETURN(std::vector<int32_t> types,
                         gguf.GetInt32Array("tokenizer.ggml.token_type"));
  if (types.empty()) {
    types.assign(tokens.size(), static_cast<int32_t>(TokenType::kNormal));
  } else if (types.size() != tokens.size()) {
    return InvalidModelError(absl::StrCat(path, ": tokenizer.ggml.token_type has ", types.size(),
                                          " entries but tokenizer.ggml.tokens has ",
                                          tokens.size()));
  }
  if (gguf.Find("tokenizer.ggml.merges") == nullptr) {
    return InvalidModelError(absl::StrCat(path, ": no tokenizer.ggml.merges"));
  }
  EMBER_ASSIGN_OR_RETURN(std::vector<std::string_view> merges,
                         gguf.GetStringArray("tokenizer.ggml.merges"));

  ByteLevelBpeSpec spec;
  spec.flavor = BpeFlavor::kLlamaCpp;
  spec.source = path;
  spec.clean_spaces = true;  // llama.cpp cleans up spaces for the GPT-2 pre-types
  spec.type = std::move(types);
  spec.text.reserve(tokens.size());
  absl::flat_hash_map<std::string, int32_t> ids;
  ids.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    // llama.cpp renames empty tokens so that they can be neither matched nor confused.
    std::string text = tokens[i].empty() ? absl::StrCat("[EMPTY_", i, "]") : std::string(tokens[i]);
    auto [it, inserted] = ids.try_emplace(text, static_cast<int32_t>(i));
    if (!inserted) {
      return InvalidModelError(absl::StrCat(path, ": tokenizer.ggml.tokens[", i, "] ",
                                            Quoted(text), " repeats token ", it->second));
    }
    spec.text.push_back(std::move(text));
  }
  EMBER_RETURN_IF_ERROR(FindByteTokens(ids, "tokenizer.ggml.tokens", &spec));
  spec.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string_view m = merges[i];
    const std::string where = absl::StrCat("tokenizer.ggml.merges[", i, "]");
    // The separator is the first space after the first byte (token text has no raw
    // spaces, but a merge's first part may in principle be one).
    const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (space == std::string_view::npos || space + 1 >= m.size()) {
      return InvalidModelError(absl::StrCat(path, ": ", where, " ", Quoted(m),
                                            " is not 'left right'"));
    }
    EMBER_RETURN_IF_ERROR(AddMerge(ids, m.substr(0, space), m.substr(space + 1), where, &spec));
  }

  EMBER_ASSIGN_OR_RETURN(std::optional<int32_t> bos,
                         GgufTokenId(gguf, "tokenizer.ggml.bos_token_id", tokens.size()));
  EMBER_ASSIGN_OR_RETURN(std::optional<int32_t> eos,
                         GgufTokenId(gguf, "tokenizer.ggml.eos_token_id", tokens.size()));
  EMBER_ASSIGN_OR_RETURN(std::optional<bool> add_bos, gguf.GetBool("tokenizer.ggml.add_bos_token"));
  spec.bos = bos.value_or(-1);
  spec.eos = eos.value_or(-1);
  spec.add_bos = add_bos.value_or(false);
  return CreateByteLevelBpe(std::move(spec));
}

// -----------------------------------------------------------------------------------------
// tokenizer.json

namespace {

// Member `key` of `obj`, or nullptr when obj is not an object or lacks the key.
const json* Member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// An id in [0, kMaxTokens), or nullopt.
std::optional<int32_t> JsonId(const json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u < static_cast<uint64_t>(kMaxTokens)) return static_cast<int32_t>(u);
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i >= 0 && i < kMaxTokens) return static_cast<int32_t>(i);
  }
  return std::nullopt;
}

// Optional boolean member; absent or null gives `fallback`.
absl::StatusOr<bool> JsonBool(const json& obj, const char* key, bool fallback,
                              std::string_view where, std::string_view source) {
  const json* v = Member(obj, key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_boolean()) {
    return InvalidModelError(absl::StrCat(AV(source), ": ", AV(where), ".", key, " must be a boolean"));
  }
  return v->get<bool>();
}

std::string JsonType(const json* v) { return v == nullptr ? "missing" : v->type_name(); }

// A string member, or the "content" of an AddedToken-like object (tokenizer_config.json).
std::optional<std::string> TokenContent(const json* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (const json* c = Member(*v, "content"); c != nullptr && c->is_string()) {
    return c->get<std::string>();
  }
  return std::nullopt;
}

// The one supported pre-tokenizer: ByteLevel with the GPT-2 pattern (use_regex), alone or
// as the only member of a Sequence.
absl::StatusOr<const json*> FindByteLevelPreTokenizer(const json& tokenizer, std::string_view src) {
  const json* pre = Member(tokenizer, "pre_tokenizer");
  auto unsupported = [&](std::string_view why) {
    return UnsupportedError(absl::StrCat(AV(src), ": pre_tokenizer: ", AV(why)));
  };
  if (pre == nullptr || !pre->is_object()) return unsupported("missing (need ByteLevel)");
  const json* type = Member(*pre, "type");
  if (type != nullptr && type->is_string() && *type == "Sequence") {
    const json* list = Member(*pre, "pretokenizers");
    if (list == nullptr || !list->is_array() || list->size() != 1) {
      return unsupported("a Sequence other than a single ByteLevel");
    }
    pre = &(*list)[0];
    type = Member(*pre, "type");
  }
  if (type == nullptr || !type->is_string() || *type != "ByteLevel") {
    return unsupported(absl::StrCat("type ", type == nullptr ? "missing" : type->dump(),
                                    " (need ByteLevel)"));
  }
  if (const json* r = Member(*pre, "use_regex"); r != nullptr && !(r->is_boolean() && r->get<bool>())) {
    return unsupported("ByteLevel without the GPT-2 regex (use_regex false)");
  }
  return pre;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> CreateGpt2TokenizerFromHfJson(
    const nlohmann::json& tokenizer, const nlohmann::json& config, std::string_view source) {
  const std::string src(source);
  auto invalid = [&](std::string_view field, std::string_view what) {
    return InvalidModelError(absl::StrCat(src, ": ", AV(field), ": ", AV(what)));
  };
  auto unsupported = [&](std::string_view field, std::string_view what) {
    return UnsupportedError(absl::StrCat(src, ": ", AV(field), ": ", AV(what)));
  };
  if (!tokenizer.is_object()) return invalid("(root)", "not a JSON object");
  const json* model = Member(tokenizer, "model");
  if (model == nullptr || !model->is_object()) return invalid("model", "missing or not an object");
  if (const json* t = Member(*model, "type"); t != nullptr && !(t->is_string() && *t == "BPE")) {
    return unsupported("model.type", absl::StrCat(t->dump(), " (need \"BPE\")"));
  }

  // Options this implementation does not have; refuse rather than tokenize differently.
  if (const json* n = Member(tokenizer, "normalizer"); n != nullptr && !n->is_null()) {
    return unsupported("normalizer", "only null is supported for byte-level BPE");
  }
  EMBER_ASSIGN_OR_RETURN(const json* pre, FindByteLevelPreTokenizer(tokenizer, src));
  if (const json* d = Member(tokenizer, "decoder"); d != nullptr && !d->is_null()) {
    const json* t = Member(*d, "type");
    if (t == nullptr || !t->is_string() || *t != "ByteLevel") {
      return unsupported("decoder", "only ByteLevel (or null) is supported");
    }
  }
  if (const json* v = Member(*model, "dropout"); v != nullptr && !v->is_null() &&
                                                 !(v->is_number() && v->get<double>() == 0.0)) {
    return unsupported("model.dropout", "BPE dropout is not supported");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const json* v = Member(*model, key);
    if (v != nullptr && !v->is_null() && !(v->is_string() && v->get<std::string>().empty())) {
      return unsupported(absl::StrCat("model.", key), "must be empty");
    }
  }
  for (const char* key : {"byte_fallback", "ignore_merges"}) {
    EMBER_ASSIGN_OR_RETURN(bool on, JsonBool(*model, key, false, "model", src));
    if (on) return unsupported(absl::StrCat("model.", key), "true is not supported");
  }

  ByteLevelBpeSpec spec;
  spec.flavor = BpeFlavor::kHfTokenizers;
  spec.source = src;
  EMBER_ASSIGN_OR_RETURN(spec.add_prefix_space,
                         JsonBool(*pre, "add_prefix_space", false, "pre_tokenizer", src));

  // model.vocab: token text -> id; ids must be distinct.
  const json* vocab = Member(*model, "vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return invalid("model.vocab", absl::StrCat("must be an object, is ", JsonType(vocab)));
  }
  if (vocab->empty()) return invalid("model.vocab", "is empty");
  absl::flat_hash_map<std::string, int32_t> ids;
  absl::flat_hash_map<int32_t, std::string> text_of;
  ids.reserve(vocab->size());
  text_of.reserve(vocab->size());
  int64_t n_tokens = 0;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    const std::optional<int32_t> id = JsonId(it.value());
    if (!id.has_value()) {
      return invalid(absl::StrCat("model.vocab[", Quoted(it.key()), "]"),
                     absl::StrCat("id must be an integer in [0, ", kMaxTokens, "), is ",
                                  it.value().dump()));
    }
    auto [prev, inserted] = text_of.try_emplace(*id, it.key());
    if (!inserted) {
      return invalid("model.vocab", absl::StrCat("id ", *id, " is used by both ",
                                                 Quoted(prev->second), " and ", Quoted(it.key())));
    }
    ids.emplace(it.key(), *id);
    n_tokens = std::max<int64_t>(n_tokens, int64_t{*id} + 1);
  }

  // added_tokens: special ones become control tokens; the others are matched as text too.
  struct Added {
    int32_t id;
    bool special, normalized;
  };
  std::vector<Added> added;
  if (const json* list = Member(tokenizer, "added_tokens"); list != nullptr && !list->is_null()) {
    if (!list->is_array()) return invalid("added_tokens", "must be an array");
    absl::flat_hash_map<int32_t, size_t> seen;
    for (size_t i = 0; i < list->size(); ++i) {
      const json& t = (*list)[i];
      const std::string where = absl::StrCat("added_tokens[", i, "]");
      if (!t.is_object()) return invalid(where, "must be an object");
      const json* id_json = Member(t, "id");
      const std::optional<int32_t> id = id_json ? JsonId(*id_json) : std::nullopt;
      if (!id.has_value()) {
        return invalid(absl::StrCat(where, ".id"),
                       absl::StrCat("must be an integer in [0, ", kMaxTokens, ")"));
      }
      const json* content = Member(t, "content");
      if (content == nullptr || !content->is_string()) {
        return invalid(absl::StrCat(where, ".content"), "must be a string");
      }
      const std::string text = content->get<std::string>();
      if (text.empty()) return invalid(absl::StrCat(where, ".content"), "is empty");
      EMBER_ASSIGN_OR_RETURN(bool special, JsonBool(t, "special", false, where, src));
      EMBER_ASSIGN_OR_RETURN(bool normalized, JsonBool(t, "normalized", !special, where, src));
      for (const char* key : {"lstrip", "rstrip", "single_word"}) {
        EMBER_ASSIGN_OR_RETURN(bool on, JsonBool(t, key, false, where, src));
        if (on) return unsupported(absl::StrCat(where, ".", key), "true is not supported");
      }
      if (auto [prev, inserted] = seen.try_emplace(*id, i); !inserted) {
        return invalid(where, absl::StrCat("id ", *id, " repeats added_tokens[", prev->second, "]"));
      }
      auto [prev_text, new_id] = text_of.try_emplace(*id, text);
      if (!new_id && prev_text->second != text) {
        return invalid(where, absl::StrCat("id ", *id, " is ", Quoted(prev_text->second),
                                           " in model.vocab but ", Quoted(text), " here"));
      }
      if (auto it = ids.find(text); it != ids.end() && it->second != *id) {
        return invalid(where, absl::StrCat(Quoted(text), " has id ", it->second,
                                           " in model.vocab but ", *id, " here"));
      }
      ids.emplace(text, *id);
      n_tokens = std::max<int64_t>(n_tokens, int64_t{*id} + 1);
      added.push_back({*id, special, normalized});
    }
  }

  // Ids must be dense: every id below n_tokens names a token.
  if (static_cast<int64_t>(text_of.size()) != n_tokens) {
    for (int32_t id = 0; id < n_tokens; ++id) {
      if (!text_of.contains(id)) {
        return invalid("model.vocab", absl::StrCat("no token has id ", id, " (ids go up to ",
                                                   n_tokens - 1, ")"));
      }
    }
  }
  spec.text.resize(n_tokens);
  spec.type.assign(n_tokens, static_cast<int32_t>(TokenType::kNormal));
  for (auto& [id, text] : text_of) spec.text[id] = std::move(text);
  for (const Added& a : added) {
    spec.type[a.id] = static_cast<int32_t>(a.special ? TokenType::kControl : TokenType::kUserDefined);
    if (a.normalized) spec.normalized_added.push_back(a.id);
  }
  EMBER_RETURN_IF_ERROR(FindByteTokens(ids, "model.vocab", &spec));

  // model.merges: "left right" strings (older files) or ["left", "right"] pairs.
  const json* merges = Member(*model, "merges");
  if (merges == nullptr || !merges->is_array()) {
    return invalid("model.merges", absl::StrCat("must be an array, is ", JsonType(merges)));
  }
  spec.merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const json& m = (*merges)[i];
    const std::string where = absl::StrCat("model.merges[", i, "]");
    const auto parts = SplitHfMerge(m);
    if (!parts.has_value()) {
      return invalid(where, m.is_string() ? absl::StrCat(Quoted(m.get<std::string>()), " is not 'left right'")
                                          : "must be a \"left right\" string or a pair of strings");
    }
    const auto& [left, right] = *parts;
    EMBER_RETURN_IF_ERROR(AddMerge(ids, left, right, where, &spec));
  }

  // BOS/EOS and the BOS default come from tokenizer_config.json.
  auto config_token = [&](const char* key) -> int32_t {
    const std::optional<std::string> content = TokenContent(Member(config, key));
    if (!content.has_value()) return -1;
    auto it = ids.find(*content);
    return it == ids.end() ? -1 : it->second;
  };
  spec.bos = config_token("bos_token");
  spec.eos = config_token("eos_token");
  if (config.is_object()) {
    EMBER_ASSIGN_OR_RETURN(spec.add_bos, JsonBool(config, "add_bos_token", false,
                                                  "tokenizer_config.json", src));
  }
  return CreateByteLevelBpe(std::move(spec));
}

}  // namespace ember
