#include "lib/runtime/session_state.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/atomic_file.h"
#include "lib/base/crc32c.h"
#include "lib/base/errors.h"
#include "lib/grammar/grammar_constraint.h"
#include "lib/model/forward.h"

namespace ember {
namespace {

constexpr char kMagic[8] = {'E', 'M', 'B', 'E', 'R', 'S', 'T', 'A'};
constexpr uint32_t kHeaderBytesV1 = 72;
constexpr uint32_t kHeaderBytes = 80;  // version 2 adds the grammar fields
constexpr uint64_t kChecksumBytes = 4;
// SaveRngState writes ~6 KB; anything far larger is not a generator state.
constexpr uint32_t kMaxSamplerStateBytes = 64 * 1024;
// Grammar flags.
constexpr uint32_t kHasGrammar = 1;
constexpr uint32_t kGrammarEnded = 2;

struct Header {
  uint32_t version = kSessionStateVersion;
  uint64_t fingerprint = 0;
  uint32_t arch = 0, n_layer = 0, kv_dim = 0, n_vocab = 0, kv_type = 0;
  uint32_t n_tokens = 0, n_kv_valid = 0, first_row = 0, has_logits = 0, sampler_bytes = 0;
  uint64_t total = 0;
  uint32_t grammar_flags = 0, grammar_bytes = 0;  // version 2
};

uint32_t HeaderBytes(uint32_t version) { return version == 1 ? kHeaderBytesV1 : kHeaderBytes; }

const char* KvTypeName(uint32_t type) {
  switch (type) {
    case static_cast<uint32_t>(KvType::kF32): return "F32";
    case static_cast<uint32_t>(KvType::kF16): return "F16";
    case static_cast<uint32_t>(KvType::kBF16): return "BF16";
  }
  return "unknown";
}

uint64_t ElemBytes(uint32_t kv_type) { return kv_type == static_cast<uint32_t>(KvType::kF32) ? 4 : 2; }

// Blob size for a header's counts (no overflow: every count is below 2^32 and the
// per-position bytes below 2^40 for any model ember loads).
uint64_t BlobSize(const Header& h) {
  const uint64_t position_bytes = 2ull * h.n_layer * h.kv_dim * ElemBytes(h.kv_type);
  return HeaderBytes(h.version) + 4ull * h.n_tokens + uint64_t{h.n_kv_valid - h.first_row} * position_bytes +
         (h.has_logits ? 4ull * h.n_vocab : 0) + h.sampler_bytes + h.grammar_bytes + kChecksumBytes;
}

class Writer {
 public:
  explicit Writer(char* out) : p_(out) {}
  template <typename T>
  void Put(T v) {  // little-endian host
    std::memcpy(p_, &v, sizeof v);
    p_ += sizeof v;
  }
  void Bytes(const void* data, size_t n) {
    if (n > 0) std::memcpy(p_, data, n);
    p_ += n;
  }
  char* pos() const { return p_; }

 private:
  char* p_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()) {}
  template <typename T>
  T Get() {  // the caller has checked the size
    T v;
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  const char* Take(size_t n) {
    const char* at = p_;
    p_ += n;
    return at;
  }

 private:
  const char* p_;
};

Header HeaderOf(const Session& session, const std::string& sampler_state) {
  const ModelConfig& c = session.model().config();
  Header h;
  h.fingerprint = session.model().fingerprint();
  h.arch = static_cast<uint32_t>(c.arch);
  h.n_layer = static_cast<uint32_t>(c.n_layer);
  h.kv_dim = static_cast<uint32_t>(int64_t{c.n_head_kv} * c.head_dim);
  h.n_vocab = static_cast<uint32_t>(c.n_vocab);
  h.kv_type = static_cast<uint32_t>(session.options().kv_type);
  h.n_tokens = static_cast<uint32_t>(session.tokens().size());
  h.n_kv_valid = static_cast<uint32_t>(session.n_kv_valid());
  h.first_row = static_cast<uint32_t>(session.FirstNeededRow(session.n_kv_valid()));
  h.has_logits = session.has_logits() ? 1 : 0;
  h.sampler_bytes = static_cast<uint32_t>(sampler_state.size());
  if (const grammar::GrammarConstraint* g = session.grammar(); g != nullptr) {
    h.grammar_flags = kHasGrammar | (g->ended() ? kGrammarEnded : 0);
    // Clamped so that the size stays a sum of u32 fields; Save refuses a text this long.
    h.grammar_bytes = static_cast<uint32_t>(std::min<size_t>(g->accepted_bytes().size(), UINT32_MAX));
  }
  h.total = BlobSize(h);
  return h;
}

absl::Status Corrupt(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("session state: ", why));
}

}  // namespace

