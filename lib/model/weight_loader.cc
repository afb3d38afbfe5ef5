#include "lib/model/weight_loader.h"

#include <algorithm>
#include <new>
#include <string>
#include <thread>
#include <vector>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/row_panels.h"
#include "lib/base/errors.h"
#include "lib/base/platform.h"
#include "lib/model/hf_names.h"
#include "lib/model/qk_permute.h"
#include "lib/model/weight_format.h"

namespace ember {
namespace {

std::string Dims(const int64_t* ne, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, i ? ", " : "", ne[i]);
  return s + "]";
}

// Rows [begin, begin + n) of a matrix, as a view.
WeightMatrix RowSlice(const WeightMatrix& m, int64_t begin, int64_t n) {
  WeightMatrix s = m;
  s.rows = n;
  s.data = static_cast<const uint8_t*>(m.data) + begin * m.row_bytes;
  return s;
}

class WeightLoader {
 public:
  WeightLoader(const ModelConfig& config, WeightFormat format, ModelWeights* w)
      : c_(config), format_(format), w_(w), row_panels_(RowPanelsPreferred()) {
    source_ = w->gguf ? w->gguf->path() : w->hf_dir->dir();
  }

  absl::Status Run() {
    const int64_t n_embd = c_.n_embd, n_vocab = c_.n_vocab;
    EMBER_ASSIGN_OR_RETURN(w_->token_embd, Matrix("token_embd.weight", n_vocab, n_embd));
    w_->layers.resize(c_.n_layer);
    for (int l = 0; l < c_.n_layer; ++l) {
      EMBER_RETURN_IF_ERROR(c_.arch == Architecture::kPhi2 ? LoadPhi2Layer(l, &w_->layers[l])
                                                          : LoadLlamaLayer(l, &w_->layers[l]));
    }
    EMBER_ASSIGN_OR_RETURN(w_->output_norm.weight, Vector("output_norm.weight", n_embd));
    if (c_.arch == Architecture::kPhi2) {
      EMBER_ASSIGN_OR_RETURN(w_->output_norm.bias, Vector("output_norm.bias", n_embd));
      // transformers' PhiForCausalLM always has lm_head.bias; a GGUF may leave it out.
      if (w_->hf_dir || Find("output.bias") != nullptr) {
        EMBER_ASSIGN_OR_RETURN(w_->output_bias, Vector("output.bias", n_vocab));
      }
    }
    // Only a model that declares tied embeddings (or a GGUF without output.weight, by that
    // format's convention) reuses the embedding: substituting it for a missing output
    // matrix would silently produce wrong text.
    const bool tied = c_.output_weights == OutputWeights::kTied ||
                      (c_.output_weights == OutputWeights::kOwnOrTied && Find("output.weight") == nullptr);
    if (tied) {
      w_->output = w_->token_embd;
    } else {
      absl::StatusOr<WeightMatrix> output = Matrix("output.weight", n_vocab, n_embd);
      if (absl::IsDataLoss(output.status()) && Find("output.weight") == nullptr) {
        return Error("output.weight",
                     "is missing, and the configuration does not tie the output to the embedding "
                     "(tie_word_embeddings is false)");
      }
      EMBER_RETURN_IF_ERROR(output.status());
      w_->output = *output;
    }
    return absl::OkStatus();
  }

 private:
  const TensorView* Find(std::string_view gguf_name) const {
    if (w_->gguf) return w_->gguf->FindTensor(gguf_name);
    return w_->hf_dir->FindTensor(HfTensorName(c_.arch, gguf_name));
  }
  // The tensor's name as the file spells it, for messages.
  std::string FileName(std::string_view gguf_name) const {
    return w_->gguf ? std::string(gguf_name) : HfTensorName(c_.arch, gguf_name);
  }
  absl::Status Error(std::string_view gguf_name, absl::string_view what) const {
    return InvalidModelError(
        absl::StrCat(source_, ": tensor '", FileName(gguf_name), "' ", what));
  }

  absl::StatusOr<const TensorView*> Get(std::string_view name) const {
    const TensorView* t = Find(name);
    if (t == nullptr && w_->hf_dir) {
      // The directory tells a tensor it skipped for its dtype from a missing one.
      EMBER_ASSIGN_OR_RETURN(t, w_->hf_dir->GetTensor(FileName(name)));
    }
    if (t == nullptr) return Error(name, "is missing");
    const DTypeTraits* traits = GetDTypeTraits(static_cast<uint32_t>(t->type));
    if (traits == nullptr || !traits->supported) {
      const std::string type_name =
          traits ? std::string(traits->name) : absl::StrCat("#", static_cast<uint32_t>(t->type));
      return UnsupportedError(absl::StrCat(source_, ": tensor '", FileName(name),
                                           "' has storage type ", type_name,
                                           ", which ember cannot compute with"));
    }
    return t;
  }

