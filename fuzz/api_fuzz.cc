// libFuzzer target: the C API as a hostile host drives it, on stories260K loaded once.
// Byte 0 picks the operation, byte 1 its flags; the rest is text or token ids:
//   op 0  ember_tokenize (any flags, including unknown and conflicting ones), then
//         ember_detokenize of the result;
//   op 1  ember_detokenize of arbitrary ids (16-bit ids hit the vocabulary, a flag bit makes
//         them full 32-bit) into a buffer of input-chosen capacity;
//   op 2  ember_session_eval of arbitrary ids on a fresh 64-token session, split in chunks,
//         then ember_session_sample; errors must leave the session as it was;
//   op 3  ember_session_generate of the text as a prompt, a few tokens, with sampling;
//   op 4  ember_session_eval_batch of arbitrary ids over 1-4 sessions at different
//         positions (flags may list one twice: a malformed call that must touch nothing);
//         every session that succeeds has the logits of its twin evaluated alone, every one
//         that fails is as it was;
//   op 5  ember_session_generate_ex of the text with prompt lookup (1-7 drafts, a stop
//         string taken from the text when a flag says so) against the same call without
//         it on an identical session: ids, text, count and stop reason must be equal.
//   (Ops 6-7 are op 3.)
// Every status must be a documented one and every failure must come with a message.
// Fixture: $EMBER_SOURCE_DIR/tests/data/models/stories260K.gguf (scripts/fuzz.sh sets it),
// else the source tree this file was compiled from.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ember/ember.h"
#include "lib/tokenizer/utf8.h"

namespace {

std::string ModelPath() {
  const char* root = std::getenv("EMBER_SOURCE_DIR");
  const std::string file = __FILE__;
  const std::string dir = root != nullptr ? root : file.substr(0, file.rfind('/')) + "/..";
  return dir + "/tests/data/models/stories260K.gguf";
}

ember_model* Model() {
  static ember_model* model = [] {
    ember_model* m = nullptr;
    if (ember_model_load(ModelPath().c_str(), nullptr, &m) != EMBER_OK) {
      std::fprintf(stderr, "api_fuzz: cannot load %s: %s\n", ModelPath().c_str(), ember_last_error());
      std::abort();
    }
    return m;
  }();
  return model;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "api_fuzz: %s (last error: %s)\n", what, ember_last_error());
    std::abort();
  }
}

// A failed call must name its problem.
void CheckFailure(ember_status st) {
  Check(st > EMBER_OK && st <= EMBER_ERR_BUFFER_TOO_SMALL, "undocumented or internal status");
  Check(ember_last_error()[0] != '\0', "failure without a message");
}

std::vector<int32_t> Ids(std::string_view bytes, bool wide) {
  std::vector<int32_t> ids;
  if (wide) {
    for (size_t i = 0; i + 3 < bytes.size(); i += 4) {
      uint32_t u;
      std::memcpy(&u, bytes.data() + i, 4);
      ids.push_back(static_cast<int32_t>(u));
    }
  } else {
    for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
      ids.push_back(static_cast<uint8_t>(bytes[i]) | (static_cast<uint8_t>(bytes[i + 1]) << 8));
    }
  }
  return ids;
}