uint64_t SessionStateSize(const Session& session, const Sampler& sampler) {
  return HeaderOf(session, sampler.SaveRngState()).total;
}

absl::Status SaveSessionState(const Session& session, const Sampler& sampler, absl::Span<char> out) {
  const std::string rng = sampler.SaveRngState();
  const Header h = HeaderOf(session, rng);
  if (out.size() != h.total) {
    return absl::InvalidArgumentError(
        absl::StrCat("session state: buffer of ", out.size(), " bytes, the state has ", h.total));
  }
  if (h.grammar_bytes > kMaxGrammarStateBytes) {
    return UnsupportedError(absl::StrCat("session state: the grammar state's text of ",
                                         session.grammar()->accepted_bytes().size(),
                                         " bytes exceeds the format's limit of ", kMaxGrammarStateBytes));
  }
  if (h.first_row < h.n_kv_valid && h.first_row < session.kv_first_held()) {
    return absl::InternalError(absl::StrCat("session state: KV rows from ", h.first_row,
                                            " are needed but the ring holds them only from ",
                                            session.kv_first_held()));
  }
  Writer w(out.data());
  w.Bytes(kMagic, sizeof kMagic);
  w.Put(kSessionStateVersion);
  w.Put(kHeaderBytes);
  w.Put(h.fingerprint);
  for (const uint32_t v : {h.arch, h.n_layer, h.kv_dim, h.n_vocab, h.kv_type, h.n_tokens,
                           h.n_kv_valid, h.first_row, h.has_logits, h.sampler_bytes}) {
    w.Put(v);
  }
  w.Put(h.total);
  w.Put(h.grammar_flags);
  w.Put(h.grammar_bytes);
  w.Bytes(session.tokens().data(), session.tokens().size() * sizeof(int32_t));
  const KvRows& rows = session.kv_rows();
  const size_t row_bytes = static_cast<size_t>(h.kv_dim * ElemBytes(h.kv_type));
  for (int64_t p = h.first_row; p < h.n_kv_valid; ++p) {
    for (int l = 0; l < static_cast<int>(h.n_layer); ++l) {
      w.Bytes(rows.K(l, p), row_bytes);
      w.Bytes(rows.V(l, p), row_bytes);
    }
  }
  if (h.has_logits) w.Bytes(session.last_logits().data(), session.last_logits().size() * sizeof(float));
  w.Bytes(rng.data(), rng.size());
  if (h.grammar_bytes > 0) w.Bytes(session.grammar()->accepted_bytes().data(), h.grammar_bytes);
  w.Put(Crc32c(0, out.data(), static_cast<size_t>(w.pos() - out.data())));
  return absl::OkStatus();
}

absl::StatusOr<std::string> SaveSessionState(const Session& session, const Sampler& sampler) {
  std::string out(static_cast<size_t>(SessionStateSize(session, sampler)), '\0');
  EMBER_RETURN_IF_ERROR(SaveSessionState(session, sampler, absl::MakeSpan(out)));
  return out;
}