  // A rows x cols matrix exactly as stored (GGUF dims {cols, rows}).
  absl::StatusOr<WeightMatrix> StoredMatrix(std::string_view name, int64_t rows, int64_t cols) {
    EMBER_ASSIGN_OR_RETURN(const TensorView* t, Get(name));
    const int64_t want[2] = {cols, rows};
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1) {
      return Error(name, absl::StrCat("has dims ", Dims(t->ne, std::max(t->n_dims, 2)),
                                      " (innermost first), expected ", Dims(want, 2)));
    }
    WeightMatrix m{t->type, rows, cols, t->data, RowBytes(t->type, cols)};
    if (m.row_bytes < 0 || static_cast<uint64_t>(m.row_bytes * rows) != t->nbytes) {
      return Error(name, absl::StrCat("holds ", t->nbytes, " bytes, which does not match ",
                                      rows, " rows of ", cols, " ",
                                      AV(Traits(t->type).name), " values"));
    }
    return m;
  }

  // A matrix the forward pass multiplies with, in the layout the kernels read fastest.
  absl::StatusOr<WeightMatrix> Matrix(std::string_view name, int64_t rows, int64_t cols) {
    EMBER_ASSIGN_OR_RETURN(WeightMatrix m, StoredMatrix(name, rows, cols));
    EMBER_ASSIGN_OR_RETURN(m, ApplyWeightFormat(m, format_, FileName(name), &w_->owned));
    return ForKernels(m, name);
  }

  // Quantized matrices (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) move into the row-panel layout
  // (kernels/row_panels.h) when the active kernels prefer it. The copy replaces the source:
  // its file pages are released (or its load-time buffer freed), so resident memory stays
  // at about one copy.
  absl::StatusOr<WeightMatrix> ForKernels(const WeightMatrix& m, std::string_view name) {
    if (!row_panels_ || m.layout != WeightLayout::kRows || !RowPanelsSupported(m.type)) return m;
    const size_t bytes = static_cast<size_t>(RowPanelsBytes(m.type, m.rows, m.cols));
    std::unique_ptr<AnonymousMemory> buf = AnonymousMemory::Allocate(bytes);
    if (buf == nullptr) {
      return OutOfMemoryError(absl::StrCat(source_, ": cannot allocate ", bytes, " bytes for tensor '",
                                           FileName(name), "'"));
    }
    auto owner = std::find_if(w_->owned.begin(), w_->owned.end(),
                              [&](const std::unique_ptr<uint8_t[]>& p) { return p.get() == m.data; });
    const GgufFile* file = owner == w_->owned.end() ? w_->gguf.get() : nullptr;
    PackInParallel(m, file, buf->data());
    if (owner != w_->owned.end()) owner->reset();
    WeightMatrix packed = m;
    packed.data = buf->data();
    packed.layout = WeightLayout::kRowPanels16;
    w_->packed.push_back(std::move(buf));
    return packed;
  }

