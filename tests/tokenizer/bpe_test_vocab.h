// Tiny GPT-2 style vocabularies for the BPE tokenizer tests, as tokenizer.json and as GGUF:
// ids 0..255 are the byte symbols (id = byte), then `extra` tokens, then added tokens.
#ifndef EMBER_TESTS_TOKENIZER_BPE_TEST_VOCAB_H_
#define EMBER_TESTS_TOKENIZER_BPE_TEST_VOCAB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/base/mapped_file.h"
#include "lib/format/gguf.h"
#include "lib/format/gguf_writer.h"
#include "lib/tokenizer/bpe_tokenizer.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/utf8.h"
#include "nlohmann/json.hpp"

namespace ember::testing {

// The byte-level spelling of raw text ("a b" -> "aĠb").
inline std::string Symbols(std::string_view raw) {
  std::string s;
  for (char c : raw) AppendUtf8(ByteToSymbol(static_cast<uint8_t>(c)), &s);
  return s;
}

struct TinyVocab {
  std::vector<std::string> extra;  // raw text of merged tokens, ids 256..
  std::vector<std::pair<std::string, std::string>> merges;  // raw text, rank order
  struct Added {
    std::string content;
    bool special = false;
    bool normalized = true;
  };
  std::vector<Added> added;  // ids after `extra`

  int32_t ExtraId(size_t i) const { return static_cast<int32_t>(256 + i); }
  int32_t AddedId(size_t i) const { return static_cast<int32_t>(256 + extra.size() + i); }
};

inline nlohmann::json TinyTokenizerJson(const TinyVocab& v) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[Symbols(std::string(1, static_cast<char>(b)))] = b;
  for (size_t i = 0; i < v.extra.size(); ++i) vocab[Symbols(v.extra[i])] = v.ExtraId(i);
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [l, r] : v.merges) merges.push_back(Symbols(l) + " " + Symbols(r));
  nlohmann::json added = nlohmann::json::array();
  for (size_t i = 0; i < v.added.size(); ++i) {
    added.push_back({{"id", v.AddedId(i)}, {"content", v.added[i].content},
                     {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", v.added[i].normalized}, {"special", v.added[i].special}});
  }
  return {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"decoder",
       {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
        {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
        {"byte_fallback", false}, {"vocab", vocab}, {"merges", merges}}},
  };
}

// The same vocabulary as llama.cpp's converter writes it: special added tokens CONTROL,
// the others USER_DEFINED (literal text). `edit` may change the metadata before writing.
inline std::string TinyGgufBytes(const TinyVocab& v,
                                 const std::function<void(GgufWriter&)>& extra_keys = nullptr,
                                 bool standard_keys = true) {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int b = 0; b < 256; ++b) tokens.push_back(Symbols(std::string(1, static_cast<char>(b))));
  for (const auto& e : v.extra) tokens.push_back(Symbols(e));
  types.assign(tokens.size(), static_cast<int32_t>(TokenType::kNormal));
  for (const auto& a : v.added) {
    tokens.push_back(a.content);
    types.push_back(static_cast<int32_t>(a.special ? TokenType::kControl : TokenType::kUserDefined));
  }
  std::vector<std::string> merges;
  for (const auto& [l, r] : v.merges) merges.push_back(Symbols(l) + " " + Symbols(r));
  GgufWriter w;
  w.AddString("general.architecture", "phi2");
  if (standard_keys) {
    w.AddString("tokenizer.ggml.model", "gpt2");
    w.AddString("tokenizer.ggml.pre", "phi-2");
    w.AddStringArray("tokenizer.ggml.tokens", tokens);
    w.AddInt32Array("tokenizer.ggml.token_type", types);
    w.AddStringArray("tokenizer.ggml.merges", merges);
  }
  if (extra_keys) extra_keys(w);
  auto bytes = w.ToBytes();
  return bytes.ok() ? *bytes : std::string();
}

// Parses GGUF bytes (kept alive by the caller) and builds the GPT-2 tokenizer from them.
inline absl::StatusOr<std::unique_ptr<Tokenizer>> Gpt2FromGgufBytes(const std::string& bytes) {
  auto file = MappedFile::FromBuffer(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "tiny.gguf");
  auto gguf = GgufFile::Parse(std::move(file));
  if (!gguf.ok()) return gguf.status();
  return CreateGpt2TokenizerFromGguf(**gguf);
}

inline absl::StatusOr<std::unique_ptr<Tokenizer>> Gpt2FromJson(const nlohmann::json& j) {
  return CreateGpt2TokenizerFromHfJson(j, nlohmann::json::object(), "tiny/tokenizer.json");
}

}  // namespace ember::testing

#endif  // EMBER_TESTS_TOKENIZER_BPE_TEST_VOCAB_H_
