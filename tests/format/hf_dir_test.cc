#include "lib/format/hf_dir.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/fp16.h"
#include "lib/format/gguf.h"
#include "tests/format/safetensors_builder.h"
#include "tests/support/test_support.h"

namespace ember {
namespace {

namespace fs = std::filesystem;
using ::ember::testing::BuildSafetensors;
using ::ember::testing::FloatBytes;
using ::ember::testing::ReadFileBytes;
using ::ember::testing::StTensor;
using ::ember::testing::TestDataPath;
using ::testing::HasSubstr;
using nlohmann::json;

constexpr absl::StatusCode kInvalidModel = absl::StatusCode::kDataLoss;
constexpr absl::StatusCode kUnsupported = absl::StatusCode::kUnimplemented;
constexpr absl::StatusCode kIo = absl::StatusCode::kUnavailable;

std::string FixtureDir(const char* name) { return TestDataPath(std::string("models/") + name); }

void WriteFile(const fs::path& path, std::string_view bytes) {
  // std::ofstream takes the path itself: fopen would need path.c_str(), which is wchar_t
  // on Windows.
  std::ofstream out(path, std::ios::binary);
  ASSERT_TRUE(out) << path;
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.flush()) << path;
}

// A fresh directory per test under the temp dir, removed afterwards.
class HfDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("ember_hf_dir_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A model directory `name` holding the tiny-llama2 config.json and `files`.
  std::string MakeDir(const std::string& name, const std::map<std::string, std::string>& files,
                      bool with_config = true) {
    fs::path dir = root_ / name;
    fs::create_directories(dir);
    if (with_config) WriteFile(dir / "config.json", ReadFileBytes(FixtureDir("tiny-llama2") + "/config.json"));
    for (const auto& [file, bytes] : files) WriteFile(dir / file, bytes);
    return dir.string();
  }

  static std::string Index(const json& weight_map) {
    return json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump(2);
  }

  static std::string OneTensor(const std::string& name, float v = 1) {
    return BuildSafetensors({{name, "F32", {1}, FloatBytes({v})}});
  }

  fs::path root_;
};

void ExpectError(const absl::StatusOr<std::unique_ptr<HfModelDir>>& m, absl::StatusCode code,
                 std::vector<std::string> parts) {
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), code) << m.status();
  for (const std::string& p : parts) EXPECT_THAT(std::string(m.status().message()), HasSubstr(p));
}

// HF name -> GGUF name, as /work/shared/models/README.md lists the correspondence.
std::string GgufName(const std::string& hf) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "lm_head.weight") return "output.weight";
  if (hf == "lm_head.bias") return "output.bias";
  std::string s = absl::StrReplaceAll(hf, {{"model.final_layernorm.", "output_norm."},
                                           {"model.norm.", "output_norm."},
                                           {"model.layers.", "blk."},
                                           {".input_layernorm.", ".attn_norm."},
                                           {".post_attention_layernorm.", ".ffn_norm."},
                                           {".self_attn.q_proj.", ".attn_q."},
                                           {".self_attn.k_proj.", ".attn_k."},
                                           {".self_attn.v_proj.", ".attn_v."},
                                           {".self_attn.o_proj.", ".attn_output."},
                                           {".self_attn.dense.", ".attn_output."},
                                           {".mlp.fc1.", ".ffn_up."},
                                           {".mlp.fc2.", ".ffn_down."},
                                           {".mlp.gate_proj.", ".ffn_gate."},
                                           {".mlp.up_proj.", ".ffn_up."},
                                           {".mlp.down_proj.", ".ffn_down."}});
  return s;
}

TEST_F(HfDirTest, LooksAtDirectoriesWithConfigJson) {
  EXPECT_TRUE(HfModelDir::Looks(FixtureDir("tiny-phi2")));
  EXPECT_TRUE(HfModelDir::Looks(FixtureDir("tiny-phi2") + "/"));
  EXPECT_FALSE(HfModelDir::Looks(FixtureDir("tiny-phi2") + "/config.json"));
  EXPECT_FALSE(HfModelDir::Looks(TestDataPath("models/tiny-phi2.f32.gguf")));
  EXPECT_FALSE(HfModelDir::Looks(TestDataPath("models")));
  EXPECT_FALSE(HfModelDir::Looks("/nonexistent/model"));
  EXPECT_FALSE(HfModelDir::Looks(MakeDir("noconfig", {}, false)));
  EXPECT_TRUE(HfModelDir::Looks(MakeDir("config_only", {})));
}