  // Q or K projection: from an HF directory the rows of each head are reordered from
  // rotate-half pairing into GGUF's interleaved pairing (Llama/Mistral only).
  absl::StatusOr<WeightMatrix> QkMatrix(std::string_view name, int64_t n_heads) {
    EMBER_ASSIGN_OR_RETURN(WeightMatrix m, StoredMatrix(name, n_heads * c_.head_dim, c_.n_embd));
    if (w_->hf_dir && c_.arch != Architecture::kPhi2) {
      const size_t bytes = static_cast<size_t>(m.rows * m.row_bytes);
      std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[bytes]);
      if (buf == nullptr) {
        return OutOfMemoryError(absl::StrCat(source_, ": cannot allocate ", bytes,
                                             " bytes for tensor '", FileName(name), "'"));
      }
      PermuteHfRowsToGguf(m, c_.head_dim, buf.get());
      m.data = buf.get();
      w_->owned.push_back(std::move(buf));
    }
    EMBER_ASSIGN_OR_RETURN(m, ApplyWeightFormat(m, format_, FileName(name), &w_->owned));
    return ForKernels(m, name);
  }

  // Packs `m` into dst on up to kLoadThreads threads (load time is mostly page faults and
  // copying, which scale with cores). Each thread maps its share of dst and of the file in
  // one call each, packs it, and drops the file pages it read (`file` null: `m` is a heap
  // buffer the caller frees).
  static void PackInParallel(const WeightMatrix& m, const GgufFile* file, uint8_t* dst) {
    constexpr int kLoadThreads = 4;
    const int64_t panels = PanelCount(m.rows), stride = PanelStride(m.type, m.cols);
    // Slices of about 4 MiB: the file pages of a slice are mapped, packed and dropped before
    // the next, so a large tensor (Phi-2's 107 MB output matrix) never has both copies
    // resident at once (peak RSS).
    const int64_t slice_panels = std::max<int64_t>(1, (int64_t{4} << 20) / std::max<int64_t>(stride, 1));
    auto pack = [&](int64_t begin, int64_t end) {
      for (int64_t p0 = begin; p0 < end; p0 += slice_panels) {
        const int64_t p1 = std::min(end, p0 + slice_panels);
        PopulateForWriting(dst + p0 * stride, static_cast<size_t>((p1 - p0) * stride));
        const int64_t r0 = p0 * kRowPanelHeight, r1 = std::min(m.rows, p1 * kRowPanelHeight);
        const uint8_t* src = static_cast<const uint8_t*>(m.data) + r0 * m.row_bytes;
        const size_t src_bytes = static_cast<size_t>((r1 - r0) * m.row_bytes);
        if (file != nullptr) PopulateForReading(src, src_bytes);
        PackRowPanelRange(m, p0, p1, dst);
        if (file != nullptr) file->file().ReleasePages(src, src_bytes);
      }
    };
    const int hw = static_cast<int>(std::thread::hardware_concurrency());
    const int n = static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(hw, panels / 64), 1, kLoadThreads));
    std::vector<std::thread> workers;
    int64_t next = panels / n;  // this thread packs [0, panels / n); workers take the rest
    for (int i = 1; i < n; ++i) {
      const int64_t end = panels * (i + 1) / n;
      try {
        workers.emplace_back(pack, next, end);
      } catch (...) {  // no thread to be had: this thread packs what is left
        break;
      }
      next = end;
    }
    pack(0, panels / n);
    pack(next, panels);
    for (std::thread& t : workers) t.join();
  }

  // A 1-D tensor of n values, converted to float.
  absl::StatusOr<std::vector<float>> Vector(std::string_view name, int64_t n) {
    EMBER_ASSIGN_OR_RETURN(const TensorView* t, Get(name));
    if (t->ne[0] != n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1) {
      return Error(name, absl::StrCat("has dims ", Dims(t->ne, std::max(t->n_dims, 1)),
                                      ", expected [", n, "]"));
    }
    const WeightMatrix row{t->type, 1, n, t->data, RowBytes(t->type, n)};
    if (row.row_bytes < 0 || static_cast<uint64_t>(row.row_bytes) != t->nbytes) {
      return Error(name, absl::StrCat("holds ", t->nbytes, " bytes for ", n, " values"));
    }
    std::vector<float> v(static_cast<size_t>(n));
    DequantizeRow(row, 0, v.data());
    return v;
  }

  absl::Status LoadLlamaLayer(int l, LayerWeights* lw) {
    const int64_t n_embd = c_.n_embd, q_dim = int64_t{c_.n_head} * c_.head_dim;
    const int64_t kv_dim = int64_t{c_.n_head_kv} * c_.head_dim;
    auto name = [l](absl::string_view what) { return absl::StrCat("blk.", l, ".", what); };
    EMBER_ASSIGN_OR_RETURN(lw->attn_norm.weight, Vector(name("attn_norm.weight"), n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->wq, QkMatrix(name("attn_q.weight"), c_.n_head));
    EMBER_ASSIGN_OR_RETURN(lw->wk, QkMatrix(name("attn_k.weight"), c_.n_head_kv));
    EMBER_ASSIGN_OR_RETURN(lw->wv, Matrix(name("attn_v.weight"), kv_dim, n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->wo, Matrix(name("attn_output.weight"), n_embd, q_dim));
    EMBER_ASSIGN_OR_RETURN(lw->ffn_norm.weight, Vector(name("ffn_norm.weight"), n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->w_gate, Matrix(name("ffn_gate.weight"), c_.n_ff, n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->w_up, Matrix(name("ffn_up.weight"), c_.n_ff, n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->w_down, Matrix(name("ffn_down.weight"), n_embd, c_.n_ff));
    return absl::OkStatus();
  }

  absl::Status LoadPhi2Layer(int l, LayerWeights* lw) {
    const int64_t n_embd = c_.n_embd, q_dim = int64_t{c_.n_head} * c_.head_dim;
    const int64_t kv_dim = int64_t{c_.n_head_kv} * c_.head_dim;
    auto name = [l](absl::string_view what) { return absl::StrCat("blk.", l, ".", what); };
    EMBER_ASSIGN_OR_RETURN(lw->attn_norm.weight, Vector(name("attn_norm.weight"), n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->attn_norm.bias, Vector(name("attn_norm.bias"), n_embd));
    if (Find(name("attn_qkv.weight")) != nullptr) {
      // Some converters fuse Q, K and V into one matrix; its rows are Q's, then K's, then
      // V's, so the three are just row ranges of it.
      EMBER_ASSIGN_OR_RETURN(WeightMatrix qkv,
                             StoredMatrix(name("attn_qkv.weight"), q_dim + 2 * kv_dim, n_embd));
      EMBER_ASSIGN_OR_RETURN(std::vector<float> bias,
                             Vector(name("attn_qkv.bias"), q_dim + 2 * kv_dim));
      const std::string fused = FileName(name("attn_qkv.weight"));
      auto slice = [&](int64_t begin, int64_t n) -> absl::StatusOr<WeightMatrix> {
        EMBER_ASSIGN_OR_RETURN(WeightMatrix m, ApplyWeightFormat(RowSlice(qkv, begin, n), format_, fused, &w_->owned));
        return ForKernels(m, name("attn_qkv.weight"));
      };
      EMBER_ASSIGN_OR_RETURN(lw->wq, slice(0, q_dim));
      EMBER_ASSIGN_OR_RETURN(lw->wk, slice(q_dim, kv_dim));
      EMBER_ASSIGN_OR_RETURN(lw->wv, slice(q_dim + kv_dim, kv_dim));
      lw->bq.assign(bias.begin(), bias.begin() + q_dim);
      lw->bk.assign(bias.begin() + q_dim, bias.begin() + q_dim + kv_dim);
      lw->bv.assign(bias.begin() + q_dim + kv_dim, bias.end());
    } else {
      EMBER_ASSIGN_OR_RETURN(lw->wq, Matrix(name("attn_q.weight"), q_dim, n_embd));
      EMBER_ASSIGN_OR_RETURN(lw->wk, Matrix(name("attn_k.weight"), kv_dim, n_embd));
      EMBER_ASSIGN_OR_RETURN(lw->wv, Matrix(name("attn_v.weight"), kv_dim, n_embd));
      EMBER_ASSIGN_OR_RETURN(lw->bq, Vector(name("attn_q.bias"), q_dim));
      EMBER_ASSIGN_OR_RETURN(lw->bk, Vector(name("attn_k.bias"), kv_dim));
      EMBER_ASSIGN_OR_RETURN(lw->bv, Vector(name("attn_v.bias"), kv_dim));
    }
    EMBER_ASSIGN_OR_RETURN(lw->wo, Matrix(name("attn_output.weight"), n_embd, q_dim));
    EMBER_ASSIGN_OR_RETURN(lw->bo, Vector(name("attn_output.bias"), n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->w_up, Matrix(name("ffn_up.weight"), c_.n_ff, n_embd));
    EMBER_ASSIGN_OR_RETURN(lw->b_up, Vector(name("ffn_up.bias"), c_.n_ff));
    EMBER_ASSIGN_OR_RETURN(lw->w_down, Matrix(name("ffn_down.weight"), n_embd, c_.n_ff));
    EMBER_ASSIGN_OR_RETURN(lw->b_down, Vector(name("ffn_down.bias"), n_embd));
    return absl::OkStatus();
  }

  const ModelConfig& c_;
  WeightFormat format_;
  ModelWeights* w_;
  const bool row_panels_;  // pack Q8_0 / Q4_0 matrices for the AVX-512 kernels
  std::string source_;
};

}  // namespace

absl::Status LoadWeights(const ModelConfig& config, WeightFormat format, ModelWeights* weights) {
  if (!weights->gguf && !weights->hf_dir) return absl::InternalError("LoadWeights: no source");
  return WeightLoader(config, format, weights).Run();
}

}  // namespace ember
