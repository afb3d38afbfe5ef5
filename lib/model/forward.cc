#include "lib/model/forward.h"

#include <new>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/model/blocks.h"
#include "lib/model/llama.h"
#include "lib/model/phi2.h"
#include "lib/model/weights.h"

namespace ember {

absl::Status ForwardBuffers::Reserve(const ModelConfig& c, int64_t n, bool all_logits) {
  const int64_t q_dim = int64_t{c.n_head} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_head_kv} * c.head_dim;
  auto grow = [](std::vector<float>& v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size) v.resize(static_cast<size_t>(size));
  };
  try {
    grow(x, n * c.n_embd);
    grow(xb, n * c.n_embd);
    grow(xb2, n * c.n_embd);
    grow(q, n * q_dim);
    grow(k, n * kv_dim);
    grow(v, n * kv_dim);
    grow(att, n * q_dim);
    grow(hb, n * c.n_ff);
    grow(hb2, n * c.n_ff);
    grow(rope_cos, n * (c.n_rot / 2));
    grow(rope_sin, n * (c.n_rot / 2));
    grow(logits, (all_logits ? n : 1) * c.n_vocab);
  } catch (const std::bad_alloc&) {
    return OutOfMemoryError(absl::StrCat("cannot allocate activations for a batch of ", n,
                                         " tokens"));
  }
  return absl::OkStatus();
}

absl::Status Forward(const Model& model, absl::Span<const int32_t> tokens, int64_t pos,
                     const KvRows& kv, bool all_logits, const std::atomic<bool>* cancel,
                     Parallel& par, ForwardBuffers* buf) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return absl::InvalidArgumentError("Forward: no tokens");
  EMBER_RETURN_IF_ERROR(buf->Reserve(c, n, all_logits));

  EmbedTokens(w.token_embd, tokens, buf->x.data());
  FillRopeTables(c, pos, n, buf);
  for (int l = 0; l < c.n_layer; ++l) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      return CancelledError(absl::StrCat("cancelled before layer ", l));
    }
    if (c.arch == Architecture::kPhi2) {
      Phi2Layer(c, w.layers[l], l, n, pos, kv, par, buf);
    } else {
      LlamaLayer(c, w.layers[l], l, n, pos, kv, par, buf);
    }
  }
  OutputLogits(c, w, n, all_logits, par, buf);
  return absl::OkStatus();
}

}  // namespace ember