struct FixtureCase {
  const char* dir;
  const char* model_type;
  size_t n_tensors;
  int64_t vocab;
  int64_t ffn;
  int64_t kv_dim;  // rows of k_proj
  const char* gguf_suffix;  // the GGUF of the same model in tests/data
};

class HfFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(HfFixtureTest, LoadsWithTheReadmeShapes) {
  const FixtureCase& c = GetParam();
  auto m = HfModelDir::Open(FixtureDir(c.dir));
  ASSERT_TRUE(m.ok()) << m.status();
  const HfModelDir& d = **m;
  EXPECT_EQ(d.config().model_type, c.model_type);
  EXPECT_EQ(d.dir(), FixtureDir(c.dir));
  EXPECT_EQ(d.shards().size(), 1u);
  EXPECT_EQ(d.tensors().size(), c.n_tensors);

  auto expect_ne = [&](const std::string& name, std::vector<int64_t> ne) {
    SCOPED_TRACE(name);
    const TensorView* t = d.FindTensor(name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, DType::kF32);
    ASSERT_EQ(t->n_dims, static_cast<int>(ne.size()));
    for (size_t i = 0; i < ne.size(); ++i) EXPECT_EQ(t->ne[i], ne[i]) << i;
    auto got = d.GetTensor(name);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, t);
  };
  // HF [out, in] is ne {in, out}.
  expect_ne("model.embed_tokens.weight", {32, c.vocab});
  expect_ne("lm_head.weight", {32, c.vocab});
  expect_ne("model.layers.1.self_attn.q_proj.weight", {32, 32});
  expect_ne("model.layers.1.self_attn.k_proj.weight", {32, c.kv_dim});
  expect_ne("model.layers.0.self_attn.v_proj.weight", {32, c.kv_dim});
  if (std::string(c.model_type) == "phi") {
    expect_ne("lm_head.bias", {c.vocab});
    expect_ne("model.final_layernorm.weight", {32});
    expect_ne("model.final_layernorm.bias", {32});
    expect_ne("model.layers.0.self_attn.dense.weight", {32, 32});
    expect_ne("model.layers.0.self_attn.q_proj.bias", {32});
    expect_ne("model.layers.0.mlp.fc1.weight", {32, c.ffn});
    expect_ne("model.layers.0.mlp.fc1.bias", {c.ffn});
    expect_ne("model.layers.0.mlp.fc2.weight", {c.ffn, 32});
    EXPECT_EQ(d.FindTensor("model.norm.weight"), nullptr);
  } else {
    expect_ne("model.norm.weight", {32});
    expect_ne("model.layers.0.self_attn.o_proj.weight", {32, 32});
    expect_ne("model.layers.0.mlp.gate_proj.weight", {32, c.ffn});
    expect_ne("model.layers.0.mlp.up_proj.weight", {32, c.ffn});
    expect_ne("model.layers.0.mlp.down_proj.weight", {c.ffn, 32});
    expect_ne("model.layers.1.post_attention_layernorm.weight", {32});
    EXPECT_EQ(d.FindTensor("lm_head.bias"), nullptr);
  }
  EXPECT_EQ(d.FindTensor("model.layers.2.input_layernorm.weight"), nullptr);
  auto missing = d.GetTensor("model.layers.2.input_layernorm.weight");
  EXPECT_EQ(missing.status().code(), kInvalidModel);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("model.layers.2.input_layernorm.weight"));
}

// Row `row` of a GGUF tensor as floats: F32 as stored, Q8_0 dequantized (value = d * q).
// Returns the per-value tolerance against the original F32 data through `tolerance`.
std::vector<float> GgufRow(const TensorView& t, int64_t row, std::vector<float>* tolerance) {
  const int64_t n = t.ne[0];
  std::vector<float> out(n);
  tolerance->assign(n, 0.0f);
  if (t.type == DType::kF32) {
    std::memcpy(out.data(), t.data + row * n * 4, n * 4);
    return out;
  }
  EXPECT_EQ(t.type, DType::kQ8_0);
  const uint8_t* block = t.data + row * (n / 32) * 34;
  for (int64_t b = 0; b < n / 32; ++b, block += 34) {
    uint16_t d16;
    std::memcpy(&d16, block, 2);
    const float d = Fp16ToFloat(d16);
    for (int k = 0; k < 32; ++k) {
      out[b * 32 + k] = d * static_cast<float>(static_cast<int8_t>(block[2 + k]));
      // Rounding to the nearest step (d/2) plus the fp16 rounding of d (<= 127 d 2^-11).
      (*tolerance)[b * 32 + k] = 0.6f * std::fabs(d);
    }
  }
  return out;
}

