/*
** ember.h — the public C interface of ember, an embeddable LLM inference library.
**
** This header is the whole contract between ember and a host program. It is C99, uses no
** C++ types, and is designed for a stable ABI:
**
**   - Every object is an opaque handle (ember_model, ember_session, the option objects).
**     No struct is ever passed or returned by value, and no struct layout is public, so
**     later releases can add fields without breaking binaries built against this one.
**   - Options are set through typed setter functions on opaque option objects.
**   - Every fallible function returns an ember_status. The numeric values of the status
**     codes are fixed forever; new codes may be added. When a call fails, a message that
**     names the problem is available from ember_last_error() on the same thread.
**   - No C++ exception ever crosses this boundary and the library never aborts the host
**     process on bad input: truncated or hostile model files, invalid UTF-8, out-of-range
**     token ids, a full context and NULL arguments all come back as status codes.
**   - Only symbols starting with ember_ are exported from libember.so.0.
**
** Threading model, in one paragraph: an ember_model is immutable after ember_model_load()
** returns and may be shared by any number of threads and sessions. An ember_session (a KV
** cache plus sampler state) must be used by one thread at a time; the single exception is
** ember_session_cancel(), which any thread may call at any time while the session exists.
** Functions that take only option objects are not thread-safe on the same object.
**
** Sizes and counts, in one paragraph: byte and element counts of host buffers (text
** lengths, capacities, array lengths) are size_t; token ids and counts of tokens in a
** context (n_ctx, n_past, max_tokens, n_generated) are int32_t, since a context holds at
** most 2^24 tokens. Functions taking a size_t count of tokens for an int32_t-indexed
** context (ember_session_eval) reject counts above INT32_MAX.
**
** Ownership, in one paragraph: every object returned through an out-pointer by a *_create
** or *_load function is owned by the caller and released with the matching *_free function.
** Every *_free function accepts NULL. Strings returned as `const char *` are owned by ember
** and remain valid for the lifetime stated on each function. Buffers passed in are only
** read (or written) during the call; ember keeps no pointer to them afterwards, except the
** user-data pointers of callbacks, which are passed back verbatim.
*/
#ifndef EMBER_EMBER_H
#define EMBER_EMBER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
** EMBER_API marks every exported function. On Windows a DLL build exports (dllexport) and
** its users import (dllimport, the default for a host); a host linking the static library
** defines EMBER_STATIC (the CMake target ember::ember_static and `pkg-config --static`
** do it) so neither is used. Elsewhere only these symbols have default visibility.
*/
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(EMBER_STATIC)
#    define EMBER_API
#  elif defined(EMBER_BUILDING_LIBRARY)
#    define EMBER_API __declspec(dllexport)
#  else
#    define EMBER_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define EMBER_API __attribute__((visibility("default")))
#else
#  define EMBER_API
#endif

/*
** EMBER_NODISCARD precedes every function that returns an ember_status: ignoring a status
** hides a failure, so compilers warn about it. C++17 gets [[nodiscard]] (a cast to void
** silences it); C gets GCC's warn_unused_result (which no cast silences: test the status).
** It comes before EMBER_API because C++ wants standard attributes first.
*/
#if defined(__cplusplus) && __cplusplus >= 201703L
#  define EMBER_NODISCARD [[nodiscard]]
#elif defined(__GNUC__) || defined(__clang__)
#  define EMBER_NODISCARD __attribute__((warn_unused_result))
#else
#  define EMBER_NODISCARD
#endif

/* ======================================================================================
** Version
** ==================================================================================== */

/*
** The version of the header the host was compiled against: EMBER_VERSION_MAJOR, _MINOR,
** _PATCH, EMBER_VERSION_STRING ("0.1.0") and EMBER_VERSION_NUMBER (MAJOR*1000000 +
** MINOR*1000 + PATCH). Compare EMBER_VERSION_NUMBER with ember_version_number() at run time
** to detect a mismatched shared library. Within one major version the ABI is only ever
** extended, never changed. The macros are in ember/ember_version.h, which CMake generates
** from project(VERSION) in CMakeLists.txt (the version's one source) into the build tree's
** include directory and installs next to this header.
*/
#include "ember/ember_version.h"

/*
** Returns the library's version as a static string such as "0.1.0". Never NULL; the
** string lives as long as the process. Thread-safe.
*/
EMBER_API const char *ember_version(void);

/* Returns the library's EMBER_VERSION_NUMBER. Thread-safe. */
EMBER_API int32_t ember_version_number(void);

/* ======================================================================================
** Status codes and errors
** ==================================================================================== */

/*
** Every fallible call returns one of these. The values are part of the ABI and never
** change; new codes may be added at the end, so hosts should treat unknown non-zero
** values as failures.
*/
typedef int32_t ember_status;
#define EMBER_OK 0
/* A NULL handle or pointer, a value out of range, an unknown option. */
#define EMBER_ERR_INVALID_ARGUMENT 1
/* The file could not be opened, read or mapped. */
#define EMBER_ERR_IO 2
/* The model file or directory is malformed (truncated, lying headers, bad offsets...). */
#define EMBER_ERR_INVALID_MODEL 3
/* Well-formed but not supported: an unknown architecture, tensor type or tokenizer. */
#define EMBER_ERR_UNSUPPORTED 4
/* An allocation failed or would exceed a configured memory limit. */
#define EMBER_ERR_OUT_OF_MEMORY 5
/* The session's context is full: the evaluation that would overflow it changes nothing
** (ember_session_generate[_ex]() keep what they evaluated before it). */
#define EMBER_ERR_CONTEXT_FULL 6
/* ember_session_cancel() stopped the call. What the session keeps depends on the call:
** ember_session_eval() is all-or-nothing (the session is exactly as before the call);
** ember_session_generate[_ex]() keep the prompt and every token reported to the callback
** before the cancel. */
#define EMBER_ERR_CANCELLED 7
/* A token id outside [0, ember_model_n_vocab()). */
#define EMBER_ERR_INVALID_TOKEN 8
/* Text that must be UTF-8 is not. */
#define EMBER_ERR_INVALID_UTF8 9
/* The caller's buffer is too small. The needed size is reported through the size
** out-pointer of the call where it has one (ember_tokenize, ember_detokenize); otherwise
** (ember_session_eval's all_logits) the message names it. */
#define EMBER_ERR_BUFFER_TOO_SMALL 10
/* A bug in ember. Please report it with the message from ember_last_error(). */
#define EMBER_ERR_INTERNAL 11
/* The call is not possible in the object's current state, e.g. reading logits or
** sampling from a session that has evaluated nothing yet. The object is unchanged. */
#define EMBER_ERR_BAD_STATE 12

/*
** Returns a static English name for a status code ("EMBER_OK", "EMBER_ERR_IO", ...), or
** "EMBER_ERR_UNKNOWN" for a value this version does not know. Never NULL. Thread-safe.
*/
EMBER_API const char *ember_status_name(ember_status status);

/*
** Returns the message of the most recent failed ember call on the calling thread, or ""
** if none failed yet. Successful calls do not clear it. The string is owned by ember and
** stays valid until the next ember call on the same thread. Never NULL. Thread-safe (the
** message is thread-local).
*/
EMBER_API const char *ember_last_error(void);

/* ======================================================================================
** Logging
** ==================================================================================== */

#define EMBER_LOG_DEBUG 0
#define EMBER_LOG_INFO 1
#define EMBER_LOG_WARN 2
#define EMBER_LOG_ERROR 3

