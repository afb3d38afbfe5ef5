// libFuzzer target: arbitrary bytes as a session state blob (lib/runtime/session_state.h)
// loaded through ember_session_state_load into a live stories260K session.
//   - every status must be a documented one, every failure must come with a message, and a
//     failed load must leave the session exactly as it was (tokens and logits);
//   - a blob that loads must leave a usable session: its tokens fit n_ctx, sampling and one
//     more eval work, and saving it again gives a blob that loads into a fresh session;
//   - with a grammar, the parse state (which the C API does not show) is checked by
//     sampling: after a failed load the session samples as a clone taken before it does,
//     and a fresh session loading the re-saved blob samples as the loaded one does.
// Input: byte 0 is flags, the rest the blob. Flag bit 0 rewrites the blob's last four bytes
// with its CRC-32C so that mutations get past the checksum to the header and size checks
// (a fuzzer cannot forge a checksum itself); bit 1 loads into an F16-KV session instead;
// bit 2 into a session whose sampler has a grammar (JSON mode), so that the blob's grammar
// text is replayed (seeds: *_grammar_*, saved from such a session part way into an object).
// Fixture: $EMBER_SOURCE_DIR/tests/data/models/stories260K.gguf (scripts/fuzz.sh sets it),
// else the source tree this file was compiled from.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "lib/base/crc32c.h"

namespace {

std::string ModelPath() {
  const char* root = std::getenv("EMBER_SOURCE_DIR");
  const std::string file = __FILE__;
  const std::string dir = root != nullptr ? root : file.substr(0, file.rfind('/')) + "/..";
  return dir + "/tests/data/models/stories260K.gguf";
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "session_state_fuzz: %s (last error: %s)\n", what, ember_last_error());
    std::abort();
  }
}

ember_model* Model() {
  static ember_model* model = [] {
    ember_model* m = nullptr;
    if (ember_model_load(ModelPath().c_str(), nullptr, &m) != EMBER_OK) {
      std::fprintf(stderr, "session_state_fuzz: cannot load %s: %s\n", ModelPath().c_str(), ember_last_error());
      std::abort();
    }
    return m;
  }();
  return model;
}

ember_session* NewSession(int32_t kv_type, bool grammar) {
  ember_session_options* o = nullptr;
  ember_sampler_options* so = nullptr;
  Check(ember_session_options_create(&o) == EMBER_OK, "session options");
  Check(ember_sampler_options_create(&so) == EMBER_OK, "sampler options");
  ember_sampler_options_set_temperature(so, 0.7f);
  if (grammar) Check(ember_sampler_options_set_grammar(so, EMBER_GRAMMAR_JSON_OBJECT, nullptr, 0) == EMBER_OK, "grammar");
  ember_session_options_set_sampler(o, so);
  ember_session_options_set_n_ctx(o, 48);
  ember_session_options_set_n_threads(o, 1);
  ember_session_options_set_kv_type(o, kv_type);
  ember_session* s = nullptr;
  Check(ember_session_create(Model(), o, &s) == EMBER_OK, "session create");
  ember_sampler_options_free(so);
  ember_session_options_free(o);
  return s;
}

struct Observed {
  std::vector<int32_t> tokens;
  std::vector<float> logits;
  bool operator==(const Observed& o) const {
    return tokens == o.tokens && logits.size() == o.logits.size() &&
           (logits.empty() || std::memcmp(logits.data(), o.logits.data(), logits.size() * sizeof(float)) == 0);
  }
};

Observed Observe(const ember_session* s) {
  Observed o;
  size_t n = 0;
  ember_session_tokens(s, nullptr, 0, &n);
  o.tokens.resize(n);
  Check(ember_session_tokens(s, o.tokens.data(), n, &n) == EMBER_OK, "tokens");
  const float* l = nullptr;
  size_t n_vocab = 0;
  if (ember_session_logits(s, &l, &n_vocab) == EMBER_OK) o.logits.assign(l, l + n_vocab);
  return o;
}

