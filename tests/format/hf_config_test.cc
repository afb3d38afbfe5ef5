#include "lib/format/hf_config.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace ember {
namespace {

using ::ember::testing::ReadFileBytes;
using ::ember::testing::TestDataPath;
using ::testing::HasSubstr;
using nlohmann::json;

constexpr absl::StatusCode kInvalidModel = absl::StatusCode::kDataLoss;
constexpr absl::StatusCode kUnsupported = absl::StatusCode::kUnimplemented;

absl::StatusOr<HfConfig> Parse(const json& j) { return ParseHfConfig(j.dump(), "cfg.json"); }

void ExpectError(const json& j, absl::StatusCode code, const std::string& part) {
  auto c = Parse(j);
  ASSERT_FALSE(c.ok()) << j.dump();
  EXPECT_EQ(c.status().code(), code) << c.status();
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("cfg.json"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(part)) << j.dump();
}

// The smallest llama config the parser accepts.
json MinimalLlama() {
  return {{"model_type", "llama"},        {"hidden_size", 64},        {"num_hidden_layers", 2},
          {"num_attention_heads", 4},     {"intermediate_size", 128}, {"vocab_size", 100},
          {"max_position_embeddings", 256}};
}

TEST(HfConfigTest, TinyPhi2Fixture) {
  std::string path = TestDataPath("models/tiny-phi2/config.json");
  auto c = ParseHfConfig(ReadFileBytes(path), path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_type, "phi");
  EXPECT_EQ(c->architecture, "PhiForCausalLM");
  EXPECT_EQ(c->hidden_size, 32);
  EXPECT_EQ(c->num_hidden_layers, 2);
  EXPECT_EQ(c->num_attention_heads, 2);
  EXPECT_EQ(c->num_key_value_heads, 2);
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->intermediate_size, 128);
  EXPECT_EQ(c->vocab_size, 51200);
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c->norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c->partial_rotary_factor, 0.4);
  EXPECT_EQ(c->rotary_dim, 6);  // int(16 * 0.4), as the README says
  EXPECT_EQ(c->sliding_window, 0);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->hidden_act, "gelu_new");
  EXPECT_EQ(c->bos_token_id, 50256);
  EXPECT_EQ(c->eos_token_id, 50256);
  EXPECT_EQ(c->torch_dtype, "float32");
  EXPECT_TRUE(c->attention_bias);
  EXPECT_TRUE(c->mlp_bias);
}

TEST(HfConfigTest, TinyLlama2Fixture) {
  std::string path = TestDataPath("models/tiny-llama2/config.json");
  auto c = ParseHfConfig(ReadFileBytes(path), path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_type, "llama");
  EXPECT_EQ(c->architecture, "LlamaForCausalLM");
  EXPECT_EQ(c->hidden_size, 32);
  EXPECT_EQ(c->num_attention_heads, 2);
  EXPECT_EQ(c->num_key_value_heads, 2);
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->rotary_dim, 16);
  EXPECT_EQ(c->intermediate_size, 96);
  EXPECT_EQ(c->vocab_size, 32000);
  EXPECT_EQ(c->max_position_embeddings, 4096);
  EXPECT_DOUBLE_EQ(c->norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->partial_rotary_factor, 1.0);
  EXPECT_EQ(c->sliding_window, 0);
  EXPECT_EQ(c->hidden_act, "silu");
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_id, 2);
  EXPECT_FALSE(c->attention_bias);
  EXPECT_FALSE(c->mlp_bias);
}

TEST(HfConfigTest, TinyMistralFixture) {
  std::string path = TestDataPath("models/tiny-mistral/config.json");
  auto c = ParseHfConfig(ReadFileBytes(path), path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_type, "mistral");
  EXPECT_EQ(c->architecture, "MistralForCausalLM");
  EXPECT_EQ(c->num_attention_heads, 4);
  EXPECT_EQ(c->num_key_value_heads, 2);
  EXPECT_EQ(c->head_dim, 8);
  EXPECT_EQ(c->rotary_dim, 8);
  EXPECT_EQ(c->intermediate_size, 128);
  EXPECT_EQ(c->max_position_embeddings, 32768);
  EXPECT_EQ(c->sliding_window, 16);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_id, 2);
}