// The GGUF files hold the same arrays: same names (README mapping), dims and values, except
// that llama-arch Q/K rows are permuted for interleaved RoPE (README:
// reshape(n_head, 2, hd/2, in).swapaxes(1, 2)). tests/data has the F32 GGUF of phi2 and
// llama2 (bytes must be equal) and only the Q8_0 one of mistral (values within a step).
TEST_P(HfFixtureTest, MatchesTheGguf) {
  const FixtureCase& c = GetParam();
  auto m = HfModelDir::Open(FixtureDir(c.dir));
  ASSERT_TRUE(m.ok()) << m.status();
  auto g = GgufFile::Open(TestDataPath(std::string("models/") + c.dir + c.gguf_suffix));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)->tensors().size(), (*m)->tensors().size());
  const HfConfig& cfg = (*m)->config();
  const bool llama_arch = std::string(c.model_type) != "phi";
  for (const TensorView* hf : (*m)->tensors()) {
    SCOPED_TRACE(hf->name);
    const TensorView* gg = (*g)->FindTensor(GgufName(hf->name));
    ASSERT_NE(gg, nullptr) << GgufName(hf->name);
    ASSERT_EQ(gg->n_dims, hf->n_dims);
    for (int i = 0; i < 4; ++i) {
      ASSERT_EQ(gg->ne[i], hf->ne[i]);
    }
    if (gg->type == DType::kF32) {
      ASSERT_EQ(gg->nbytes, hf->nbytes);
    }
    const bool is_q = hf->name.find("q_proj.weight") != std::string::npos;
    const bool is_k = hf->name.find("k_proj.weight") != std::string::npos;
    const bool permuted = llama_arch && (is_q || is_k);
    const int64_t n_head = is_q ? cfg.num_attention_heads : cfg.num_key_value_heads;
    const int64_t hd = cfg.head_dim;
    const int64_t rows = hf->ne[1] * hf->ne[2] * hf->ne[3];
    if (permuted) {
      ASSERT_EQ(rows, n_head * hd);
    }
    int64_t mismatches = 0;
    std::vector<float> tol, want(hf->ne[0]);
    for (int64_t gguf_row = 0; gguf_row < rows; ++gguf_row) {
      int64_t hf_row = gguf_row;
      if (permuted) {  // gguf row (h, i, j) holds HF row (h, j, i)
        const int64_t h = gguf_row / hd, i = (gguf_row % hd) / 2, j = gguf_row % 2;
        hf_row = h * hd + j * (hd / 2) + i;
      }
      std::vector<float> got = GgufRow(*gg, gguf_row, &tol);
      std::memcpy(want.data(), hf->data + hf_row * hf->ne[0] * 4, hf->ne[0] * 4);
      for (int64_t k = 0; k < hf->ne[0]; ++k) {
        mismatches += !(std::fabs(got[k] - want[k]) <= tol[k]);
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfFixtureTest,
                         ::testing::Values(FixtureCase{"tiny-phi2", "phi", 33, 51200, 128, 32, ".f32.gguf"},
                                           FixtureCase{"tiny-llama2", "llama", 21, 32000, 96, 32, ".f32.gguf"},
                                           FixtureCase{"tiny-mistral", "mistral", 21, 32000, 128, 16,
                                                       ".q8_0.gguf"}),
                         [](const auto& info) {
                           return absl::StrReplaceAll(info.param.dir, {{"-", "_"}});
                         });

// Splits tiny-llama2's model.safetensors into two shards plus an index, as save_pretrained
// does for big models; the directory must give the same tensors with the same bytes.
TEST_F(HfDirTest, ShardedDirectoryGivesTheSameTensors) {
  auto whole = HfModelDir::Open(FixtureDir("tiny-llama2"));
  ASSERT_TRUE(whole.ok()) << whole.status();
  std::vector<StTensor> shard[2];
  json weight_map = json::object();
  const auto tensors = (*whole)->tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorView* t = tensors[i];
    std::vector<int64_t> shape(t->ne, t->ne + t->n_dims);
    std::reverse(shape.begin(), shape.end());
    int s = i < tensors.size() / 2 ? 0 : 1;
    shard[s].push_back({t->name, "F32", shape,
                        std::string(reinterpret_cast<const char*>(t->data), t->nbytes)});
    weight_map[t->name] = s == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  std::string dir = MakeDir("sharded", {{"model-00001-of-00002.safetensors", BuildSafetensors(shard[0])},
                                        {"model-00002-of-00002.safetensors", BuildSafetensors(shard[1])},
                                        {"model.safetensors.index.json", Index(weight_map)}});
  auto sharded = HfModelDir::Open(dir);
  ASSERT_TRUE(sharded.ok()) << sharded.status();
  EXPECT_EQ((*sharded)->shards().size(), 2u);
  EXPECT_EQ((*sharded)->config().model_type, "llama");
  ASSERT_EQ((*sharded)->tensors().size(), tensors.size());
  for (const TensorView* t : tensors) {
    SCOPED_TRACE(t->name);
    const TensorView* s = (*sharded)->FindTensor(t->name);
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->data, t->data);  // a different mapping...
    for (int i = 0; i < 4; ++i) EXPECT_EQ(s->ne[i], t->ne[i]);
    ASSERT_EQ(s->nbytes, t->nbytes);
    EXPECT_EQ(std::memcmp(s->data, t->data, t->nbytes), 0);  // ...of the same bytes
  }
}

TEST_F(HfDirTest, SingleFileWinsOverIndexAndTrailingSlashIsFine) {
  std::string dir = MakeDir("both", {{"model.safetensors", OneTensor("a")},
                                     {"model.safetensors.index.json", "not even json"}});
  auto m = HfModelDir::Open(dir + "/");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->dir(), dir);
  EXPECT_NE((*m)->FindTensor("a"), nullptr);
}