void Tokenize(ember_model* m, uint8_t flags, std::string_view text) {
  const uint32_t tokenize_flags = flags & 15;  // 8 is not a flag: must be refused
  size_t n = 0;
  int32_t small[4];
  const size_t capacity = (flags >> 4) & 3;
  ember_status st = ember_tokenize(m, text.data(), text.size(), tokenize_flags, small, capacity, &n);
  if (st == EMBER_OK) {
    Check(n <= capacity, "tokenize reported more ids than fit");
  } else {
    CheckFailure(st);
  }
  const bool bad_flags = (tokenize_flags & 8) || (tokenize_flags & 3) == 3;
  if (bad_flags) Check(st == EMBER_ERR_INVALID_ARGUMENT, "bad flags accepted");
  if (!bad_flags && !ember::IsValidUtf8(text)) Check(st == EMBER_ERR_INVALID_UTF8, "invalid UTF-8 accepted");
  if (st != EMBER_OK && st != EMBER_ERR_BUFFER_TOO_SMALL) return;
  if (bad_flags || !ember::IsValidUtf8(text)) Check(false, "tokenize accepted bad input");
  std::vector<int32_t> ids(n);
  size_t n2 = 0;
  Check(ember_tokenize(m, text.data(), text.size(), tokenize_flags, ids.data(), ids.size(), &n2) == EMBER_OK,
        "tokenize failed with the size it asked for");
  Check(n2 == n, "tokenize changed its mind about the size");
  const int32_t n_tokens = ember_model_n_tokens(m);
  for (int32_t id : ids) Check(id >= 0 && id < n_tokens, "tokenize produced an id out of range");
  size_t len = 0;
  const ember_status query = ember_detokenize(m, ids.data(), ids.size(), 0, nullptr, 0, &len);
  Check(query == (len == 0 ? EMBER_OK : EMBER_ERR_BUFFER_TOO_SMALL), "detokenize size query failed");
  std::string out(len, '\0');
  Check(ember_detokenize(m, ids.data(), ids.size(), 0, out.data(), out.size(), &len) == EMBER_OK,
        "detokenize of tokenize's ids failed");
}

void Detokenize(ember_model* m, uint8_t flags, std::string_view bytes) {
  const std::vector<int32_t> ids = Ids(bytes, flags & 16);
  const uint32_t detok_flags = flags & 3;  // 2 is not a flag
  std::string buf(static_cast<size_t>(flags >> 5) * 8, '\0');
  size_t len = 0;
  const ember_status st = ember_detokenize(m, ids.data(), ids.size(), detok_flags,
                                           buf.empty() ? nullptr : buf.data(), buf.size(), &len);
  bool in_range = true;
  for (int32_t id : ids) in_range &= id >= 0 && id < ember_model_n_tokens(m);
  if (st == EMBER_OK) {
    Check(in_range && !(detok_flags & 2), "detokenize accepted bad ids or flags");
    Check(len <= buf.size(), "detokenize wrote past the capacity");
  } else {
    CheckFailure(st);
    if (detok_flags & 2) Check(st == EMBER_ERR_INVALID_ARGUMENT, "bad flag gave the wrong status");
    if (!(detok_flags & 2) && !in_range) Check(st == EMBER_ERR_INVALID_TOKEN, "bad id gave the wrong status");
    if (st == EMBER_ERR_BUFFER_TOO_SMALL) Check(len > buf.size(), "BUFFER_TOO_SMALL with enough room");
  }
}

ember_session* NewSession(ember_model* m, uint8_t flags) {
  ember_sampler_options* so = nullptr;
  ember_session_options* o = nullptr;
  Check(ember_sampler_options_create(&so) == EMBER_OK, "sampler options");
  Check(ember_session_options_create(&o) == EMBER_OK, "session options");
  if (flags & 16) {
    Check(ember_sampler_options_set_temperature(so, 0.8f) == EMBER_OK, "temperature");
    Check(ember_sampler_options_set_top_k(so, 40) == EMBER_OK, "top_k");
    Check(ember_sampler_options_set_repeat_penalty(so, 1.3f, 16) == EMBER_OK, "repeat penalty");
  }
  Check(ember_session_options_set_sampler(o, so) == EMBER_OK, "set sampler");
  Check(ember_session_options_set_n_ctx(o, 64) == EMBER_OK, "n_ctx");
  Check(ember_session_options_set_n_threads(o, 1) == EMBER_OK, "n_threads");
  if (flags & 32) Check(ember_session_options_set_context_shift(o, 1, 1) == EMBER_OK, "context shift");
  ember_session* s = nullptr;
  Check(ember_session_create(m, o, &s) == EMBER_OK, "session_create failed");
  ember_session_options_free(o);
  ember_sampler_options_free(so);
  return s;
}

