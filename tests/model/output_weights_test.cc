// Loader strictness for the output projection: a Hugging Face model uses the embedding as
// its output matrix only if config.json declares tied embeddings; an untied model whose
// files lack lm_head.weight is an error, never a silent substitution.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/format/safetensors.h"
#include "lib/model/model.h"
#include "lib/model/weights.h"
#include "tests/format/safetensors_builder.h"
#include "tests/model/gguf_copy.h"
#include "tests/support/test_support.h"

namespace ember::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void WriteText(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// tiny-llama2 (an F32 checkpoint), with or without lm_head.weight, tied or not.
std::string TinyLlamaVariant(const std::string& name, bool with_lm_head, const std::string& tie) {
  const fs::path src = TestDataPath("models/tiny-llama2");
  const fs::path dir = fs::path(WriteTempFile("probe", "")).parent_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    LinkOrCopyFile(src / f, dir / f);
  }
  std::string config = ReadFileBytes((src / "config.json").string());
  const std::string field = "\"tie_word_embeddings\": false";
  const size_t at = config.find(field);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) {
    config.replace(at, field.size(), tie.empty() ? "\"unrelated_field\": 0" : "\"tie_word_embeddings\": " + tie);
  }
  WriteText(dir / "config.json", config);
  if (with_lm_head) {
    LinkOrCopyFile(src / "model.safetensors", dir / "model.safetensors");
    return dir.string();
  }
  auto file = SafetensorsFile::Open((src / "model.safetensors").string());
  EXPECT_TRUE(file.ok()) << file.status();
  std::vector<StTensor> kept;
  for (const TensorView& t : (*file)->tensors()) {
    if (t.name == "lm_head.weight") continue;
    EXPECT_EQ(t.type, DType::kF32) << t.name;
    std::vector<int64_t> shape;
    for (int d = t.n_dims - 1; d >= 0; --d) shape.push_back(t.ne[d]);
    kept.push_back({t.name, "F32", shape, std::string(reinterpret_cast<const char*>(t.data), t.nbytes)});
  }
  WriteText(dir / "model.safetensors", BuildSafetensors(kept));
  return dir.string();
}

TEST(OutputWeightsTest, UntiedModelWithoutLmHeadIsAnError) {
  for (const std::string tie : {"false", ""}) {  // explicit, and LlamaConfig's default
    auto m = Model::Load(TinyLlamaVariant("untied_" + tie, /*with_lm_head=*/false, tie), {});
    ASSERT_FALSE(m.ok()) << "tie_word_embeddings '" << tie << "' loaded without lm_head.weight";
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << m.status();
    EXPECT_THAT(std::string(m.status().message()), HasSubstr("lm_head.weight")) << m.status();
    EXPECT_THAT(std::string(m.status().message()), HasSubstr("tie_word_embeddings")) << m.status();
  }
}

TEST(OutputWeightsTest, TiedModelUsesTheEmbedding) {
  // Without lm_head.weight, and with one (transformers ties them, ignoring the file's copy).
  for (const bool with_lm_head : {false, true}) {
    auto m = Model::Load(TinyLlamaVariant(with_lm_head ? "tied_with" : "tied_without", with_lm_head, "true"), {});
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ((*m)->weights().output.data, (*m)->weights().token_embd.data);
  }
}

TEST(OutputWeightsTest, UntiedModelUsesItsOwnOutput) {
  auto m = Model::Load(TestDataPath("models/tiny-llama2"), {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE((*m)->weights().output.data, (*m)->weights().token_embd.data);
}

TEST(OutputWeightsTest, GgufWithoutOutputTiesByConvention) {
  GgufEdits edits;
  edits.tensor = [](const TensorView& t, GgufWriter&) { return t.name == "output.weight"; };
  const std::string path = CopyGguf(TestDataPath("models/stories260K.gguf"), "no_output.gguf", edits);
  auto m = Model::Load(path, {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->weights().output.data, (*m)->weights().token_embd.data);
  auto own = Model::Load(TestDataPath("models/stories260K.gguf"), {});
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_NE((*own)->weights().output.data, (*own)->weights().token_embd.data);
}

}  // namespace
}  // namespace ember::testing
