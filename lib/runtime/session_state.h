// Saving a session (tokens, KV rows, last logits, sampler RNG, grammar state) as a byte
// blob or file, and loading it back so that the session continues bit-identically.
//
// Blob layout, version 2 (little-endian):
//   header (80 bytes)
//     [0,8)   magic "EMBERSTA"          [8,12)  version = 2      [12,16) header bytes = 80
//     [16,24) model fingerprint (lib/model/fingerprint.h)
//     [24,28) arch   [28,32) n_layer   [32,36) kv_dim   [36,40) n_vocab   [40,44) kv type
//     [44,48) n_tokens   [48,52) n_kv_valid (leading tokens with KV rows)
//     [52,56) first row (KV rows of positions [first row, n_kv_valid) follow)
//     [56,60) has_logits (0/1)   [60,64) sampler state bytes   [64,72) total blob bytes
//     [72,76) grammar flags: bit 0 = the session has a grammar (Session::grammar()), bit 1 =
//             its grammar accepted EOS (only with bit 0); the other bits are 0
//     [76,80) grammar text bytes (0 without bit 0; at most kMaxGrammarStateBytes)
//   tokens   n_tokens x i32
//   kv       for each position, for each layer: its K row then its V row, kv_dim elements
//            of the KV type (F32, F16 or BF16 bits exactly as the cache holds them)
//   logits   n_vocab x f32 if has_logits
//   sampler  the RNG state text (Sampler::SaveRngState)
//   grammar  the text the grammar state has followed since it was last emptied
//            (GrammarConstraint::accepted_bytes()); replaying it rebuilds the parse state
//   crc32c   of every byte before it (u32)
// Version 1 is the same without the grammar: a 72-byte header (ending at [64,72)) and no
// grammar section. The grammar's flags and length sit in the header like every other
// section's count, so all section sizes are checked against the blob size before any
// section is read.
// A sliding-window session stores only the window's rows ([n_kv_valid - window + 1,
// n_kv_valid)); a full-attention session stores all of them.
//
// Loading treats the blob as hostile: magic, version, exact total size, checksum, model
// fingerprint, KV type and every count are checked against the target session, and the
// grammar text is replayed on a copy of the target's grammar state, before anything in it
// changes; any failure leaves session, sampler and grammar state untouched. A blob loads
// into any session of the same model with the same KV type whose context holds its tokens
// (n_ctx and n_batch may differ), provided it stores every KV row the target needs: a
// window-only blob cannot go into a session whose context makes it full-attention.
// The sampler's parameters, its grammar included, are the target's own; only its RNG
// position and the grammar's parse state are restored:
//   - target with a grammar, blob with grammar state: the target's grammar follows the
//     blob's text (and EOS if it had accepted it); InvalidArgumentError if the target's
//     grammar does not accept that text (another grammar, or a forged blob);
//   - target with a grammar, blob without one (or version 1): the grammar state is emptied,
//     as for a fresh sampler;
//   - target without a grammar: the blob's grammar text is ignored.
// Presence/frequency penalty counts (Sampler::StartCompletion) are not part of the state.
#ifndef EMBER_RUNTIME_SESSION_STATE_H_
#define EMBER_RUNTIME_SESSION_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/runtime/sampler.h"
#include "lib/runtime/session.h"

namespace ember {

inline constexpr uint32_t kSessionStateVersion = 2;
// The longest grammar text a state holds (about four million tokens of constrained output);
// saving a longer one is an UnsupportedError.
inline constexpr uint32_t kMaxGrammarStateBytes = uint32_t{16} << 20;

// Bytes SaveSessionState writes for this session and sampler right now.
uint64_t SessionStateSize(const Session& session, const Sampler& sampler);

// Writes the state into `out`, which must hold exactly SessionStateSize() bytes
// (InvalidArgumentError otherwise). The grammar state is the session's (Session::grammar(),
// the one Session::Sample() follows); UnsupportedError if its text exceeds
// kMaxGrammarStateBytes.
absl::Status SaveSessionState(const Session& session, const Sampler& sampler, absl::Span<char> out);
absl::StatusOr<std::string> SaveSessionState(const Session& session, const Sampler& sampler);

// Replaces the session's state, its grammar state and the sampler's RNG position with the
// blob's (versions 1 and 2), or changes nothing. Errors: InvalidArgumentError (not a state
// blob, truncated, corrupted, from another model, another KV type, missing rows the session
// needs, a grammar text the session's grammar does not accept), UnsupportedError (another
// format version), ContextFullError (more tokens than the session's n_ctx),
// OutOfMemoryError.
absl::Status LoadSessionState(std::string_view blob, Session* session, Sampler* sampler);

// The same through a file; the write is atomic (lib/base/atomic_file.h). IoError when the
// file cannot be written or read; loading reads at most the largest blob this session
// could hold.
absl::Status SaveSessionStateFile(const Session& session, const Sampler& sampler, const std::string& path);
absl::Status LoadSessionStateFile(const std::string& path, Session* session, Sampler* sampler);

}  // namespace ember

#endif  // EMBER_RUNTIME_SESSION_STATE_H_