// The published configs of the three full-size models (as on the Hugging Face hub).
TEST(HfConfigTest, RealPhi2Config) {
  const char* text = R"({
  "_name_or_path": "microsoft/phi-2", "architectures": ["PhiForCausalLM"],
  "attention_dropout": 0.0, "bos_token_id": 50256, "embd_pdrop": 0.0, "eos_token_id": 50256,
  "hidden_act": "gelu_new", "hidden_size": 2560, "initializer_range": 0.02,
  "intermediate_size": 10240, "layer_norm_eps": 1e-05, "max_position_embeddings": 2048,
  "model_type": "phi", "num_attention_heads": 32, "num_hidden_layers": 32,
  "num_key_value_heads": 32, "partial_rotary_factor": 0.4, "qk_layernorm": false,
  "resid_pdrop": 0.1, "rope_scaling": null, "rope_theta": 10000.0, "tie_word_embeddings": false,
  "torch_dtype": "float16", "transformers_version": "4.37.0", "use_cache": true, "vocab_size": 51200})";
  auto c = ParseHfConfig(text, "phi-2/config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim, 80);
  EXPECT_EQ(c->rotary_dim, 32);
  EXPECT_EQ(c->num_hidden_layers, 32);
  EXPECT_EQ(c->torch_dtype, "float16");
}

TEST(HfConfigTest, RealLlama2_7bConfig) {
  const char* text = R"({
  "_name_or_path": "meta-llama/Llama-2-7b-hf", "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096,
  "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
  "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null,
  "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.31.0.dev0",
  "use_cache": true, "vocab_size": 32000})";
  auto c = ParseHfConfig(text, "llama-2-7b/config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->rotary_dim, 128);
  EXPECT_EQ(c->intermediate_size, 11008);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);  // absent: the default
}

TEST(HfConfigTest, RealMistral7bConfigs) {
  const char* v01 = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
  "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0",
  "use_cache": true, "vocab_size": 32000})";
  auto c = ParseHfConfig(v01, "mistral-7b-v0.1/config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_key_value_heads, 8);
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->sliding_window, 4096);
  EXPECT_EQ(c->torch_dtype, "bfloat16");

  // v0.2 turned the window off with null and raised rope_theta.
  json v02 = json::parse(v01);
  v02["sliding_window"] = nullptr;
  v02["rope_theta"] = 1000000.0;
  auto c2 = ParseHfConfig(v02.dump(), "mistral-7b-v0.2/config.json");
  ASSERT_TRUE(c2.ok()) << c2.status();
  EXPECT_EQ(c2->sliding_window, 0);
  EXPECT_DOUBLE_EQ(c2->rope_theta, 1e6);
}

TEST(HfConfigTest, DefaultsFollowTransformers) {
  auto llama = Parse(MinimalLlama());
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_EQ(llama->architecture, "");
  EXPECT_EQ(llama->num_key_value_heads, 4);
  EXPECT_EQ(llama->head_dim, 16);
  EXPECT_EQ(llama->rotary_dim, 16);
  EXPECT_DOUBLE_EQ(llama->norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(llama->rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(llama->partial_rotary_factor, 1.0);
  EXPECT_EQ(llama->sliding_window, 0);
  EXPECT_FALSE(llama->tie_word_embeddings);
  EXPECT_EQ(llama->hidden_act, "silu");
  EXPECT_FALSE(llama->bos_token_id.has_value());
  EXPECT_FALSE(llama->eos_token_id.has_value());
  EXPECT_EQ(llama->torch_dtype, "");

  json phi = MinimalLlama();
  phi["model_type"] = "phi";
  auto p = Parse(phi);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_DOUBLE_EQ(p->partial_rotary_factor, 0.5);
  EXPECT_EQ(p->rotary_dim, 8);
  EXPECT_DOUBLE_EQ(p->norm_eps, 1e-5);
  EXPECT_EQ(p->hidden_act, "gelu_new");

  json mistral = MinimalLlama();
  mistral["model_type"] = "mistral";
  auto m = Parse(mistral);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->sliding_window, 4096);

  // Null reads as absent.
  json nulls = MinimalLlama();
  nulls["num_key_value_heads"] = nullptr;
  nulls["head_dim"] = nullptr;
  nulls["bos_token_id"] = nullptr;
  auto n = Parse(nulls);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->num_key_value_heads, 4);
  EXPECT_EQ(n->head_dim, 16);
  EXPECT_FALSE(n->bos_token_id.has_value());
}