/*
** A log sink. `message` is a NUL-terminated UTF-8 line without a trailing newline, valid
** only during the call. The callback may be called from any thread that calls into ember
** (including the library's worker threads), so it must be thread-safe.
*/
typedef void (*ember_log_callback)(void *user_data, int32_t level, const char *message);

/*
** Installs the process-wide log sink used when a model has no sink of its own. By default
** ember is silent. Pass callback = NULL to silence it again. Messages below `min_level`
** are dropped. Thread-safe; takes effect for messages emitted after it returns.
** Errors: none can be returned; a `min_level` outside [EMBER_LOG_DEBUG, EMBER_LOG_ERROR] is
** refused like ember_model_options_set_log_callback() refuses it: the call changes
** nothing and ember_last_error() names the problem. The callback and user_data must stay
** valid until another call replaces them.
*/
EMBER_API void ember_set_log_callback(ember_log_callback callback, void *user_data,
                                      int32_t min_level);

/* ======================================================================================
** Model options
** ==================================================================================== */

typedef struct ember_model_options ember_model_options;

/*
** Creates a model option object holding the defaults. Returns EMBER_ERR_INVALID_ARGUMENT
** if `out` is NULL, EMBER_ERR_OUT_OF_MEMORY if allocation fails. Free it with
** ember_model_options_free(); the options are copied by ember_model_load(), so they may be
** freed right after it.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_model_options_create(ember_model_options **out);
/* Frees model options; NULL is a no-op. (Every *_free function below behaves alike.) */
EMBER_API void ember_model_options_free(ember_model_options *options);

/*
** Per-model log sink (overrides the global one for messages about this model). The
** callback (and user_data) must stay valid until the model AND every session created from
** it are freed: a model freed while it still has sessions lives on (and may log) until its
** last session is freed. Errors: EMBER_ERR_INVALID_ARGUMENT for NULL options or a
** `min_level` outside [EMBER_LOG_DEBUG, EMBER_LOG_ERROR] (the options are then unchanged).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_model_options_set_log_callback(ember_model_options *options,
                                                            ember_log_callback callback,
                                                            void *user_data, int32_t min_level);

/* Weight handling at load time. */
#define EMBER_WEIGHTS_AS_STORED 0 /* default: run the file's weights as they are */
#define EMBER_WEIGHTS_Q8_0 1      /* quantize float weights to Q8_0 while loading */
#define EMBER_WEIGHTS_Q4_0 2      /* quantize float weights to Q4_0 while loading */

/*
** Chooses how float (F32/F16/BF16) weights are held in memory. Quantizing at load needs no
** offline conversion step; already-quantized GGUF weights are never re-quantized.
** EMBER_ERR_INVALID_ARGUMENT for an unknown value.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_model_options_set_weight_format(ember_model_options *options,
                                                             int32_t weight_format);

/* ======================================================================================
** Models
** ==================================================================================== */

typedef struct ember_model ember_model;

/*
** Loads a model from `path`: either a GGUF file, or a Hugging Face model directory
** (config.json + *.safetensors [+ model.safetensors.index.json] + tokenizer.json).
** `options` may be NULL for the defaults. On success *out receives a model the caller
** owns; on failure *out is set to NULL.
**
** The file is memory-mapped and fully validated before any tensor is used: a truncated or
** hostile file gives EMBER_ERR_INVALID_MODEL with a message naming the problem, never a
** crash and never an allocation larger than the file because a header said so.
**
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL path or out), EMBER_ERR_IO,
** EMBER_ERR_INVALID_MODEL, EMBER_ERR_UNSUPPORTED (architecture, tensor type, tokenizer),
** EMBER_ERR_OUT_OF_MEMORY.
** Thread safety: any number of models may be loaded concurrently.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_model_load(const char *path, const ember_model_options *options,
                                        ember_model **out);

/*
** Frees a model. Every session created from it must have been freed first; freeing a model
** that still has sessions is a host bug that ember detects, logs, and defers: the model's
** memory is released when its last session is freed. NULL is a no-op.
*/
EMBER_API void ember_model_free(ember_model *model);

/*
** Facts about a loaded model. They cannot fail: for a NULL model they return 0 (counts),
** -1 (token ids, since 0 is a valid id) or "" (strings). Strings live as long as the
** model. Thread-safe.
**   n_vocab     — rows of the output layer (every logits vector has this many entries);
**   n_tokens    — entries of the tokenizer (may be smaller than n_vocab, e.g. Phi-2);
**   n_ctx_train — the context length the model was trained with;
**   bos/eos     — token ids, or -1 if the model has none;
**   architecture — "llama", "mistral", "phi2";
*/
EMBER_API int32_t ember_model_n_vocab(const ember_model *model);
EMBER_API int32_t ember_model_n_tokens(const ember_model *model);
EMBER_API int32_t ember_model_n_ctx_train(const ember_model *model);
EMBER_API int32_t ember_model_token_bos(const ember_model *model);
EMBER_API int32_t ember_model_token_eos(const ember_model *model);
EMBER_API const char *ember_model_architecture(const ember_model *model);
/* 1 if the tokenizer adds BOS by default, else 0. */
EMBER_API int32_t ember_model_adds_bos(const ember_model *model);

/*
** 1 if sampling `token` ends a generation, else 0 (also for a NULL model or an id outside
** the vocabulary). The end-of-generation set is: the tokenizer's EOS; control tokens
** spelled <|im_end|>, <|endoftext|>, <|eot_id|>, <|eom_id|>, <end_of_turn> or <|end|>;
** for GGUF files tokenizer.ggml.eot_token_id and tokenizer.ggml.eom_token_id; for Hugging
** Face directories every id of eos_token_id (an id or a list) in config.json and
** generation_config.json. Thread-safe.
*/
EMBER_API int32_t ember_model_token_is_eog(const ember_model *model, int32_t token);

/* ======================================================================================
** Tokenizer
** ==================================================================================== */

/* Flags for ember_tokenize(). */
#define EMBER_TOKENIZE_DEFAULT 0       /* add BOS if the model's tokenizer says so */
#define EMBER_TOKENIZE_ADD_BOS 1       /* always add BOS */
#define EMBER_TOKENIZE_NO_BOS 2        /* never add BOS */
#define EMBER_TOKENIZE_PARSE_SPECIAL 4 /* text spelling a control token becomes that token */

/*
** Converts `text_len` bytes of UTF-8 text into token ids. Writes at most `capacity` ids to
** `tokens` and always stores the number of ids the text needs in *n_tokens. If capacity is
** too small, returns EMBER_ERR_BUFFER_TOO_SMALL (call again with a bigger buffer; tokens may
** be NULL when capacity is 0).
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL model, text with text_len > 0, n_tokens, or
** conflicting flags), EMBER_ERR_INVALID_UTF8, EMBER_ERR_BUFFER_TOO_SMALL.
** Thread-safe (the model is only read).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_tokenize(const ember_model *model, const char *text, size_t text_len,
                                      uint32_t flags, int32_t *tokens, size_t capacity,
                                      size_t *n_tokens);

/* Flags for ember_detokenize(). */
#define EMBER_DETOKENIZE_DEFAULT 0
/* Leave control tokens (BOS, EOS, ...) out of the text instead of rendering their text. */
#define EMBER_DETOKENIZE_SKIP_SPECIAL 1