absl::Status LoadSessionState(std::string_view blob, Session* session, Sampler* sampler) {
  if (blob.size() < sizeof kMagic || std::memcmp(blob.data(), kMagic, sizeof kMagic) != 0) {
    return Corrupt("not an ember session state (bad magic)");
  }
  if (blob.size() < kHeaderBytesV1 + kChecksumBytes) {
    return Corrupt(absl::StrCat("truncated: ", blob.size(), " bytes"));
  }
  Reader r(blob);
  r.Take(sizeof kMagic);
  Header h;
  h.version = r.Get<uint32_t>();
  if (h.version < 1 || h.version > kSessionStateVersion) {
    return UnsupportedError(absl::StrCat("session state: format version ", h.version,
                                         ", this ember reads versions 1 to ", kSessionStateVersion));
  }
  if (r.Get<uint32_t>() != HeaderBytes(h.version)) return Corrupt("bad header size");
  if (blob.size() < HeaderBytes(h.version) + kChecksumBytes) {
    return Corrupt(absl::StrCat("truncated: ", blob.size(), " bytes"));
  }
  h.fingerprint = r.Get<uint64_t>();
  for (uint32_t* v : {&h.arch, &h.n_layer, &h.kv_dim, &h.n_vocab, &h.kv_type, &h.n_tokens,
                      &h.n_kv_valid, &h.first_row, &h.has_logits, &h.sampler_bytes}) {
    *v = r.Get<uint32_t>();
  }
  h.total = r.Get<uint64_t>();
  if (h.version >= 2) {
    h.grammar_flags = r.Get<uint32_t>();
    h.grammar_bytes = r.Get<uint32_t>();
  }
  if (h.total != blob.size()) {
    return Corrupt(absl::StrCat(blob.size() < h.total ? "truncated" : "trailing bytes", ": ",
                                blob.size(), " bytes, the header says ", h.total));
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, blob.data() + blob.size() - kChecksumBytes, sizeof stored_crc);
  if (Crc32c(0, blob.data(), blob.size() - kChecksumBytes) != stored_crc) {
    return Corrupt("checksum mismatch (the blob is corrupted)");
  }

  const Model& model = session->model();
  const ModelConfig& c = model.config();
  const uint32_t kv_dim = static_cast<uint32_t>(int64_t{c.n_head_kv} * c.head_dim);
  if (h.fingerprint != model.fingerprint()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "session state: saved from a different model (fingerprint %016x: %u layers, kv_dim %u, "
        "vocab %u) than this session's %s model (fingerprint %016x: %d layers, kv_dim %u, vocab %d)",
        h.fingerprint, h.n_layer, h.kv_dim, h.n_vocab, c.arch_name, model.fingerprint(), c.n_layer,
        kv_dim, c.n_vocab));
  }
  if (h.arch != static_cast<uint32_t>(c.arch) || h.n_layer != static_cast<uint32_t>(c.n_layer) ||
      h.kv_dim != kv_dim || h.n_vocab != static_cast<uint32_t>(c.n_vocab)) {
    return Corrupt("the shape in the header does not match its model fingerprint");
  }
  const uint32_t kv_type = static_cast<uint32_t>(session->options().kv_type);
  if (h.kv_type != kv_type) {
    return absl::InvalidArgumentError(absl::StrCat("session state: KV cache of type ", KvTypeName(h.kv_type),
                                                   ", this session's is ", KvTypeName(kv_type)));
  }
  if (h.n_tokens > static_cast<uint32_t>(session->n_ctx())) {
    return ContextFullError(absl::StrCat("session state: ", h.n_tokens,
                                         " tokens do not fit this session's n_ctx ", session->n_ctx()));
  }
  if (h.n_kv_valid > h.n_tokens || h.first_row > h.n_kv_valid || h.has_logits > 1 ||
      (h.has_logits == 1 && h.n_tokens == 0) || h.sampler_bytes > kMaxSamplerStateBytes) {
    return Corrupt("inconsistent counts in the header");
  }
  if ((h.grammar_flags & ~(kHasGrammar | kGrammarEnded)) != 0 ||
      (!(h.grammar_flags & kHasGrammar) && (h.grammar_flags != 0 || h.grammar_bytes != 0)) ||
      h.grammar_bytes > kMaxGrammarStateBytes) {
    return Corrupt("inconsistent grammar fields in the header");
  }
  const int64_t needed_from = session->FirstNeededRow(h.n_kv_valid);
  if (h.first_row > needed_from) {
    return absl::InvalidArgumentError(absl::StrCat(
        "session state: it holds KV rows from position ", h.first_row, " (a sliding window), but this "
        "session attends to positions from ", needed_from, " (its n_ctx makes it full-attention)"));
  }
  if (BlobSize(h) != h.total) return Corrupt("the sections do not add up to the blob size");

  // Everything below is read from the blob, validated, and staged before the session changes.
  std::vector<int32_t> tokens(h.n_tokens);
  const char* token_bytes = r.Take(tokens.size() * sizeof(int32_t));
  if (!tokens.empty()) std::memcpy(tokens.data(), token_bytes, tokens.size() * sizeof(int32_t));
  for (const int32_t id : tokens) {
    if (id < 0 || static_cast<uint32_t>(id) >= h.n_vocab) {
      return Corrupt(absl::StrCat("token id ", id, " is out of range"));
    }
  }
  const size_t row_bytes = static_cast<size_t>(h.kv_dim * ElemBytes(h.kv_type));
  const size_t position_bytes = 2 * row_bytes * h.n_layer;
  const char* kv = r.Take(position_bytes * (h.n_kv_valid - h.first_row));
  absl::Span<const float> logits;
  std::vector<float> logits_copy;  // the blob's floats may be unaligned
  if (h.has_logits) {
    logits_copy.resize(h.n_vocab);
    std::memcpy(logits_copy.data(), r.Take(h.n_vocab * sizeof(float)), h.n_vocab * sizeof(float));
    logits = logits_copy;
  }
  Sampler staged = *sampler;
  EMBER_RETURN_IF_ERROR(staged.LoadRngState(std::string_view(r.Take(h.sampler_bytes), h.sampler_bytes)));
  // The grammar state is replayed on a copy of the session's constraint (same grammar, warm
  // caches), so that a text this grammar refuses changes nothing. Without a grammar in the
  // blob the state starts empty; without one in the session the blob's text is ignored.
  const std::string_view grammar_text(r.Take(h.grammar_bytes), h.grammar_bytes);
  std::optional<grammar::GrammarConstraint> staged_grammar;
  if (const grammar::GrammarConstraint* g = session->grammar(); g != nullptr) {
    staged_grammar.emplace(*g);
    staged_grammar->Reset();  // emptied first: a refused text has no old one to go back to
    if (h.grammar_flags & kHasGrammar) {
      EMBER_RETURN_IF_ERROR(Annotate(staged_grammar->Restore(grammar_text, (h.grammar_flags & kGrammarEnded) != 0),
                                     "session state: its grammar state does not fit this session's grammar"));
    }
  }

  // A target ring smaller than the blob's row range keeps the last rows only.
  const int64_t first_held =
      std::max<int64_t>(h.first_row, int64_t{h.n_kv_valid} - session->kv_rows().capacity);
  EMBER_RETURN_IF_ERROR(session->Restore(
      std::move(tokens), h.n_kv_valid, first_held, logits, [&](const KvRows& rows) {
        for (int64_t p = first_held; p < h.n_kv_valid; ++p) {
          const char* src = kv + (p - h.first_row) * position_bytes;
          for (int l = 0; l < static_cast<int>(h.n_layer); ++l) {
            std::memcpy(rows.K(l, p), src, row_bytes);
            std::memcpy(rows.V(l, p), src + row_bytes, row_bytes);
            src += 2 * row_bytes;
          }
        }
      }));
  *sampler = std::move(staged);
  if (staged_grammar.has_value()) *session->grammar() = std::move(*staged_grammar);
  return absl::OkStatus();
}

absl::Status SaveSessionStateFile(const Session& session, const Sampler& sampler, const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(const std::string blob, SaveSessionState(session, sampler));
  return WriteFileAtomically(path, blob);
}

absl::Status LoadSessionStateFile(const std::string& path, Session* session, Sampler* sampler) {
  // The largest blob this session could accept: every position of its context with rows.
  const ModelConfig& c = session->model().config();
  const uint64_t n_ctx = static_cast<uint64_t>(session->n_ctx());
  const uint64_t max_bytes = kHeaderBytes + n_ctx * 4 +
                             n_ctx * 2 * c.n_layer * uint64_t(c.n_head_kv) * c.head_dim * 4 +
                             uint64_t(c.n_vocab) * 4 + kMaxSamplerStateBytes + kMaxGrammarStateBytes +
                             kChecksumBytes;
  EMBER_ASSIGN_OR_RETURN(const std::string blob, ReadFileBounded(path, max_bytes));
  return Annotate(LoadSessionState(blob, session, sampler), path);
}

}  // namespace ember
