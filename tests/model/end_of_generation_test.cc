// The end-of-generation set of a loaded model (lib/model/end_of_generation.h): EOS, chat
// end-of-turn control tokens, GGUF eot/eom ids, and Hugging Face eos_token_id lists.
#include "lib/model/end_of_generation.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/model/model.h"
#include "tests/model/gguf_copy.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A Hugging Face directory like tiny-llama2 but with its own eos_token_id in config.json
// and its own generation_config.json (none if empty).
std::string HfDirWith(const std::string& name, const std::string& config_eos, const std::string& generation_config) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(WriteTempFile("probe", "")).parent_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path src = TestDataPath("models/tiny-llama2");
  for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    LinkOrCopyFile(src / f, dir / f);
  }
  std::string text = ReadFileBytes((src / "config.json").string());
  const std::string field = "\"eos_token_id\": 2";
  const size_t at = text.find(field);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) text.replace(at, field.size(), "\"eos_token_id\": " + config_eos);
  WriteText(dir / "config.json", text);
  if (!generation_config.empty()) WriteText(dir / "generation_config.json", generation_config);
  return dir.string();
}

TEST(EndOfGenerationTest, GgufEosIsTheSet) {
  auto loaded = Model::Load(TestDataPath("models/stories260K.gguf"), {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Model& m = **loaded;
  ASSERT_GE(m.tokenizer().eos(), 0);
  EXPECT_TRUE(m.IsEndOfGeneration(m.tokenizer().eos()));
  EXPECT_THAT(m.end_of_generation(), ElementsAreArray({m.tokenizer().eos()}));
  EXPECT_FALSE(m.IsEndOfGeneration(-1));
}

TEST(EndOfGenerationTest, HfConfigListsAndGenerationConfig) {
  const std::string dir = HfDirWith("eog_lists", "[2, 7]", R"({"eos_token_id": [2, 9, 11], "bos_token_id": 1})");
  auto m = Model::Load(dir, {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT((*m)->end_of_generation(), ElementsAreArray({2, 7, 9, 11}));
  EXPECT_TRUE((*m)->IsEndOfGeneration(9));
  EXPECT_FALSE((*m)->IsEndOfGeneration(8));

  const std::string bad = HfDirWith("eog_bad", "2", R"({"eos_token_id": [2, 40000]})");
  auto broken = Model::Load(bad, {});
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr("generation_config.json"));
}

TEST(EndOfGenerationTest, GgufEotAndEomIds) {
  GgufEdits edits;
  edits.drop_keys = {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"};
  edits.add_metadata = [](GgufWriter& w) {
    w.AddUint32("tokenizer.ggml.eot_token_id", 17);
    w.AddInt32("tokenizer.ggml.eom_token_id", -1);  // llama.cpp's "none"
  };
  auto m = Model::Load(CopyGguf(TestDataPath("models/stories260K.gguf"), "eot.gguf", edits), {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT((*m)->end_of_generation(), ElementsAreArray({(*m)->tokenizer().eos(), 17}));
}

TEST(EndOfGenerationTest, ChatMarkersCountOnlyAsControlTokens) {
  // Phi-2's <|endoftext|> is its EOS; the Llama 2 vocabulary has no chat markers.
  auto phi = Model::Load(TestDataPath("models/tiny-phi2.q8_0.gguf"), {});
  ASSERT_TRUE(phi.ok()) << phi.status();
  EXPECT_THAT((*phi)->end_of_generation(), ElementsAreArray({(*phi)->tokenizer().eos()}));
  auto llama = Model::Load(TestDataPath("models/tiny-llama2.q8_0.gguf"), {});
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_THAT((*llama)->end_of_generation(), ElementsAreArray({2}));
}

}  // namespace
}  // namespace ember::testing