/*
** Converts token ids to UTF-8 bytes, as the sequence's own text (SentencePiece's leading
** space marker of the first token is kept, as llama.cpp renders continuation text).
** Writes at most `capacity` bytes (no NUL terminator is added) and stores the needed
** length in *text_len; EMBER_ERR_BUFFER_TOO_SMALL if capacity is short. The bytes are what
** the tokens spell and may be invalid UTF-8 if the ids split a character.
** Errors: EMBER_ERR_INVALID_ARGUMENT, EMBER_ERR_INVALID_TOKEN, EMBER_ERR_BUFFER_TOO_SMALL.
** Thread-safe.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_detokenize(const ember_model *model, const int32_t *tokens,
                                        size_t n_tokens, uint32_t flags, char *text,
                                        size_t capacity, size_t *text_len);

/* ======================================================================================
** Sampler options
** ==================================================================================== */

typedef struct ember_sampler_options ember_sampler_options;

/*
** Creates sampler options with the defaults: greedy (temperature 0), top_k 0 (off),
** top_p 1 (off), min_p 0 (off), repetition penalty 1 (off) over the last 64 tokens,
** presence and frequency penalties 0 (off), no logit bias, seed 0. Same seed and same
** inputs give the same tokens on every run and machine.
**
** The logits are adjusted in this order before the token is chosen: repetition penalty,
** presence/frequency penalties, logit bias; then temperature, top_k, top_p and min_p
** narrow the candidates (greedy takes the largest adjusted logit).
** Errors: EMBER_ERR_INVALID_ARGUMENT if `out` is NULL, EMBER_ERR_OUT_OF_MEMORY. The options
** are copied by the calls that take them, so they may be freed right after.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_create(ember_sampler_options **out);
EMBER_API void ember_sampler_options_free(ember_sampler_options *options);
/* Each setter returns EMBER_ERR_INVALID_ARGUMENT for NULL options or an out-of-range value
** (temperature < 0 or not finite; top_k < 0; top_p or min_p outside [0,1];
** repeat_penalty <= 0; repeat_last_n < 0). */
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_temperature(ember_sampler_options *o, float t);
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_top_k(ember_sampler_options *o, int32_t k);
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_top_p(ember_sampler_options *o, float p);
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_min_p(ember_sampler_options *o, float p);
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_repeat_penalty(ember_sampler_options *o,
                                                                float penalty, int32_t last_n);
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_seed(ember_sampler_options *o, uint64_t seed);
/*
** Presence and frequency penalties with OpenAI's semantics: before each pick,
**   logit[t] -= presence_penalty * (count[t] > 0) + frequency_penalty * count[t]
** where count[t] is how many times the session's sampler picked t in the current
** completion: since the start of the running ember_session_generate[_ex]() call; for
** ember_session_sample(), since the last generate call, ember_session_reset() or
** ember_session_set_sampler(). Prompt tokens do not count (the repetition penalty covers
** the context). 0 turns a penalty off; negative values favour repeats. Any finite value
** (OpenAI accepts [-2, 2]). EMBER_ERR_INVALID_ARGUMENT for NULL options or a value that is
** not finite.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_presence_penalty(ember_sampler_options *o,
                                                                  float penalty);
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_frequency_penalty(ember_sampler_options *o,
                                                                   float penalty);
/*
** Replaces the logit bias with `n` (token, bias) pairs (copied; n = 0 removes it): each
** bias is added to that token's logit before sampling. -INFINITY forbids a token. A token
** listed twice takes its last bias. The ids are checked against the model when the
** options reach a session (ember_session_create(), ember_session_set_sampler()): an id
** >= ember_model_n_vocab() is EMBER_ERR_INVALID_TOKEN there; ids the tokenizer lacks
** (n_tokens <= id < n_vocab) are accepted and have no effect, as they are never sampled.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL options, tokens or biases NULL with n > 0, a
** NaN or +INFINITY bias), EMBER_ERR_INVALID_TOKEN (a negative id),
** EMBER_ERR_OUT_OF_MEMORY. On error the options are unchanged.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_logit_bias(ember_sampler_options *o,
                                                            const int32_t *tokens,
                                                            const float *biases, size_t n);

/* Grammar kinds for ember_sampler_options_set_grammar(). */
#define EMBER_GRAMMAR_NONE 0        /* no grammar: unconstrained sampling (the default) */
#define EMBER_GRAMMAR_GBNF 1        /* a GBNF grammar (llama.cpp's notation; start rule "root") */
#define EMBER_GRAMMAR_JSON_SCHEMA 2 /* a JSON Schema (the supported subset; see docs/) */
#define EMBER_GRAMMAR_JSON_OBJECT 3 /* JSON mode: any JSON object; `text` is ignored */
/*
** Constrains sampling to the language of a grammar: the text of the tokens a session's
** sampler picks is always a prefix of a sentence of the grammar, whatever the model's
** logits. `text` holds `len` bytes of UTF-8 (no NUL needed; copied and compiled here, once:
** options may then be shared by many sessions); for EMBER_GRAMMAR_JSON_OBJECT and
** EMBER_GRAMMAR_NONE it is ignored and may be NULL. EMBER_GRAMMAR_NONE removes the grammar.
**
** A JSON Schema is compiled with the specification's semantics; a keyword the engine does
** not support is an error naming it, never silently ignored. JSON output has bounded
** whitespace between tokens, so a model cannot pad forever.
**
** How sessions use it (ember_session_options_set_sampler(), ember_session_set_sampler()):
**   - The session keeps a grammar state. It starts empty when the session gets the sampler,
**     on ember_session_reset(), and at the start of every ember_session_generate() and
**     ember_session_generate_ex() call: a grammar constrains each generate call's output
**     from its first token (the prompt is not parsed). ember_session_state_save() saves it
**     and ember_session_state_load() restores it.
**   - Before each pick only the tokens whose bytes continue the text within the grammar are
**     candidates (the other adjustments and top_k/top_p/min_p act among them); the
**     end-of-sequence token is a candidate only once the text is a complete sentence.
**     Control tokens other than end-of-sequence are never candidates.
**   - Generation stops with EMBER_STOP_GRAMMAR when the text is complete and the grammar
**     allows nothing more. A text that is complete but could go on (a number that could
**     take more digits) goes on until the model picks end-of-sequence (EMBER_STOP_EOS).
**     EMBER_STOP_MAX_TOKENS (or any other reason) means the text may be unfinished.
**   - ember_session_sample() honours the grammar too, and the state follows each token it
**     returns (the host is expected to evaluate that token); once the grammar allows no
**     token at all, it returns EMBER_ERR_BAD_STATE.
** The vocabulary's byte trie the masks are computed against is built the first time a
** session of the model gets a grammar (tens of milliseconds for a 50,000-token vocabulary)
** and shared by every session of that model.
**
** Errors: EMBER_ERR_INVALID_ARGUMENT for NULL options, an unknown kind, text NULL with
** len > 0, or a grammar or schema that does not compile: the message (ember_last_error())
** gives the line:column of a GBNF error or the JSON pointer of a schema error (an
** unsupported keyword included); EMBER_ERR_OUT_OF_MEMORY. On error the options are
** unchanged. Not thread-safe on the same options object.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_sampler_options_set_grammar(ember_sampler_options *o, int32_t kind,
                                                         const char *text, size_t len);

/* ======================================================================================
** Session options
** ==================================================================================== */

typedef struct ember_session_options ember_session_options;

