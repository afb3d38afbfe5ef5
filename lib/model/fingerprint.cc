#include "lib/model/fingerprint.h"

#include <cstring>
#include <vector>

namespace ember {
namespace {

class Fnv1a64 {
 public:
  void Bytes(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ull;
  }
  void Int(int64_t v) { Bytes(&v, sizeof v); }  // little-endian host
  void Float(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    Int(bits);
  }
  void Floats(const std::vector<float>& v) {
    Int(static_cast<int64_t>(v.size()));
    Bytes(v.data(), v.size() * sizeof(float));
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

void HashMatrix(const WeightMatrix& w, std::vector<float>& row, Fnv1a64& h) {
  h.Int(static_cast<int64_t>(w.type));
  h.Int(static_cast<int64_t>(w.layout));
  h.Int(w.rows);
  h.Int(w.cols);
  if (w.rows <= 0 || w.cols <= 0 || w.data == nullptr) return;
  row.resize(static_cast<size_t>(w.cols));
  for (const int64_t r : {int64_t{0}, w.rows / 2, w.rows - 1}) {
    DequantizeRow(w, r, row.data());
    h.Floats(row);
  }
}

}  // namespace

uint64_t ComputeModelFingerprint(const ModelConfig& c, const ModelWeights& w) {
  Fnv1a64 h;
  for (const int64_t v : {int64_t{static_cast<int>(c.arch)}, int64_t{c.n_vocab}, int64_t{c.n_embd},
                          int64_t{c.n_layer}, int64_t{c.n_head}, int64_t{c.n_head_kv},
                          int64_t{c.head_dim}, int64_t{c.n_ff}, int64_t{c.n_rot},
                          int64_t{c.sliding_window}}) {
    h.Int(v);
  }
  h.Float(c.rope_theta);
  h.Float(c.norm_eps);
  std::vector<float> row;
  HashMatrix(w.token_embd, row, h);
  for (const LayerWeights& l : w.layers) {
    for (const NormWeights* n : {&l.attn_norm, &l.ffn_norm}) {
      h.Floats(n->weight);
      h.Floats(n->bias);
    }
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      HashMatrix(*m, row, h);
    }
    for (const std::vector<float>* b : {&l.bq, &l.bk, &l.bv, &l.bo, &l.b_up, &l.b_down}) h.Floats(*b);
  }
  h.Floats(w.output_norm.weight);
  h.Floats(w.output_norm.bias);
  HashMatrix(w.output, row, h);
  h.Floats(w.output_bias);
  return h.value();
}

}  // namespace ember