void Eval(ember_model* m, uint8_t flags, std::string_view bytes) {
  ember_session* s = NewSession(m, flags);
  std::vector<int32_t> ids = Ids(bytes, flags & 64);
  const int32_t n_vocab = ember_model_n_vocab(m);
  // Chunks of up to 24 ids: the context (64) fills after a few.
  for (size_t begin = 0; begin < ids.size(); begin += 24) {
    const size_t n = std::min<size_t>(24, ids.size() - begin);
    const int32_t before = ember_session_n_past(s);
    std::vector<float> all;
    if (flags & 128) all.resize(n * static_cast<size_t>(n_vocab));
    const ember_status st = ember_session_eval(s, ids.data() + begin, n, all.empty() ? nullptr : all.data(),
                                               all.size());
    bool in_range = true;
    for (size_t i = begin; i < begin + n; ++i) in_range &= ids[i] >= 0 && ids[i] < n_vocab;
    if (st == EMBER_OK) {
      Check(in_range, "eval accepted an id out of range");
      Check(ember_session_n_past(s) <= ember_session_n_ctx(s), "n_past beyond n_ctx");
      int32_t next = -1;
      Check(ember_session_sample(s, &next) == EMBER_OK, "sample after a good eval failed");
      Check(next >= 0 && next < n_vocab, "sample out of range");
    } else {
      CheckFailure(st);
      Check(ember_session_n_past(s) == before, "a failed eval changed n_past");
      if (!in_range) Check(st == EMBER_ERR_INVALID_TOKEN, "bad id gave the wrong status");
      if (st == EMBER_ERR_CONTEXT_FULL) Check(ember_session_reset(s) == EMBER_OK, "reset failed");
    }
  }
  ember_session_free(s);
}

std::vector<float> Logits(const ember_session* s) {
  const float* l = nullptr;
  size_t n = 0;
  if (ember_session_logits(s, &l, &n) != EMBER_OK) return {};
  return {l, l + n};
}

void EvalBatch(ember_model* m, uint8_t flags, std::string_view bytes) {
  const size_t n_sessions = 1 + (flags & 3);
  const bool repeat = (flags & 4) && n_sessions > 1;  // list the first session twice
  std::vector<int32_t> ids = Ids(bytes, flags & 64);
  // Session i has evaluated i ids before the batch (different positions); its twin too.
  std::vector<ember_session*> sessions, twins;
  for (size_t i = 0; i < n_sessions; ++i) {
    sessions.push_back(NewSession(m, flags & 16));
    twins.push_back(NewSession(m, flags & 16));
    const std::vector<int32_t> history(i, static_cast<int32_t>(i + 1));
    if (!history.empty()) {
      Check(ember_session_eval(sessions[i], history.data(), i, nullptr, 0) == EMBER_OK, "history eval");
      Check(ember_session_eval(twins[i], history.data(), i, nullptr, 0) == EMBER_OK, "twin history eval");
    }
  }
  // Sessions before the last get 1-4 ids each (as the flags choose), the last the rest
  // (more than 8 ids run on their own inside the call; more than fit fill the context).
  std::vector<size_t> counts(n_sessions, 0);
  size_t used = 0;
  for (size_t i = 0; i < n_sessions; ++i) {
    const size_t want = i + 1 < n_sessions ? 1 + (i + (flags >> 5)) % 4 : ids.size() - used;
    counts[i] = std::min(want, ids.size() - used);
    used += counts[i];
  }
  std::vector<ember_session*> listed = sessions;
  if (repeat) listed.back() = sessions.front();
  std::vector<ember_status> statuses(n_sessions, EMBER_ERR_INTERNAL);
  std::vector<int32_t> before(n_sessions);
  for (size_t i = 0; i < n_sessions; ++i) before[i] = ember_session_n_past(sessions[i]);
  const ember_status st = ember_session_eval_batch(listed.data(), listed.size(), ids.data(), counts.data(),
                                                   statuses.data());
  if (repeat) {
    Check(st == EMBER_ERR_INVALID_ARGUMENT, "a repeated session was accepted");
    CheckFailure(st);
    for (size_t i = 0; i < n_sessions; ++i) {
      Check(statuses[i] == EMBER_ERR_INTERNAL, "a malformed call wrote a status");
      Check(ember_session_n_past(sessions[i]) == before[i], "a malformed call changed a session");
    }
  } else {
    Check(st == EMBER_OK, "a well-formed batch failed");
    size_t offset = 0;
    for (size_t i = 0; i < n_sessions; ++i) {
      const ember_status alone = ember_session_eval(twins[i], ids.data() + offset, counts[i], nullptr, 0);
      Check(statuses[i] == alone, "a session's batch outcome differs from its outcome alone");
      if (statuses[i] == EMBER_OK) {
        Check(ember_session_n_past(sessions[i]) == before[i] + static_cast<int32_t>(counts[i]), "n_past after batch");
        Check(Logits(sessions[i]) == Logits(twins[i]), "batched logits differ from the session alone");
      } else {
        Check(ember_session_n_past(sessions[i]) == before[i], "a failed session changed n_past");
      }
      offset += counts[i];
    }
  }
  for (ember_session* s : sessions) ember_session_free(s);
  for (ember_session* s : twins) ember_session_free(s);
}