/*
** Creates session options with the defaults: context = the model's training context capped
** at 4096 tokens, threads = number of online CPUs capped at 8 (at least 1), no KV memory
** limit, context shifting off, greedy sampling.
** Errors: EMBER_ERR_INVALID_ARGUMENT if `out` is NULL, EMBER_ERR_OUT_OF_MEMORY. The options
** are copied by ember_session_create(), so they may be freed right after it.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_create(ember_session_options **out);
EMBER_API void ember_session_options_free(ember_session_options *options);
/* Maximum number of tokens (positions) the session holds (1..2^24): a call that would go
** past it fails with EMBER_ERR_CONTEXT_FULL (unless context shifting makes room). For a
** sliding-window model this still bounds the position, but the KV cache only ever stores
** min(n_ctx, window + 256) positions, so its memory stays constant (docs/context.md).
** Errors (all session option setters): EMBER_ERR_INVALID_ARGUMENT for NULL options or a
** value out of the stated range; the options are then unchanged. */
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_set_n_ctx(ember_session_options *o, int32_t n_ctx);
/* Worker threads for this session's compute (1..256). */
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_set_n_threads(ember_session_options *o,
                                                           int32_t n_threads);
/* Upper bound on KV cache bytes; 0 = no bound. A session whose cache would exceed it fails
** to create with EMBER_ERR_OUT_OF_MEMORY. */
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_set_max_kv_bytes(ember_session_options *o,
                                                              uint64_t max_bytes);
/*
** Context shifting (full-attention models only): when a call would overflow the context,
** drop the oldest tokens after the first `n_keep` (BOS / system prefix) and go on, instead
** of returning EMBER_ERR_CONTEXT_FULL. enable = 0 turns it off (the default).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_set_context_shift(ember_session_options *o,
                                                               int32_t enable, int32_t n_keep);
/* KV cache element types. */
#define EMBER_KV_F32 0  /* default: exact */
#define EMBER_KV_F16 1  /* half the memory; logits move by ~1e-3 */
#define EMBER_KV_BF16 2 /* half the memory; coarser than F16 */
/* Element type of the session's KV cache. EMBER_ERR_INVALID_ARGUMENT for other values. */
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_set_kv_type(ember_session_options *o, int32_t kv_type);
/*
** Batch invariance: enable != 0 makes the session's logits independent of how its tokens
** were split into ember_session_eval() calls (and, as always, of other sessions sharing an
** ember_session_eval_batch() pass): a prompt evaluated at once, or as a reused prefix plus
** the rest, gives bit-identical logits, so a prompt cache cannot change the tokens a seed
** produces. The scalar, AVX2 and AVX-512 kernels that AVX-512 loads use already behave so;
** enabling it makes prefill skip the faster kernels that do not (AMX bf16 tiles on CPUs
** with AMX: prompts of 192 or more tokens run about 1.7x slower there). Default: 0.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_set_batch_invariant(ember_session_options *o,
                                                                 int32_t enable);
/* The sampler used by ember_session_sample() and ember_session_generate(); copied.
** EMBER_ERR_INVALID_ARGUMENT for NULL options or sampler. */
EMBER_NODISCARD
EMBER_API ember_status ember_session_options_set_sampler(ember_session_options *o,
                                                         const ember_sampler_options *sampler);

/* ======================================================================================
** Sessions
** ==================================================================================== */

typedef struct ember_session ember_session;

/*
** Creates a session (KV cache + sampler state) on `model`; `options` may be NULL. Many
** sessions may share one model. The session holds a reference to the model: a model
** freed by the host while it has sessions is released with its last session.
** Errors: EMBER_ERR_INVALID_ARGUMENT, EMBER_ERR_INVALID_TOKEN (a logit-bias id >= n_vocab),
** EMBER_ERR_OUT_OF_MEMORY.
** Thread-safe with respect to the model.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_create(const ember_model *model,
                                            const ember_session_options *options,
                                            ember_session **out);
EMBER_API void ember_session_free(ember_session *session);

/* Forgets every token (empties the KV cache), re-seeds the sampler and clears its
** presence/frequency counts. Errors: EMBER_ERR_INVALID_ARGUMENT for a NULL session. */
EMBER_NODISCARD
EMBER_API ember_status ember_session_reset(ember_session *session);

/* Number of tokens the session has evaluated (its position). 0 for NULL. */
EMBER_API int32_t ember_session_n_past(const ember_session *session);
/* The session's context size in tokens. 0 for NULL. */
EMBER_API int32_t ember_session_n_ctx(const ember_session *session);
/* Bytes of KV cache the session holds right now. 0 for NULL. */
EMBER_API uint64_t ember_session_kv_bytes(const ember_session *session);

/*
** Feeds `n_tokens` ids to the model at the session's current position (a whole prompt is
** one call, computed as a batch). After it returns EMBER_OK the logits of the last token
** are available through ember_session_logits().
** If `all_logits` is not NULL it receives the logits of every fed position, row-major
** [n_tokens][n_vocab]; `all_logits_capacity` is its length in floats.
** On any error the session is exactly as before the call: no token is added, the logits
** are unchanged.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session, tokens NULL with n_tokens > 0,
** n_tokens > INT32_MAX), EMBER_ERR_BUFFER_TOO_SMALL (all_logits_capacity below
** n_tokens * n_vocab; the message names the needed count), EMBER_ERR_INVALID_TOKEN,
** EMBER_ERR_CONTEXT_FULL, EMBER_ERR_CANCELLED, EMBER_ERR_OUT_OF_MEMORY.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_eval(ember_session *session, const int32_t *tokens,
                                          size_t n_tokens, float *all_logits,
                                          size_t all_logits_capacity);

/*
** Points *logits at the session's current last-position logits (n_vocab floats, see
** ember_model_n_vocab()). The pointer is owned by the session and valid until the next
** call that changes the session.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session, logits or n_vocab),
** EMBER_ERR_BAD_STATE (nothing has been evaluated yet, or since ember_session_reset()).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_logits(const ember_session *session, const float **logits,
                                            size_t *n_vocab);

/*
** Picks the next token from the current logits with the session's sampler, never an id
** the tokenizer lacks. Does not feed it back; call ember_session_eval() for that. The pick
** advances the sampler's random sequence and counts for its presence/frequency penalties.
** With a grammar (ember_sampler_options_set_grammar()) the token is one the grammar allows
** and the grammar state moves past it.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session or token), EMBER_ERR_BAD_STATE (nothing
** has been evaluated yet, or since ember_session_reset(): there are no logits to sample;
** or the grammar allows no token any more, e.g. after end-of-sequence was picked).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_sample(ember_session *session, int32_t *token);

/*
** Replaces the session's sampler with `sampler` (copied) between calls: the tokens and KV
** cache stay, the random sequence restarts from the new seed and the presence/frequency
** counts start empty. Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session or sampler),
** EMBER_ERR_INVALID_TOKEN (a logit-bias id >= ember_model_n_vocab()); the session is then
** unchanged. Not while another call runs on the session (one thread at a time).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_set_sampler(ember_session *session,
                                                 const ember_sampler_options *sampler);

/*
** Streaming callback of ember_session_generate(): called once per generated token with its
** id and the text it completes (`text` is valid UTF-8, never splits a character across
** calls, is not NUL-terminated, and is valid only during the call; it may be empty when a
** token ends in the middle of a character or is a control token). Return 0 to continue,
** non-zero to stop. ember_session_generate_ex() may also call it with token = -1 (see
** there).
*/
typedef int32_t (*ember_token_callback)(void *user_data, int32_t token, const char *text,
                                        size_t text_len);

/* Flags for ember_session_generate(). */
#define EMBER_GENERATE_DEFAULT 0
/* Keep going after the end-of-sequence token instead of stopping there. */
#define EMBER_GENERATE_IGNORE_EOS 1