TEST(HfConfigTest, ExplicitHeadDimMayDifferFromHiddenOverHeads) {
  json j = MinimalLlama();
  j["head_dim"] = 32;  // 4 heads x 32 = 128 != hidden 64 (allowed by LlamaConfig)
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim, 32);
  // Phi always derives it.
  j["model_type"] = "phi";
  auto p = Parse(j);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->head_dim, 16);
}

TEST(HfConfigTest, TokenIdsMayBeListsOrNull) {
  json j = MinimalLlama();
  j["bos_token_id"] = json::array({5, 6});
  j["eos_token_id"] = json::array();
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->bos_token_id, 5);
  EXPECT_FALSE(c->eos_token_id.has_value());
  j["eos_token_id"] = {99, 2};
  c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->eos_token_id, 99);
}

TEST(HfConfigTest, DtypeKeyOfNewerTransformers) {
  json j = MinimalLlama();
  j["dtype"] = "bfloat16";
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->torch_dtype, "bfloat16");
}

TEST(HfConfigTest, LlamaBiasFlags) {
  json j = MinimalLlama();
  j["attention_bias"] = true;
  j["mlp_bias"] = true;
  auto c = Parse(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->attention_bias);
  EXPECT_TRUE(c->mlp_bias);
}

// ---- hostile / unsupported input ----

TEST(HfConfigHostileTest, UnknownModelTypeIsUnsupported) {
  for (const char* type : {"gpt2", "qwen2", "phi-msft", "phi3", "Llama", ""}) {
    SCOPED_TRACE(type);
    json j = MinimalLlama();
    j["model_type"] = type;
    ExpectError(j, kUnsupported, std::string("\"") + type + "\"");
  }
}

TEST(HfConfigHostileTest, RopeScalingIsUnsupported) {
  json j = MinimalLlama();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  ExpectError(j, kUnsupported, "rope_scaling");
  j["rope_scaling"] = nullptr;
  EXPECT_TRUE(Parse(j).ok());
}

TEST(HfConfigHostileTest, OtherUnsupportedFeatures) {
  json phi = MinimalLlama();
  phi["model_type"] = "phi";
  phi["qk_layernorm"] = true;
  ExpectError(phi, kUnsupported, "qk_layernorm");
  json llama = MinimalLlama();
  llama["partial_rotary_factor"] = 0.5;
  ExpectError(llama, kUnsupported, "partial_rotary_factor");
}

TEST(HfConfigHostileTest, MissingRequiredFields) {
  for (const char* key : {"model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
                          "intermediate_size", "vocab_size", "max_position_embeddings"}) {
    SCOPED_TRACE(key);
    json j = MinimalLlama();
    j.erase(key);
    ExpectError(j, kInvalidModel, std::string("'") + key + "': missing");
    j[key] = nullptr;  // null is as good as absent
    ExpectError(j, kInvalidModel, std::string("'") + key + "': missing");
  }
}

TEST(HfConfigHostileTest, WrongFieldTypes) {
  struct Case {
    const char* key;
    json value;
  };
  std::vector<Case> cases = {
      {"model_type", 3},          {"hidden_size", "64"},           {"hidden_size", 64.0},
      {"hidden_size", 64.5},      {"hidden_size", true},           {"num_hidden_layers", json::array({2})},
      {"vocab_size", json::object()}, {"rms_norm_eps", "1e-5"},    {"rope_theta", true},
      {"tie_word_embeddings", 1}, {"hidden_act", 5},               {"bos_token_id", "1"},
      {"eos_token_id", json::array({"2"})}, {"eos_token_id", 1.5}, {"torch_dtype", 32},
      {"architectures", "LlamaForCausalLM"}, {"architectures", json::array()},
      {"architectures", json::array({1})}, {"head_dim", 16.0},     {"attention_bias", "no"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.key) + " = " + c.value.dump());
    json j = MinimalLlama();
    j[c.key] = c.value;
    ExpectError(j, kInvalidModel, c.key);
  }
}

