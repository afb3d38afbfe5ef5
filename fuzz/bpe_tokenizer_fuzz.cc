// libFuzzer target: arbitrary bytes through the Phi-2 tokenizer, loaded once from the
// fixtures (HF tokenizer.json and the GGUF vocabulary). The first byte picks the options;
// the rest is the text. Encoding must succeed exactly when the text is valid UTF-8, HF
// decoding must give the text back, and decoding arbitrary ids must never crash.
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
  std::string dir = root != nullptr ? root : std::string(__FILE__).substr(0, std::string(__FILE__).rfind('/')) + "/..";
  return dir + "/tests/data/models";
}

struct Tokenizers {
  std::unique_ptr<ember::Tokenizer> hf, gguf;
};

const Tokenizers& Get() {
  static const Tokenizers* t = [] {
    auto* t = new Tokenizers;
    auto hf = ember::TokenizerFromHfDir(ModelsDir() + "/tiny-phi2");
    auto file = ember::GgufFile::Open(ModelsDir() + "/tiny-phi2.f32.gguf");
    if (!hf.ok() || !file.ok()) {
      std::fprintf(stderr, "bpe_tokenizer_fuzz: cannot load the tiny-phi2 tokenizers from %s\n",
                   ModelsDir().c_str());
      std::abort();
    }
    auto gguf = ember::TokenizerFromGguf(**file);
    if (!gguf.ok()) std::abort();
    t->hf = std::move(*hf);
    t->gguf = std::move(*gguf);
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
  std::string decoded;
  for (const ember::Tokenizer* tok : {t.hf.get(), t.gguf.get()}) {
    std::vector<int32_t> ids;
    const absl::Status s = tok->Encode(text, options, &ids);
    if (s.ok() != valid) std::abort();
    if (!s.ok()) continue;
    for (int32_t id : ids) {
      if (id < 0 || id >= tok->n_tokens()) std::abort();
    }
    if (!tok->Decode(ids, /*skip_special=*/false, &decoded).ok()) std::abort();
    const std::string_view bos = options.add_bos ? "<|endoftext|>" : "";
    if (tok == t.hf.get() && decoded != std::string(bos) + std::string(text)) std::abort();
  }
  // The input as little-endian 16-bit ids (in and out of range) to decode.
  std::vector<int32_t> ids;
  for (size_t i = 1; i + 1 < size; i += 2) ids.push_back(data[i] | (data[i + 1] << 8));
  for (const ember::Tokenizer* tok : {t.hf.get(), t.gguf.get()}) {
    const absl::Status s = tok->Decode(ids, flags & 4, &decoded);
    bool in_range = true;
    for (int32_t id : ids) in_range &= id < tok->n_tokens();
    if (s.ok() != in_range) std::abort();
  }
  return 0;
}