int32_t Stop(void* user, int32_t token, const char* text, size_t len) {
  // The streamed text must be valid UTF-8 on its own.
  if (!ember::IsValidUtf8(std::string_view(text, len))) std::abort();
  return --*static_cast<int*>(user) <= 0;
}

void Generate(ember_model* m, uint8_t flags, std::string_view prompt) {
  ember_session* s = NewSession(m, flags);
  int budget = 1 + (flags & 7);
  int32_t n = 0;
  const uint32_t tokenize_flags = (flags >> 3) & 3;  // 3 = both BOS flags: refused
  const ember_status st = ember_session_generate(s, prompt.data(), prompt.size(), tokenize_flags, 8,
                                                 flags & 128 ? EMBER_GENERATE_IGNORE_EOS : 0, Stop, &budget, &n);
  if (st != EMBER_OK) CheckFailure(st);
  Check(n >= 0 && n <= 8, "generated count out of range");
  Check(ember_session_n_past(s) <= ember_session_n_ctx(s), "n_past beyond n_ctx");
  ember_session_free(s);
}

struct Transcript {
  std::vector<int32_t> ids;
  std::string text;
};

int32_t Record(void* user, int32_t token, const char* text, size_t len) {
  auto* t = static_cast<Transcript*>(user);
  t->ids.push_back(token);
  t->text.append(text, len);
  return 0;
}

void GenerateLookup(ember_model* m, uint8_t flags, std::string_view prompt) {
  ember_generate_options* o = nullptr;
  Check(ember_generate_options_create(&o) == EMBER_OK, "generate options");
  Check(ember_generate_options_set_max_tokens(o, 12) == EMBER_OK, "max tokens");
  // A stop string from the prompt's first bytes (refused if they are not UTF-8: fine).
  const std::string stop(prompt.substr(0, 1 + (flags >> 6)));
  const char* stops[] = {stop.c_str()};
  if ((flags & 8) && !stop.empty() && stop.find('\0') == std::string::npos) {
    const ember_status set = ember_generate_options_set_stop_strings(o, stops, 1);
    if (set != EMBER_OK) CheckFailure(set);
  }
  Transcript plain, fast;
  int32_t n_plain = -1, n_fast = -1, r_plain = -1, r_fast = -1;
  ember_session* a = NewSession(m, flags);
  const ember_status st_plain = ember_session_generate_ex(a, prompt.data(), prompt.size(), 0, o, Record, &plain,
                                                          &n_plain, &r_plain);
  Check(ember_generate_options_set_lookup(o, 1 + (flags & 7) % 7) == EMBER_OK, "lookup");
  ember_session* b = NewSession(m, flags);
  const ember_status st_fast = ember_session_generate_ex(b, prompt.data(), prompt.size(), 0, o, Record, &fast,
                                                         &n_fast, &r_fast);
  if (st_plain != EMBER_OK) CheckFailure(st_plain);
  Check(st_plain == st_fast && plain.ids == fast.ids && plain.text == fast.text && n_plain == n_fast &&
            r_plain == r_fast,
        "prompt lookup changed the output");
  Check(ember_session_n_past(a) == ember_session_n_past(b), "prompt lookup changed the session");
  ember_session_free(a);
  ember_session_free(b);
  ember_generate_options_free(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  ember_model* m = Model();
  const uint8_t op = data[0] & 7;
  const uint8_t flags = data[1];
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  switch (op) {
    case 0: Tokenize(m, flags, rest); break;
    case 1: Detokenize(m, flags, rest); break;
    case 2: Eval(m, flags, rest); break;
    case 4: EvalBatch(m, flags, rest); break;
    case 5: GenerateLookup(m, flags, rest); break;
    default: Generate(m, flags, rest); break;
  }
  return 0;
}