TEST_F(HfDirTest, TensorsOutsideTheIndexAreStillAvailable) {
  std::string shard = BuildSafetensors({{"a", "F32", {1}, FloatBytes({1})}, {"extra", "F32", {1}, FloatBytes({2})}});
  std::string dir = MakeDir("extra", {{"s1.safetensors", shard}, {"model.safetensors.index.json", Index({{"a", "s1.safetensors"}})}});
  auto m = HfModelDir::Open(dir);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE((*m)->FindTensor("extra"), nullptr);
}

TEST_F(HfDirTest, UnsupportedDtypeIsReportedWhenTheTensorIsUsed) {
  std::string shard = BuildSafetensors({{"model.embed_tokens.weight", "F32", {2, 1}, FloatBytes({1, 2})},
                                        {"model.layers.0.mlp.up_proj.weight", "I8", {2, 2}, "\1\2\3\4"}});
  std::string dir = MakeDir("int8", {{"model.safetensors", shard}});
  auto m = HfModelDir::Open(dir);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->tensors().size(), 1u);
  EXPECT_EQ((*m)->FindTensor("model.layers.0.mlp.up_proj.weight"), nullptr);
  auto t = (*m)->GetTensor("model.layers.0.mlp.up_proj.weight");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), kUnsupported);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr(dir + "/model.safetensors"));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("model.layers.0.mlp.up_proj.weight"));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("I8"));
}

// ---- hostile directories ----

TEST_F(HfDirTest, MissingPieces) {
  ExpectError(HfModelDir::Open((root_ / "nonexistent").string()), kIo, {"nonexistent"});
  ExpectError(HfModelDir::Open(FixtureDir("tiny-phi2") + "/config.json"), kIo, {"not a directory"});
  std::string no_config = MakeDir("no_config", {{"model.safetensors", OneTensor("a")}}, false);
  ExpectError(HfModelDir::Open(no_config), kIo, {no_config + "/config.json"});
  std::string no_weights = MakeDir("no_weights", {});
  ExpectError(HfModelDir::Open(no_weights), kIo, {no_weights, "model.safetensors"});
  std::string pickle = MakeDir("pickle", {{"pytorch_model.bin", "PK"}});
  ExpectError(HfModelDir::Open(pickle), kUnsupported, {pickle, "pytorch_model.bin"});
}

TEST_F(HfDirTest, BadConfig) {
  std::string dir = MakeDir("gpt2", {{"model.safetensors", OneTensor("a")}});
  WriteFile(fs::path(dir) / "config.json", R"({"model_type": "gpt2", "n_embd": 768})");
  ExpectError(HfModelDir::Open(dir), kUnsupported, {dir + "/config.json", "gpt2"});
  WriteFile(fs::path(dir) / "config.json", R"({"model_type": "llama"})");
  ExpectError(HfModelDir::Open(dir), kInvalidModel, {dir + "/config.json", "hidden_size"});
  WriteFile(fs::path(dir) / "config.json", "{");
  ExpectError(HfModelDir::Open(dir), kInvalidModel, {dir + "/config.json"});
}

