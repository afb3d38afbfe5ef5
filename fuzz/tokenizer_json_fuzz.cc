// libFuzzer target: arbitrary bytes as a Hugging Face tokenizer.json (optionally followed
// by a NUL byte and a tokenizer_config.json), loaded three ways: through
// TokenizerFromHfDir (the production path, files in a private temp dir), and straight into
// the SentencePiece and the GPT-2 builders (so each parser sees every input, whatever the
// dispatch would pick). Whatever loads must then behave: ids in range, TokenBytes exactly
// for ids in [0, n_tokens()), Decode of its own ids succeeds, invalid UTF-8 is refused.
// Seeds: fuzz/seeds/tokenizer_json_fuzz/ (the fixtures' tokenizer.json cut down to a few
// hundred tokens so that mutations stay fast).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/tokenizer/bpe_tokenizer.h"
#include "lib/tokenizer/spm_tokenizer.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/utf8.h"
#include "nlohmann/json.hpp"

namespace {

using nlohmann::json;

// Probe texts: plain, whitespace, special-token spellings, multi-byte, invalid UTF-8.
constexpr std::string_view kProbes[] = {
    "Hello world", "", " ", "  two  spaces\n\ttab", "<s>hi</s>", "<|endoftext|>x",
    "\xE2\x96\x81lead", "na\xC3\xAFve caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80",
    "\xFF\xFE bad", "\xC3",
};

// A private directory for the production path, removed at exit.
const std::string& TempDir() {
  static const std::string* dir = [] {
    const std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    auto* d = new std::string((base / ("ember_tokjson_fuzz." + std::to_string(getpid()))).string());
    std::filesystem::create_directories(*d);
    std::atexit([] { std::filesystem::remove_all(TempDir()); });
    return d;
  }();
  return *dir;
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Traps (a crash libFuzzer reports with the input) when a loaded tokenizer misbehaves.
void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer_json_fuzz: %s\n", what);
    std::abort();
  }
}

void Exercise(const ember::Tokenizer& tok, std::string_view input) {
  const int32_t n = tok.n_tokens();
  Check(n > 0, "n_tokens() <= 0");
  Check(tok.bos() >= -1 && tok.bos() < n, "bos out of range");
  Check(tok.eos() >= -1 && tok.eos() < n, "eos out of range");
  Check(tok.n_sampleable() >= 0 && tok.n_sampleable() <= n, "n_sampleable out of range");
  std::string piece, decoded;
  // Every id's bytes (bounded: the vocabulary may be large), and the first ids out of range.
  const int32_t limit = n < 2048 ? n : 2048;
  for (int32_t id = 0; id < limit; ++id) {
    Check(tok.TokenBytes(id, id & 1, &piece).ok(), "TokenBytes failed for an id in range");
    (void)tok.IsControl(id);
  }
  Check(!tok.TokenBytes(-1, false, &piece).ok(), "TokenBytes accepted -1");
  Check(!tok.TokenBytes(n, false, &piece).ok(), "TokenBytes accepted n_tokens()");

  std::vector<std::string_view> texts(std::begin(kProbes), std::end(kProbes));
  texts.push_back(input.substr(0, 64));
  for (std::string_view text : texts) {
    for (int flags = 0; flags < 4; ++flags) {
      ember::EncodeOptions options;
      options.add_bos = flags & 1;
      options.parse_special = flags & 2;
      std::vector<int32_t> ids;
      const absl::Status s = tok.Encode(text, options, &ids);
      if (!ember::IsValidUtf8(text)) Check(!s.ok(), "Encode accepted invalid UTF-8");
      if (!s.ok()) continue;
      for (int32_t id : ids) Check(id >= 0 && id < n, "Encode produced an id out of range");
      Check(tok.Decode(ids, flags & 1, &decoded).ok(), "Decode of Encode's ids failed");
    }
  }
  // Arbitrary ids: Decode fails exactly when one is out of range.
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < input.size() && ids.size() < 64; i += 2) {
    ids.push_back(static_cast<uint8_t>(input[i]) | (static_cast<uint8_t>(input[i + 1]) << 8));
  }
  bool in_range = true;
  for (int32_t id : ids) in_range &= id < n;
  Check(tok.Decode(ids, false, &decoded).ok() == in_range, "Decode range check is wrong");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view tokenizer_text = input.substr(0, nul);
  const std::string_view config_text =
      nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

  // The production path: a directory holding the two files.
  WriteFile(TempDir() + "/tokenizer.json", tokenizer_text);
  const std::string config_path = TempDir() + "/tokenizer_config.json";
  if (nul != std::string_view::npos) {
    WriteFile(config_path, config_text);
  } else {
    std::filesystem::remove(config_path);
  }
  auto from_dir = ember::TokenizerFromHfDir(TempDir());
  if (from_dir.ok()) Exercise(**from_dir, input);

  // Both builders directly on the parsed JSON.
  const json tokenizer = json::parse(tokenizer_text, nullptr, /*allow_exceptions=*/false);
  if (tokenizer.is_discarded()) return 0;
  json config = json::parse(config_text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) config = json::object();
  auto spm = ember::CreateSpmTokenizerFromHfJson(tokenizer, config, "fuzz/tokenizer.json");
  if (spm.ok()) Exercise(**spm, input);
  auto gpt2 = ember::CreateGpt2TokenizerFromHfJson(tokenizer, config, "fuzz/tokenizer.json");
  if (gpt2.ok()) Exercise(**gpt2, input);
  return 0;
}