/*
** Tokenizes `prompt` (tokenize flags as ember_tokenize(); BOS only if the session is
** empty), evaluates it, then samples and evaluates up to `max_tokens` tokens, calling
** `callback` (may be NULL) for each. Stops at an end-of-generation token
** (ember_model_token_is_eog; unless EMBER_GENERATE_IGNORE_EOS), when
** the callback returns non-zero, at max_tokens, or on cancel. `n_generated` (may be NULL)
** receives the number of tokens generated (reported to the callback).
**
** The text passed to the callback:
**   - is the tokens' bytes decoded as UTF-8, with each ill-formed sequence replaced by
**     U+FFFD (one per maximal ill-formed subpart);
**   - never splits a character: bytes of a character split across tokens are held back and
**     delivered with the token that completes it. A partial character left at the end of
**     the call (the last token ends mid-character) is not delivered; its bytes stay in the
**     session's tokens;
**   - leaves control tokens (BOS, EOS, chat markers) out: they report empty text.
** The token on which the callback returns non-zero has been evaluated and stays in the
** session. An end-of-generation token that stops generation is neither evaluated nor
** reported: it does not enter the KV cache (with EMBER_GENERATE_IGNORE_EOS it is
** evaluated and reported like any other token).
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session, prompt NULL with prompt_len > 0,
** max_tokens < 0, unknown or conflicting flags, an empty prompt on a session that has
** evaluated nothing), EMBER_ERR_INVALID_UTF8 (prompt), EMBER_ERR_CONTEXT_FULL,
** EMBER_ERR_CANCELLED, EMBER_ERR_OUT_OF_MEMORY. On EMBER_ERR_CANCELLED or
** EMBER_ERR_CONTEXT_FULL the tokens generated so far stay in the session (the prompt too,
** if it was evaluated); on errors before the prompt is evaluated the session is unchanged.
** Thread safety: one thread at a time per session (ember_session_cancel() excepted).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_generate(ember_session *session, const char *prompt,
                                              size_t prompt_len, uint32_t tokenize_flags,
                                              int32_t max_tokens, uint32_t generate_flags,
                                              ember_token_callback callback, void *user_data,
                                              int32_t *n_generated);

/* ======================================================================================
** Generation with stop conditions
** ==================================================================================== */

typedef struct ember_generate_options ember_generate_options;

/*
** Creates generation options holding the defaults: no token limit (generation runs until
** a stop condition or a full context), stop at end-of-generation tokens, no stop strings,
** no stop tokens. EMBER_ERR_INVALID_ARGUMENT if `out` is NULL, EMBER_ERR_OUT_OF_MEMORY.
** The options are read only during each ember_session_generate_ex() call, so one object
** may serve many calls and be freed after the last. Not thread-safe on the same object.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_generate_options_create(ember_generate_options **out);
EMBER_API void ember_generate_options_free(ember_generate_options *options);
/* Generate at most `max_tokens` (>= 0) tokens. EMBER_ERR_INVALID_ARGUMENT for NULL options
** or a negative value. */
EMBER_NODISCARD
EMBER_API ember_status ember_generate_options_set_max_tokens(ember_generate_options *o,
                                                             int32_t max_tokens);
/* Non-zero: end-of-generation tokens do not stop generation (they are evaluated and, being
** control tokens, add no text). Stop tokens and stop strings still apply.
** EMBER_ERR_INVALID_ARGUMENT for NULL options. */
EMBER_NODISCARD
EMBER_API ember_status ember_generate_options_set_ignore_eos(ember_generate_options *o,
                                                             int32_t ignore_eos);
/*
** Replaces the stop strings with `n` NUL-terminated UTF-8 strings (copied; n = 0 removes
** them). Generation stops when the generated text contains one, even if it spans several
** tokens; see ember_session_generate_ex() for what is emitted and kept.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL options, strings NULL with n > 0, a NULL or empty
** string), EMBER_ERR_INVALID_UTF8, EMBER_ERR_OUT_OF_MEMORY. On error the options are
** unchanged.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_generate_options_set_stop_strings(ember_generate_options *o,
                                                               const char *const *strings,
                                                               size_t n);
/*
** Replaces the stop token ids with `n` ids (copied; n = 0 removes them). Sampling one ends
** generation like an end-of-generation token: it is not evaluated and not reported. Ids
** the model does not have are allowed (the model is unknown here) and never match.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL options, tokens NULL with n > 0),
** EMBER_ERR_INVALID_TOKEN (a negative id), EMBER_ERR_OUT_OF_MEMORY. On error the options
** are unchanged.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_generate_options_set_stop_tokens(ember_generate_options *o,
                                                              const int32_t *tokens, size_t n);

/*
** Speculative decoding by prompt lookup, for ember_session_generate_ex(): each step also
** evaluates up to `n_draft` (0..7; 0 = off, the default) draft tokens, copied from what
** followed the last occurrence of the context's final 1-3 tokens earlier in the context
** (summaries quoting their source, edits, code), in the same forward pass, and keeps those
** that sampling confirms. Decode reads the weights once per pass, so confirmed drafts come
** almost free; the output is exactly the tokens and text of plain decoding, greedy or
** sampled with the same seed (every position is sampled from its own logits, which are
** bit-identical to a one-token step's). ember_session_speculation_stats() says how many
** drafts were confirmed. Stepped generators (ember_generator_create) refuse it.
** EMBER_ERR_INVALID_ARGUMENT for NULL options or n_draft outside 0..7.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_generate_options_set_lookup(ember_generate_options *o, int32_t n_draft);

/*
** Speculative decoding with a draft model, for ember_session_generate_ex(): `draft` is a
** session on a smaller model with the same vocabulary (e.g. a small Llama for Llama 2 7B);
** each step it proposes `n_draft` (1..7) tokens greedily, and the target model verifies
** them in one forward pass exactly as with ember_generate_options_set_lookup(), so the
** output is again plain decoding's. The options keep the pointer, not a copy: the draft
** session must outlive the calls that use it and must not be used by anyone else during
** them; each call leaves it holding the context and its last guesses (its cache then
** serves the next call's common prefix). draft = NULL with n_draft = 0 turns it off.
** Lookup and a draft model are alternatives: a call with both fails with
** EMBER_ERR_INVALID_ARGUMENT, as does a draft model whose vocabulary size differs.
** Errors here: EMBER_ERR_INVALID_ARGUMENT for NULL options, n_draft outside 0..7, or a NULL
** draft with n_draft > 0.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_generate_options_set_draft(ember_generate_options *o, ember_session *draft,
                                                        int32_t n_draft);

/* Why ember_session_generate_ex() stopped (*stop_reason). */
#define EMBER_STOP_NONE 0         /* the call failed before any stop condition */
#define EMBER_STOP_EOS 1          /* sampled an end-of-generation token */
#define EMBER_STOP_STRING 2       /* the text reached a stop string */
#define EMBER_STOP_MAX_TOKENS 3   /* generated max_tokens tokens */
#define EMBER_STOP_CALLBACK 4     /* the callback returned non-zero */
#define EMBER_STOP_CANCELLED 5    /* ember_session_cancel() (status EMBER_ERR_CANCELLED) */
#define EMBER_STOP_CONTEXT_FULL 6 /* no room for the next token (EMBER_ERR_CONTEXT_FULL) */
#define EMBER_STOP_TOKEN 7        /* sampled one of the stop tokens */
#define EMBER_STOP_GRAMMAR 8      /* the sampler's grammar is complete and allows no more */