TEST(HfConfigHostileTest, OutOfRangeValues) {
  struct Case {
    const char* key;
    json value;
    const char* field;  // the field the message must name
  };
  std::vector<Case> cases = {
      {"hidden_size", 0, "hidden_size"},
      {"hidden_size", -64, "hidden_size"},
      {"hidden_size", int64_t{1} << 40, "hidden_size"},
      {"hidden_size", ~uint64_t{0}, "hidden_size"},
      {"hidden_size", 66, "num_attention_heads"},  // 4 heads do not divide 66
      {"num_hidden_layers", 0, "num_hidden_layers"},
      {"num_hidden_layers", 100000, "num_hidden_layers"},
      {"num_attention_heads", 0, "num_attention_heads"},
      {"num_key_value_heads", 0, "num_key_value_heads"},
      {"num_key_value_heads", 3, "num_key_value_heads"},  // does not divide 4
      {"num_key_value_heads", 8, "num_key_value_heads"},  // more than the heads
      {"head_dim", 0, "head_dim"},
      {"head_dim", 15, "head_dim"},  // odd: RoPE needs pairs
      {"head_dim", 1 << 20, "head_dim"},
      {"intermediate_size", 0, "intermediate_size"},
      {"vocab_size", 0, "vocab_size"},
      {"vocab_size", int64_t{1} << 40, "vocab_size"},
      {"max_position_embeddings", 0, "max_position_embeddings"},
      {"max_position_embeddings", int64_t{1} << 40, "max_position_embeddings"},
      {"rms_norm_eps", 0.0, "rms_norm_eps"},
      {"rms_norm_eps", -1e-5, "rms_norm_eps"},
      {"rms_norm_eps", 2.0, "rms_norm_eps"},
      {"rope_theta", 0.0, "rope_theta"},
      {"rope_theta", -10000.0, "rope_theta"},
      {"rope_theta", 1e300, "rope_theta"},
      {"bos_token_id", -1, "bos_token_id"},
      {"bos_token_id", 100, "bos_token_id"},  // vocab is 100
      {"eos_token_id", json::array({100000}), "eos_token_id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.key) + " = " + c.value.dump());
    json j = MinimalLlama();
    j[c.key] = c.value;
    ExpectError(j, kInvalidModel, c.field);
  }
}

TEST(HfConfigHostileTest, PhiRotaryFactorRange) {
  for (double factor : {0.0, -0.4, 1.5, 0.1 /* 16 * 0.1 -> 1 dim */, 0.2 /* 3 dims: odd */}) {
    SCOPED_TRACE(factor);
    json j = MinimalLlama();
    j["model_type"] = "phi";
    j["partial_rotary_factor"] = factor;
    ExpectError(j, kInvalidModel, "partial_rotary_factor");
  }
}

TEST(HfConfigHostileTest, MistralSlidingWindowRange) {
  json j = MinimalLlama();
  j["model_type"] = "mistral";
  j["sliding_window"] = -1;
  ExpectError(j, kInvalidModel, "sliding_window");
  j["sliding_window"] = "16";
  ExpectError(j, kInvalidModel, "sliding_window");
  j["sliding_window"] = int64_t{1} << 40;
  ExpectError(j, kInvalidModel, "sliding_window");
}

TEST(HfConfigHostileTest, NotAJsonObject) {
  for (const char* text : {"", "{", "[1, 2]", "42", "null", "{\"model_type\": \"llama\",}", "{\"a\":1}\x01",
                           "{\"model_type\": \"\xff\"}"}) {
    SCOPED_TRACE(text);
    auto c = ParseHfConfig(text, "cfg.json");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), kInvalidModel) << c.status();
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("cfg.json"));
  }
  auto nul = ParseHfConfig(std::string_view("{}\0{", 4), "cfg.json");
  EXPECT_EQ(nul.status().code(), kInvalidModel);
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto d = ParseHfConfig(deep, "cfg.json");
  EXPECT_EQ(d.status().code(), kInvalidModel);
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("nests"));
}

}  // namespace
}  // namespace ember
