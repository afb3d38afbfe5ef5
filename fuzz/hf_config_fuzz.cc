// libFuzzer target: arbitrary bytes as config.json. Parsing must return a status, never
// crash or let a JSON exception escape, and what it accepts must satisfy the range checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/format/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = ember::ParseHfConfig(text, "fuzz/config.json");
  if (!c.ok()) return 0;
  if (c->hidden_size <= 0 || c->num_hidden_layers <= 0 || c->num_attention_heads <= 0 ||
      c->num_key_value_heads <= 0 || c->num_attention_heads % c->num_key_value_heads != 0 ||
      c->head_dim <= 0 || c->rotary_dim <= 0 || c->rotary_dim > c->head_dim || c->rotary_dim % 2 != 0 ||
      c->vocab_size <= 0 || c->intermediate_size <= 0 || c->max_position_embeddings <= 0 ||
      !(c->norm_eps > 0) || !(c->rope_theta > 0) || c->sliding_window < 0) {
    std::abort();
  }
  if (c->bos_token_id && (*c->bos_token_id < 0 || *c->bos_token_id >= c->vocab_size)) std::abort();
  if (c->eos_token_id && (*c->eos_token_id < 0 || *c->eos_token_id >= c->vocab_size)) std::abort();
  return 0;
}