TEST_F(HfDirTest, BrokenShard) {
  std::string good = OneTensor("a");
  std::string dir = MakeDir("truncated", {{"model.safetensors", good.substr(0, good.size() - 1)}});
  ExpectError(HfModelDir::Open(dir), kInvalidModel, {dir + "/model.safetensors", "'a'"});
}

TEST_F(HfDirTest, IndexPointingToAMissingShard) {
  std::string dir = MakeDir("missing_shard", {{"s1.safetensors", OneTensor("a")},
                                              {"model.safetensors.index.json",
                                               Index({{"a", "s1.safetensors"}, {"b", "s2.safetensors"}})}});
  ExpectError(HfModelDir::Open(dir), kIo, {dir + "/s2.safetensors"});
}

TEST_F(HfDirTest, IndexPointingOutsideTheDirectory) {
  // A real file one level up: it must not be opened.
  WriteFile(root_ / "outside.safetensors", OneTensor("a"));
  for (const char* shard : {"../outside.safetensors", "/etc/passwd", "sub/x.safetensors", "..", ".", "",
                            "..\\outside.safetensors"}) {
    SCOPED_TRACE(shard);
    std::string dir = MakeDir("escape", {{"model.safetensors.index.json", Index({{"a", shard}})}});
    ExpectError(HfModelDir::Open(dir), kInvalidModel, {dir + "/model.safetensors.index.json", "'a'",
                                                       std::string("\"") + shard + "\""});
  }
  std::string nul_name = json{{"weight_map", {{"a", std::string("x\0y", 3)}}}}.dump();
  // (Not a directory called "nul": that is a reserved device name on Windows.)
  std::string dir = MakeDir("nul-byte", {{"model.safetensors.index.json", nul_name}});
  ExpectError(HfModelDir::Open(dir), kInvalidModel, {"'a'"});
}

TEST_F(HfDirTest, IndexNamesATensorItsShardLacks) {
  std::string dir = MakeDir("lacks", {{"s1.safetensors", OneTensor("a")},
                                      {"model.safetensors.index.json",
                                       Index({{"a", "s1.safetensors"}, {"ghost", "s1.safetensors"}})}});
  ExpectError(HfModelDir::Open(dir), kInvalidModel, {"'ghost'", "s1.safetensors"});
  // Listed in s1 but stored in s2.
  std::string moved = MakeDir("moved", {{"s1.safetensors", OneTensor("a")},
                                        {"s2.safetensors", OneTensor("b")},
                                        {"model.safetensors.index.json",
                                         Index({{"a", "s1.safetensors"}, {"b", "s1.safetensors"}})}});
  // s2 is not listed, so it is not opened: b is simply missing from s1.
  ExpectError(HfModelDir::Open(moved), kInvalidModel, {"'b'", "s1.safetensors"});
  std::string moved2 = MakeDir("moved2", {{"s1.safetensors", OneTensor("a")},
                                          {"s2.safetensors", OneTensor("b")},
                                          {"model.safetensors.index.json",
                                           Index({{"a", "s2.safetensors"}, {"b", "s2.safetensors"}})}});
  ExpectError(HfModelDir::Open(moved2), kInvalidModel, {"'a'", "s2.safetensors"});
}

TEST_F(HfDirTest, TensorInTwoShards) {
  std::string dir = MakeDir("twice", {{"s1.safetensors", OneTensor("a", 1)},
                                      {"s2.safetensors", BuildSafetensors({{"a", "F32", {1}, FloatBytes({2})},
                                                                           {"b", "F32", {1}, FloatBytes({3})}})},
                                      {"model.safetensors.index.json",
                                       Index({{"a", "s1.safetensors"}, {"b", "s2.safetensors"}})}});
  ExpectError(HfModelDir::Open(dir), kInvalidModel, {"'a'", "two shards", "s1.safetensors", "s2.safetensors"});
}

TEST_F(HfDirTest, MalformedIndex) {
  struct Case {
    std::string index;
    const char* expect;
  };
  for (const Case& c : {Case{"{", "JSON"}, Case{"[]", "object"}, Case{"{}", "weight_map"},
                        Case{R"({"weight_map": []})", "weight_map"},
                        Case{R"({"weight_map": {}})", "empty"},
                        Case{R"({"weight_map": {"a": 1}})", "'a'"},
                        Case{R"({"weight_map": {"a": null}})", "'a'"}}) {
    SCOPED_TRACE(c.index);
    std::string dir = MakeDir("bad_index", {{"model.safetensors.index.json", c.index}});
    ExpectError(HfModelDir::Open(dir), kInvalidModel, {dir + "/model.safetensors.index.json", c.expect});
  }
}

}  // namespace
}  // namespace ember