/*
** ember_session_generate() with stop conditions: tokenizes and evaluates `prompt` like it
** (BOS only if the session is empty), then samples and evaluates tokens until one of the
** conditions of `options` (NULL = the defaults of ember_generate_options_create()).
**
** The callback (may be NULL) is called once for each generated token that stays in the
** session, in order, with the text that token completes (the same rules as
** ember_session_generate()). With stop strings, a token's call is delayed until its text
** can no longer be part of a stop string, so text that becomes a stop string never reaches
** the callback. When a stop string appears:
**   - the text before it is emitted: the tokens whose text lies wholly before it are
**     reported as usual; the part of the stop string's first token that comes before the
**     stop string (if any) is reported in one last call with token = -1;
**   - the stop string itself and any text after it (even within the same token) are not;
**   - every token whose text reaches into the stop string is removed from the session, so
**     the session ends right after the last token reported with an id. Its logits are
**     those after that token, ready for the next call.
** If the callback returns non-zero, generation stops after that token, and tokens already
** evaluated but not yet reported (held back for stop strings) are removed from the session
** too. On every other end (EOS, stop token, max_tokens, cancel, full context) the held-back
** tokens are reported first. With a sliding-window model a session can take back only a
** limited number of tokens; tokens beyond that are reported even if they might still
** start a stop string (only with stop strings longer than a few hundred tokens).
**
** *n_generated (may be NULL) receives the number of tokens reported with an id: those the
** session gained after the prompt. *stop_reason (may be NULL) receives an EMBER_STOP_*
** value; both are set on every return.
** With a grammar in the session's sampler, generation also stops when the grammar is
** complete and allows nothing more (EMBER_STOP_GRAMMAR); see
** ember_sampler_options_set_grammar().
**
** Errors: as ember_session_generate(); on EMBER_ERR_CANCELLED and EMBER_ERR_CONTEXT_FULL
** *stop_reason says so too, and the tokens reported so far stay in the session.
** Thread safety: as ember_session_generate().
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_generate_ex(ember_session *session, const char *prompt,
                                                 size_t prompt_len, uint32_t tokenize_flags,
                                                 const ember_generate_options *options,
                                                 ember_token_callback callback, void *user_data,
                                                 int32_t *n_generated, int32_t *stop_reason);

/*
** Draft tokens evaluated and confirmed (accepted) by speculative decoding
** (ember_generate_options_set_lookup()) in the session's last ember_session_generate_ex()
** call; both 0 without it. Either pointer may be NULL. EMBER_ERR_INVALID_ARGUMENT for a
** NULL session. Thread safety: as ember_session_generate_ex().
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_speculation_stats(const ember_session *session, int32_t *n_drafted,
                                                       int32_t *n_accepted);

/*
** Asks the call currently running on `session` (eval, eval_reuse or generate) to stop as soon as
** possible; it then returns EMBER_ERR_CANCELLED. A live generator (ember_generator_create())
** counts as a running call until it is done: it ends at its next step with
** EMBER_ERR_CANCELLED. A cancel that arrives while no call is running is ignored. Callable from any thread while the session exists.
** Errors: EMBER_ERR_INVALID_ARGUMENT for a NULL session.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_cancel(ember_session *session);

/* ======================================================================================
** Session state, forks and prefix reuse
** ==================================================================================== */

/*
** Serializes the session's state: its tokens, KV cache, last logits, the sampler's
** random-generator position and, with a grammar (ember_sampler_options_set_grammar()), the
** grammar's parse state (as the text it has followed since it was last emptied), behind a
** versioned header carrying a fingerprint of the model (architecture, shapes and a sample of
** the weights) and a CRC-32C checksum. A session that loads it continues bit-identically:
** the same logits and, with the same sampler settings (grammar included), the same sampled
** tokens, even in the middle of a grammar-constrained output driven by
** ember_session_sample(). The sampler's settings (the grammar itself included) and its
** presence/frequency counts are not part of the state.
** Size-query pattern: *size always receives the number of bytes the state needs; if
** `capacity` is smaller, nothing is written and EMBER_ERR_BUFFER_TOO_SMALL is returned
** (buf may be NULL when capacity is 0). The size is exact for the session as it is now;
** it changes when the session does. A sliding-window model's state holds only the window.
** The caller owns `buf`; nothing is kept after the call.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session or size, buf NULL with capacity > 0),
** EMBER_ERR_BUFFER_TOO_SMALL, EMBER_ERR_UNSUPPORTED (the grammar state's text exceeds
** 16 MiB, millions of tokens of one constrained output), EMBER_ERR_OUT_OF_MEMORY.
** The session is only read. Not thread-safe on the same session (one thread at a time).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_state_save(const ember_session *session, void *buf,
                                                size_t capacity, size_t *size);

/*
** Replaces the session's state with one saved by ember_session_state_save() (the `size`
** bytes at `buf` are only read during the call). All or nothing: the blob is validated as
** hostile input (magic, version, exact size, checksum, model fingerprint, every count) before
** anything changes; on any error the session, its sampler and its grammar state are exactly as
** before.
** The target must be a session of the same model (same file, same weight format) with the
** same KV type; its n_ctx must hold the saved tokens; n_ctx, threads and batch size may
** otherwise differ. A sliding-window state cannot go into a session whose n_ctx is at most
** the window (such a session attends to everything and needs rows the state lacks).
** The target keeps its own sampler settings; only the random-generator position and the
** grammar's parse state come from the state:
**   - target with a grammar, state saved with one: the target's grammar continues from the
**     saved text (replayed through it, so this may take a moment for a long text); if the
**     target's grammar does not accept that text (another grammar), the load fails with
**     EMBER_ERR_INVALID_ARGUMENT;
**   - target with a grammar, state saved without one (or by an ember older than the grammar
**     state): the grammar state is emptied, as after ember_session_reset();
**   - target without a grammar: a saved grammar state is ignored.
** States written by earlier ember versions (format version 1) load.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session, buf NULL with size > 0, not a state,
** truncated, corrupted, saved from another model, another KV type, rows missing, a grammar
** state the session's grammar does not accept),
** EMBER_ERR_UNSUPPORTED (a format version this ember does not read), EMBER_ERR_CONTEXT_FULL
** (more tokens than the session's n_ctx), EMBER_ERR_OUT_OF_MEMORY.
** Not thread-safe on the same session.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_state_load(ember_session *session, const void *buf,
                                                size_t size);

/*
** ember_session_state_save() into the file `path` (UTF-8 / native bytes). The write is
** atomic: the state goes to a temporary file in the same directory, is flushed and renamed
** over `path`, so `path` holds either its old content or the complete new state; on
** failure the old file is intact and no temporary is left.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session or path), EMBER_ERR_IO (cannot create,
** write or rename), EMBER_ERR_UNSUPPORTED (as ember_session_state_save()),
** EMBER_ERR_OUT_OF_MEMORY. Not thread-safe on the same session.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_state_save_file(const ember_session *session,
                                                     const char *path);

/*
** ember_session_state_load() from the file `path`. A file larger than any state the
** session could hold is rejected before it is read.
** Errors: as ember_session_state_load(), plus EMBER_ERR_IO (cannot open or read) and
** EMBER_ERR_INVALID_ARGUMENT for a NULL path. The message names the file.
** Not thread-safe on the same session.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_state_load_file(ember_session *session, const char *path);

/*
** Creates an independent copy of `src` (fork a conversation): same model, options, tokens,
** KV cache, logits, sampler settings and random-generator position. The copy and the
** original then evolve separately. The copy holds a reference to the model like any
** session and is released with ember_session_free(). *out is NULL on error.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL src or out), EMBER_ERR_OUT_OF_MEMORY.
** `src` is only read; not thread-safe with another call on `src`.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_clone(const ember_session *src, ember_session **out);

/*
** Forgets every token after the first `n_keep` (nothing happens if n_keep >= n_past). The
** kept tokens' KV is reused, so continuing costs only the new tokens; continuing gives the
** same logits as a session that evaluated the kept tokens in the same calls. Unless
** nothing was dropped, the last logits are dropped too: ember_session_logits() and
** ember_session_sample() fail with EMBER_ERR_BAD_STATE until the next eval (ember_session_eval_reuse() always leaves
** logits). The sampler is untouched.
** Errors (the session is then unchanged): EMBER_ERR_INVALID_ARGUMENT (NULL session,
** n_keep < 0), EMBER_ERR_UNSUPPORTED for a sliding-window model whose KV ring no longer
** holds the window of keys that position n_keep needs (the ring holds the last window +
** batch-size positions, and only the window right after ember_session_state_load());
** re-evaluate the prefix instead (e.g. ember_session_eval_reuse()).
** Not thread-safe on the same session.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_truncate(ember_session *session, int32_t n_keep);

/*
** Copies the session's token sequence (the tokens currently in context, after any context
** shift) into `ids`. Size-query pattern: *n_tokens always receives the count; if
** `capacity` is smaller, nothing is written and EMBER_ERR_BUFFER_TOO_SMALL is returned (ids
** may be NULL when capacity is 0).
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session or n_tokens, ids NULL with capacity > 0),
** EMBER_ERR_BUFFER_TOO_SMALL. Not thread-safe on the same session.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_tokens(const ember_session *session, int32_t *ids,
                                            size_t capacity, size_t *n_tokens);

/*
** Makes the session hold exactly the `n_ids` tokens `ids`, keeping the longest common
** prefix of what it holds and `ids` and evaluating only the rest: a multi-turn chat can
** re-send the whole conversation and pay only for the new tokens. At least the last id is
** evaluated (so the logits are those after ids) unless the session already holds exactly
** `ids` with logits; a sliding-window session whose KV ring has moved past the prefix
** evaluates everything again. `n_reused` (may be NULL) receives the number of tokens kept.
** n_ids == 0 empties the session. The sampler is untouched.
** On any error the session is as before the call (tokens, logits; KV rows after the prefix
** are recomputed by the next eval).
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session, ids NULL with n_ids > 0),
** EMBER_ERR_INVALID_TOKEN, EMBER_ERR_CONTEXT_FULL, EMBER_ERR_CANCELLED,
** EMBER_ERR_OUT_OF_MEMORY. Cancellable with ember_session_cancel(). Not thread-safe on the
** same session.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_eval_reuse(ember_session *session, const int32_t *ids,
                                                size_t n_ids, size_t *n_reused);

/* ======================================================================================
** Chat templates
** ==================================================================================== */