// A session with some history (and grammar text), so that a failed load has something to
// destroy.
ember_session* Victim(int32_t kv_type, bool grammar) {
  ember_session* s = NewSession(kv_type, grammar);
  const int32_t ids[] = {1, 403, 407, 261, 378};
  Check(ember_session_eval(s, ids, 5, nullptr, 0) == EMBER_OK, "victim eval");
  for (int i = 0; grammar && i < 2; ++i) {
    int32_t t = 0;
    Check(ember_session_sample(s, &t) == EMBER_OK, "victim sample");
    Check(ember_session_eval(s, &t, 1, nullptr, 0) == EMBER_OK, "victim eval");
  }
  return s;
}

// Samples on both sessions: the same outcome means the same RNG and grammar state (the
// sessions hold the same tokens and logits).
void CheckSameNextSample(ember_session* a, ember_session* b, const char* what) {
  int32_t ta = -1, tb = -1;
  const ember_status sa = ember_session_sample(a, &ta);
  const ember_status sb = ember_session_sample(b, &tb);
  Check(sa == sb && ta == tb, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string blob(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((flags & 1) && blob.size() >= 4) {
    const uint32_t crc = ember::Crc32c(0, blob.data(), blob.size() - 4);
    std::memcpy(blob.data() + blob.size() - 4, &crc, 4);
  }
  const int32_t kv_type = (flags & 2) ? EMBER_KV_F16 : EMBER_KV_F32;
  const bool grammar = (flags & 4) != 0;
  const int slot = (flags >> 1) & 3;
  static ember_session* victims[4] = {Victim(EMBER_KV_F32, false), Victim(EMBER_KV_F16, false),
                                      Victim(EMBER_KV_F32, true), Victim(EMBER_KV_F16, true)};
  ember_session* s = victims[slot];
  const Observed before = Observe(s);
  ember_session* twin = nullptr;
  if (grammar) Check(ember_session_clone(s, &twin) == EMBER_OK, "clone");

  const ember_status st = ember_session_state_load(s, blob.data(), blob.size());
  if (st != EMBER_OK) {
    Check(st == EMBER_ERR_INVALID_ARGUMENT || st == EMBER_ERR_UNSUPPORTED || st == EMBER_ERR_CONTEXT_FULL ||
              st == EMBER_ERR_OUT_OF_MEMORY,
          "undocumented status");
    Check(ember_last_error()[0] != '\0', "failure without a message");
    Check(Observe(s) == before, "a failed load changed the session");
    if (grammar) {
      CheckSameNextSample(s, twin, "a failed load changed the sampler or grammar state");
      ember_session_free(twin);
      ember_session_free(s);  // it has sampled: back to a known state
      victims[slot] = Victim(kv_type, grammar);
    }
    return 0;
  }
  ember_session_free(twin);
  const Observed loaded = Observe(s);
  Check(loaded.tokens.size() <= static_cast<size_t>(ember_session_n_ctx(s)), "more tokens than n_ctx");
  // Saving again and loading into a fresh session reproduces what was loaded.
  size_t n = 0;
  Check(ember_session_state_save(s, nullptr, 0, &n) == EMBER_ERR_BUFFER_TOO_SMALL, "size query");
  std::string again(n, '\0');
  Check(ember_session_state_save(s, again.data(), again.size(), &n) == EMBER_OK, "re-save");
  ember_session* fresh = NewSession(kv_type, grammar);
  Check(ember_session_state_load(fresh, again.data(), again.size()) == EMBER_OK, "re-saved state does not load");
  Check(Observe(fresh) == loaded, "re-saved state differs");
  int32_t token = 0;
  if (!loaded.logits.empty()) {
    // A grammar that has ended (EOS was accepted) allows no token: EMBER_ERR_BAD_STATE.
    int32_t fresh_token = 0;
    const ember_status sampled = ember_session_sample(s, &token);
    Check(sampled == EMBER_OK || (grammar && sampled == EMBER_ERR_BAD_STATE), "sample after load");
    Check(ember_session_sample(fresh, &fresh_token) == sampled && fresh_token == token,
          "the re-saved state samples differently");
    if (sampled != EMBER_OK) token = 0;
  }
  ember_session_free(fresh);
  const ember_status ev = ember_session_eval(s, &token, 1, nullptr, 0);
  Check(ev == EMBER_OK || ev == EMBER_ERR_CONTEXT_FULL, "eval after load");
  // Back to a known state for the next input.
  ember_session_free(s);
  victims[slot] = Victim(kv_type, grammar);
  return 0;
}
