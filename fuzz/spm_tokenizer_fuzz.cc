// libFuzzer target: arbitrary bytes through the SentencePiece tokenizers, loaded once from
// the fixtures (stories260K.gguf with llama.cpp semantics, tiny-llama2/tokenizer.json with
// HF semantics). The first byte picks the options; the rest is the text. Encoding must
// succeed exactly when the text is valid UTF-8 and give ids in range; without special
// parsing, decoding must give the text back (both vocabularies have all 256 byte tokens),
// unless it contains "▁" itself, which decodes as a space; streaming the token bytes must
// give valid UTF-8; decoding arbitrary ids must never crash.
// Fixtures: $EMBER_SOURCE_DIR/tests/data/models (set by scripts/fuzz.sh), else the source
// tree this file was compiled from.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/format/gguf.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/utf8.h"

namespace {

std::string ModelsDir() {
  const char* root = std::getenv("EMBER_SOURCE_DIR");
  const std::string file = __FILE__;
  const std::string dir = root != nullptr ? root : file.substr(0, file.rfind('/')) + "/..";
  return dir + "/tests/data/models";
}

struct Tokenizers {
  std::unique_ptr<ember::Tokenizer> gguf, hf;
};

const Tokenizers& Get() {
  static const Tokenizers* t = [] {
    auto* t = new Tokenizers;
    auto file = ember::GgufFile::Open(ModelsDir() + "/stories260K.gguf");
    if (!file.ok()) {
      std::fprintf(stderr, "spm_tokenizer_fuzz: cannot open stories260K.gguf in %s\n",
                   ModelsDir().c_str());
      std::abort();
    }
    auto gguf = ember::TokenizerFromGguf(**file);
    auto hf = ember::TokenizerFromHfDir(ModelsDir() + "/tiny-llama2");
    if (!gguf.ok() || !hf.ok()) std::abort();
    t->gguf = std::move(*gguf);
    t->hf = std::move(*hf);
    return t;
  }();
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Tokenizers& t = Get();
  const uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  ember::EncodeOptions options;
  options.parse_special = flags & 1;
  options.add_bos = flags & 2;
  const bool valid = ember::IsValidUtf8(text);
  const bool round_trips =
      !options.parse_special && text.find("\xE2\x96\x81") == std::string_view::npos;
  std::string decoded, piece, streamed;
  for (const ember::Tokenizer* tok : {t.gguf.get(), t.hf.get()}) {
    std::vector<int32_t> ids;
    const absl::Status s = tok->Encode(text, options, &ids);
    if (s.ok() != valid) std::abort();
    if (!s.ok()) continue;
    for (int32_t id : ids) {
      if (id < 0 || id >= tok->n_tokens()) std::abort();
    }
    const size_t skip = options.add_bos && !ids.empty() && ids[0] == tok->bos() ? 1 : 0;
    const std::vector<int32_t> text_ids(ids.begin() + skip, ids.end());
    if (!tok->Decode(text_ids, /*skip_special=*/false, &decoded).ok()) std::abort();
    if (round_trips && decoded != text) std::abort();
    ember::Utf8Stream stream;
    streamed.clear();
    for (int32_t id : ids) {
      if (!tok->TokenBytes(id, flags & 4, &piece).ok()) std::abort();
      stream.Push(piece, &streamed);
    }
    stream.Flush(&streamed);
    if (!ember::IsValidUtf8(streamed)) std::abort();
  }
  // The input as little-endian 16-bit ids (in and out of range) to decode.
  std::vector<int32_t> ids;
  for (size_t i = 1; i + 1 < size; i += 2) ids.push_back(data[i] | (data[i + 1] << 8));
  for (const ember::Tokenizer* tok : {t.gguf.get(), t.hf.get()}) {
    const absl::Status s = tok->Decode(ids, flags & 4, &decoded);
    bool in_range = true;
    for (int32_t id : ids) in_range &= id < tok->n_tokens();
    if (s.ok() != in_range) std::abort();
  }
  return 0;
}