/*
** Chat templates turn a conversation into the prompt text a model was trained on. ember
** renders them with its own sandboxed Jinja2 engine, which matches Python jinja2 in the
** environment Hugging Face transformers uses (trim_blocks, lstrip_blocks, loopcontrols,
** transformers' `tojson` and `raise_exception`) byte for byte.
**
** Which template: the one the host passes, else the model's own (GGUF
** `tokenizer.chat_template`; in a Hugging Face directory `chat_template.jinja`, else
** tokenizer_config.json's `chat_template`, a string or the entry named "default" of a list),
** else a default: Phi-2 gets its documented "Instruct: <text>\nOutput:" format (a system
** message first as a plain line, then one "Instruct: ...\n" / "Output: ...\n" exchange per
** turn, and "Output:" as the generation prompt); every other model gets ChatML
** ("<|im_start|>role\ncontent<|im_end|>\n", generation prompt "<|im_start|>assistant\n").
**
** Templates are untrusted input: rendering is capped (16 MiB of output or of any string,
** 2^20 list items, 10^6 loop iterations, 64 nested macro calls, 10 s) and reaches nothing
** but the context's data. Any failure is a status, never a crash.
**
** The rendered text spells special tokens (BOS, <|im_start|>, ...) as text: tokenize it
** with EMBER_TOKENIZE_PARSE_SPECIAL (and usually EMBER_TOKENIZE_NO_BOS, since templates
** write bos_token themselves) to get the control-token ids.
*/

/* A conversation: an ordered list of (role, content) messages. */
typedef struct ember_chat ember_chat;

/*
** Creates an empty conversation. Errors: EMBER_ERR_INVALID_ARGUMENT (out is NULL),
** EMBER_ERR_OUT_OF_MEMORY. The caller owns *out and frees it with ember_chat_free().
*/
EMBER_NODISCARD
EMBER_API ember_status ember_chat_create(ember_chat **out);
/* Frees a conversation. NULL is a no-op. */
EMBER_API void ember_chat_free(ember_chat *chat);

/*
** Appends a message. `role` ("system", "user", "assistant", "tool", ...) and `content` are
** UTF-8 bytes, copied; they need no NUL terminator and may be NULL when their length is 0.
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL chat, NULL text with non-zero length),
** EMBER_ERR_INVALID_UTF8 (the chat is then unchanged), EMBER_ERR_OUT_OF_MEMORY.
** A chat object must not be used by two threads at once while one of them adds.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_chat_add(ember_chat *chat, const char *role, size_t role_len,
                                      const char *content, size_t content_len);

/* Flags for ember_chat_apply(). */
#define EMBER_CHAT_DEFAULT 0
/* Set add_generation_prompt: end with the text that opens the assistant's reply. */
#define EMBER_CHAT_ADD_GENERATION_PROMPT 1

/*
** Renders `chat` with a chat template into `text`. The template sees `messages` (a list of
** {"role", "content"}), `add_generation_prompt` (from `flags`), and `bos_token` /
** `eos_token` (the text of the model's BOS/EOS tokens, "" without a model).
** `template_source` (UTF-8, `template_len` bytes) overrides the model's template; pass NULL
** to use the model's own (or the default, see above). `model` may be NULL only when a
** template is given.
** Writes at most `capacity` bytes (no NUL is added) and always stores the length of the
** whole rendered text in *text_len; if it does not fit, returns EMBER_ERR_BUFFER_TOO_SMALL
** (text may be NULL when capacity is 0, to ask for the size).
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL chat or text_len, NULL model without a
** template, unknown flags, a template syntax error, a render error such as the template's
** raise_exception() or an exceeded cap: the message from ember_last_error() says which),
** EMBER_ERR_INVALID_UTF8 (template not UTF-8), EMBER_ERR_BUFFER_TOO_SMALL,
** EMBER_ERR_OUT_OF_MEMORY.
** Thread-safe with respect to the model; the chat is only read.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_chat_apply(const ember_model *model, const ember_chat *chat,
                                        const char *template_source, size_t template_len,
                                        uint32_t flags, char *text, size_t capacity,
                                        size_t *text_len);

/*
** Like ember_chat_apply(), for everything a template can take: `context_json`
** (`json_len` bytes of UTF-8 JSON) is a JSON object holding the whole variable set —
** `messages` (with tool_calls, tool results, ...), `tools`, `documents`,
** `add_generation_prompt` and any other variables. Key order is kept. When `model` is not
** NULL, `bos_token` and `eos_token` are added from the model unless the context has them.
** Errors: as ember_chat_apply(), plus EMBER_ERR_INVALID_ARGUMENT for context_json that is
** not a JSON object (or nests deeper than 200 levels).
** Thread-safe with respect to the model.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_chat_apply_json(const ember_model *model, const char *template_source,
                                             size_t template_len, const char *context_json,
                                             size_t json_len, char *text, size_t capacity,
                                             size_t *text_len);

/*
** The chat template stored in the model file (NUL-terminated UTF-8), or "" if the model
** has none (ember then uses the default described above) or `model` is NULL. Lives as long
** as the model. Thread-safe.
*/
EMBER_API const char *ember_model_chat_template(const ember_model *model);

/* ======================================================================================
** Stepped generation (many sessions in lock-step)
** ==================================================================================== */

/*
** A generation driven one token at a time by the host, so that many sessions of one model
** can decode together with one batched forward pass per step (a server's continuous
** batching: a generation joins or leaves between steps). It has exactly the semantics of
** ember_session_generate_ex() without the prompt: the same callback calls with the same
** text, stop strings, UTF-8 hold-back, end-of-generation and stop tokens, max_tokens,
** grammar, cancellation and stop reasons, and the session keeps the same tokens. With the
** same sampler seed, stepping a generator alone or together with others gives it the same
** tokens as ember_session_generate_ex() (every session's logits are the same in a batch as
** alone).
*/
typedef struct ember_generator ember_generator;

/*
** Starts a generation on `session` from its current logits: the host has evaluated the
** prompt (ember_session_eval(), ember_session_eval_reuse(), or a previous generation) and
** set the sampler. Like ember_session_generate_ex() it restarts the sampler's
** presence/frequency counts and the grammar state, so the grammar constrains exactly this
** generation. `options` (NULL = the defaults of ember_generate_options_create()) is copied;
** it may be freed at once. `callback` (may be NULL) receives the generated tokens exactly
** as with ember_session_generate_ex(), with `user_data`, during ember_generator_step()
** (never during this call). The generator is done at once if max_tokens is 0.
** The caller owns *out (NULL on error) and frees it with ember_generator_free() before
** freeing the session. A session has at most one live (not yet freed) generator. While it
** lives, the session must not be used by other calls except ember_session_cancel() (which
** ends the generation at its next step with EMBER_STOP_CANCELLED) and the read-only
** queries (ember_session_n_past(), ember_session_n_ctx(), ember_session_kv_bytes(),
** ember_session_tokens(), ember_session_logits()).
** Errors: EMBER_ERR_INVALID_ARGUMENT (NULL session or out), EMBER_ERR_BAD_STATE (the
** session has nothing evaluated since its creation, ember_session_reset() or a truncation,
** so there are no logits to sample; or it already has a live generator),
** EMBER_ERR_OUT_OF_MEMORY. The session is unchanged on error.
** Thread safety: one thread at a time per session, as ember_session_generate_ex().
*/
EMBER_NODISCARD
EMBER_API ember_status ember_generator_create(ember_session *session,
                                              const ember_generate_options *options,
                                              ember_token_callback callback, void *user_data,
                                              ember_generator **out);

/*
** Advances each of the `n` generators that is not done by one token: samples it, applies
** the stop conditions (ending the generators that meet one, without evaluating their
** token), evaluates the tokens of all that continue in one batched forward pass, then
** calls each one's callback with the text that is ready (or holds it back for stop
** strings, as ember_session_generate_ex()). Generators that are done are skipped, so a
** host may keep passing them. Callbacks run on the calling thread, during the call; a
** callback must not call ember functions on any of these sessions or generators, except
** ember_session_cancel().
** statuses[i] receives generator i's status after the call: EMBER_OK while it runs or once
** it ended normally; otherwise the error that ended it, at this step or before
** (EMBER_ERR_CANCELLED, EMBER_ERR_CONTEXT_FULL, EMBER_ERR_OUT_OF_MEMORY, ...; see
** ember_generator_error()). One generator's error does not affect the others.
** Returns EMBER_OK when the call is well-formed, whatever happened to each generator.
** Errors (then no generator, session or status was touched): EMBER_ERR_INVALID_ARGUMENT
** for generators or statuses NULL with n > 0, a NULL generator, one appearing twice, or
** generators whose sessions belong to different models.
** Thread safety: the generators' sessions must not be used by another thread meanwhile
** (ember_session_cancel() excepted). Different sets of sessions may step on different
** threads.
*/
EMBER_NODISCARD
EMBER_API ember_status ember_generator_step(ember_generator *const *generators, size_t n,
                                            ember_status *statuses);

/* Non-zero once the generation has ended (a stop condition or an error); 1 for NULL. */
EMBER_API int32_t ember_generator_done(const ember_generator *generator);
/* Why the generation ended: the EMBER_STOP_* value ember_session_generate_ex() would report
** in *stop_reason (EMBER_STOP_CANCELLED, EMBER_STOP_CONTEXT_FULL for those errors);
** EMBER_STOP_NONE while it runs and for NULL. */
EMBER_API int32_t ember_generator_stop_reason(const ember_generator *generator);
/* Tokens reported to the callback with an id so far: those the session gained after the
** prompt. 0 for NULL. */
EMBER_API int32_t ember_generator_n_generated(const ember_generator *generator);
/* The message of the error that ended the generation, or "" (also for NULL). Owned by the
** generator; valid until it is freed. */
EMBER_API const char *ember_generator_error(const ember_generator *generator);
/* Frees a generator, done or not (an unfinished generation just stops: the session keeps
** the tokens reported so far plus any held back for stop strings). NULL is a no-op. */
EMBER_API void ember_generator_free(ember_generator *generator);

/*
** Evaluates several sessions of one model in one forward pass. Session i is fed the next
** n_tokens_each[i] ids of `tokens` (all sessions' ids concatenated in session order) at its
** own position, with its own KV cache, exactly as ember_session_eval(sessions[i], ids,
** n_tokens_each[i], NULL, 0) would feed them. Decoding is bound by reading the weights, and
** the pass reads them once for every session's tokens: k sessions decoding a token each
** cost much less than k calls of ember_session_eval().
** Outcomes are per session, in statuses[i] (n_sessions entries, written by the call):
** EMBER_OK, or what ember_session_eval would return for it (EMBER_ERR_INVALID_TOKEN,
** EMBER_ERR_CONTEXT_FULL, EMBER_ERR_CANCELLED, EMBER_ERR_OUT_OF_MEMORY). All-or-nothing per
** session: a session whose status is an error is exactly as before the call; no session's
** outcome depends on another's.
** Batch invariance: each session's logits (ember_session_logits()) are bit-identical to
** those ember_session_eval on that session alone would give, whatever else is in the batch
** and whatever the thread counts, so a server's answers never depend on its load. Sessions
** given 1 to 8 ids (and at most the session's n_batch) share the pass; one given more (a
** prompt: compute-bound, it would gain nothing) is evaluated on its own inside the call.
** A session given 0 ids is left as it is (status EMBER_OK).
** The pass runs on the threads of sessions[0] (its n_threads); the others' threads rest.
** Ownership: the caller keeps every array; the call keeps no pointer to any of them.
** Return value: EMBER_OK when the call was well-formed (the outcomes are in statuses; after
** a failure ember_last_error() holds the message of the last session, in order, that
** failed). For a malformed call no session is touched and statuses is not written:
** EMBER_ERR_INVALID_ARGUMENT for sessions, n_tokens_each or statuses NULL, tokens NULL
** while some count is above 0, n_sessions 0, a NULL session, a session listed twice,
** sessions of different models, or a count above INT32_MAX.
** Thread safety: the call uses every listed session as ember_session_eval uses its one: no
** other call may use any of them meanwhile, except ember_session_cancel(), which stops that
** session's part only (its status becomes EMBER_ERR_CANCELLED; the others go on).
*/
EMBER_NODISCARD
EMBER_API ember_status ember_session_eval_batch(ember_session *const *sessions, size_t n_sessions,
                                                const int32_t *tokens, const size_t *n_tokens_each,
                                                ember_status *statuses);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EMBER_EMBER_H */
