// Finds and opens libember, declares the C functions of include/ember/ember.h through koffi,
// and checks the library's version. Every other module calls C only through `C` below.
//
// Handles (ember_model *, ember_session *, the option objects) are declared as `void *`:
// the classes in this package keep them apart, and a plain pointer is what the generation
// worker (generate_worker.js) can rebuild from an address in another thread.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';

// The oldest library this binding works with: every function below exists from 0.1.0 on.
// Within one major version the C ABI only grows (ember.h, "Version").
export const REQUIRED_VERSION_NUMBER = 1000; // 0.1.0 as MAJOR*1000000 + MINOR*1000 + PATCH
const REQUIRED_MAJOR = Math.floor(REQUIRED_VERSION_NUMBER / 1000000);

// ember_token_callback: `text` is not NUL-terminated, so it is a plain pointer read with
// its length (decodeBytes), never a `const char *` that koffi would read up to a NUL.
export const TokenCallback = koffi.proto(
  'int32_t ember_token_callback(void *user_data, int32_t token, const void *text, size_t text_len)');

const SIGNATURES = [
  'const char *ember_version(void)',
  'int32_t ember_version_number(void)',
  'const char *ember_status_name(int32_t status)',
  'const char *ember_last_error(void)',
  // Models.
  'int32_t ember_model_options_create(_Out_ void **out)',
  'void ember_model_options_free(void *options)',
  'int32_t ember_model_options_set_weight_format(void *options, int32_t format)',
  'int32_t ember_model_load(const char *path, const void *options, _Out_ void **out)',
  'void ember_model_free(void *model)',
  'int32_t ember_model_n_vocab(const void *model)',
  'int32_t ember_model_n_tokens(const void *model)',
  'int32_t ember_model_n_ctx_train(const void *model)',
  'int32_t ember_model_token_bos(const void *model)',
  'int32_t ember_model_token_eos(const void *model)',
  'const char *ember_model_architecture(const void *model)',
  'int32_t ember_model_adds_bos(const void *model)',
  'int32_t ember_model_token_is_eog(const void *model, int32_t token)',
  'const char *ember_model_chat_template(const void *model)',
  // Tokenizer.
  'int32_t ember_tokenize(const void *model, const uint8_t *text, size_t text_len, uint32_t flags, ' +
    '_Inout_ int32_t *tokens, size_t capacity, _Out_ size_t *n_tokens)',
  'int32_t ember_detokenize(const void *model, const int32_t *tokens, size_t n_tokens, uint32_t flags, ' +
    '_Inout_ uint8_t *text, size_t capacity, _Out_ size_t *text_len)',
  // Sampler options.
  'int32_t ember_sampler_options_create(_Out_ void **out)',
  'void ember_sampler_options_free(void *options)',
  'int32_t ember_sampler_options_set_temperature(void *o, float t)',
  'int32_t ember_sampler_options_set_top_k(void *o, int32_t k)',
  'int32_t ember_sampler_options_set_top_p(void *o, float p)',
  'int32_t ember_sampler_options_set_min_p(void *o, float p)',
  'int32_t ember_sampler_options_set_repeat_penalty(void *o, float penalty, int32_t last_n)',
  'int32_t ember_sampler_options_set_seed(void *o, uint64_t seed)',
  'int32_t ember_sampler_options_set_presence_penalty(void *o, float penalty)',
  'int32_t ember_sampler_options_set_frequency_penalty(void *o, float penalty)',
  'int32_t ember_sampler_options_set_logit_bias(void *o, const int32_t *tokens, const float *biases, size_t n)',
  'int32_t ember_sampler_options_set_grammar(void *o, int32_t kind, const uint8_t *text, size_t len)',
  // Session options.
  'int32_t ember_session_options_create(_Out_ void **out)',
  'void ember_session_options_free(void *options)',
  'int32_t ember_session_options_set_n_ctx(void *o, int32_t n_ctx)',
  'int32_t ember_session_options_set_n_threads(void *o, int32_t n_threads)',
  'int32_t ember_session_options_set_max_kv_bytes(void *o, uint64_t max_bytes)',
  'int32_t ember_session_options_set_context_shift(void *o, int32_t enable, int32_t n_keep)',
  'int32_t ember_session_options_set_kv_type(void *o, int32_t kv_type)',
  'int32_t ember_session_options_set_sampler(void *o, const void *sampler)',
  // Sessions.
  'int32_t ember_session_create(const void *model, const void *options, _Out_ void **out)',
  'void ember_session_free(void *session)',
  'int32_t ember_session_reset(void *session)',
  'int32_t ember_session_n_past(const void *session)',
  'int32_t ember_session_n_ctx(const void *session)',
  'uint64_t ember_session_kv_bytes(const void *session)',
  'int32_t ember_session_eval(void *session, const int32_t *tokens, size_t n_tokens, ' +
    '_Inout_ float *all_logits, size_t all_logits_capacity)',
  'int32_t ember_session_logits(const void *session, _Out_ void **logits, _Out_ size_t *n_vocab)',
  'int32_t ember_session_sample(void *session, _Out_ int32_t *token)',
  'int32_t ember_session_set_sampler(void *session, const void *sampler)',
  // Generation.
  'int32_t ember_generate_options_create(_Out_ void **out)',
  'void ember_generate_options_free(void *options)',
  'int32_t ember_generate_options_set_max_tokens(void *o, int32_t max_tokens)',
  'int32_t ember_generate_options_set_ignore_eos(void *o, int32_t ignore_eos)',
  'int32_t ember_generate_options_set_stop_strings(void *o, const char **strings, size_t n)',
  'int32_t ember_generate_options_set_stop_tokens(void *o, const int32_t *tokens, size_t n)',
  'int32_t ember_session_generate_ex(void *session, const uint8_t *prompt, size_t prompt_len, ' +
    'uint32_t tokenize_flags, const void *options, ember_token_callback *callback, void *user_data, ' +
    '_Out_ int32_t *n_generated, _Out_ int32_t *stop_reason)',
  'int32_t ember_session_cancel(void *session)',
  // Session state, forks and prefix reuse.
  'int32_t ember_session_state_save(const void *session, _Inout_ uint8_t *buf, size_t capacity, _Out_ size_t *size)',
  'int32_t ember_session_state_load(void *session, const uint8_t *buf, size_t size)',
  'int32_t ember_session_state_save_file(const void *session, const char *path)',
  'int32_t ember_session_state_load_file(void *session, const char *path)',
  'int32_t ember_session_eval_reuse(void *session, const int32_t *ids, size_t n_ids, _Out_ size_t *n_reused)',
  'int32_t ember_session_clone(const void *src, _Out_ void **out)',
  'int32_t ember_session_truncate(void *session, int32_t n_keep)',
  'int32_t ember_session_tokens(const void *session, _Inout_ int32_t *ids, size_t capacity, _Out_ size_t *n_tokens)',
  // Chat.
  'int32_t ember_chat_create(_Out_ void **out)',
  'void ember_chat_free(void *chat)',
  'int32_t ember_chat_add(void *chat, const uint8_t *role, size_t role_len, const uint8_t *content, size_t content_len)',
  'int32_t ember_chat_apply(const void *model, const void *chat, const uint8_t *template_source, ' +
    'size_t template_len, uint32_t flags, _Inout_ uint8_t *text, size_t capacity, _Out_ size_t *text_len)',
  'int32_t ember_chat_apply_json(const void *model, const uint8_t *template_source, size_t template_len, ' +
    'const uint8_t *context_json, size_t json_len, _Inout_ uint8_t *text, size_t capacity, _Out_ size_t *text_len)',
];

function libraryNames() {
  if (process.platform === 'darwin') return ['libember.0.dylib', 'libember.dylib'];
  if (process.platform === 'win32') return ['ember.dll', 'libember.dll'];
  return ['libember.so.0', 'libember.so'];
}

// Where the library is looked for, in order: $EMBER_LIBRARY (alone: an explicit choice must
// not fall back to another library); the build tree next to this source tree (build/lib);
// the dynamic loader's own search (LD_LIBRARY_PATH, ldconfig: a `cmake --install`).
export function candidatePaths() {
  if (process.env.EMBER_LIBRARY) return [process.env.EMBER_LIBRARY];
  const here = path.dirname(fileURLToPath(import.meta.url));
  const buildLib = path.resolve(here, '..', '..', '..', 'build', 'lib');
  const inTree = libraryNames().map((name) => path.join(buildLib, name)).filter((p) => fs.existsSync(p));
  return [...inTree, ...libraryNames()];
}

function open() {
  const errors = [];
  for (const candidate of candidatePaths()) {
    let lib;
    try {
      lib = koffi.load(candidate);
    } catch (e) {
      errors.push(`${candidate}: ${e.message}`);
      continue;
    }
    const fns = {};
    for (const signature of SIGNATURES) {
      const name = /(ember_\w+)\(/.exec(signature)[1];
      try {
        fns[name] = lib.func(signature);
      } catch (e) {
        throw new Error(`ember: ${candidate} lacks ${name}; it is older than this binding needs ` +
                        `(version number >= ${REQUIRED_VERSION_NUMBER}): ${e.message}`);
      }
    }
    const number = fns.ember_version_number();
    if (Math.floor(number / 1000000) !== REQUIRED_MAJOR || number < REQUIRED_VERSION_NUMBER) {
      throw new Error(`ember: ${candidate} is version ${fns.ember_version()} (${number}); this binding needs ` +
                      `major version ${REQUIRED_MAJOR}, at least ${REQUIRED_VERSION_NUMBER}`);
    }
    return { fns, libraryPath: candidate };
  }
  throw new Error('ember: cannot load libember; set EMBER_LIBRARY to the library\'s path (tried ' +
                  errors.join('; ') + ')');
}

const opened = open();
/** The C functions, by their C names. */
export const C = opened.fns;
/** The path libember was loaded from. */
export const libraryPath = opened.libraryPath;

/** UTF-8 bytes of a JS string (lone surrogates become U+FFFD, so the bytes are valid UTF-8). */
export function utf8(text) {
  if (typeof text !== 'string') throw new TypeError(`ember: expected a string, got ${typeof text}`);
  return Buffer.from(text, 'utf8');
}

/** `len` bytes at `pointer` (a C buffer valid only during the current call), copied. */
export function decodeBytes(pointer, len) {
  if (len === 0) return Buffer.alloc(0);
  return Buffer.from(koffi.decode(pointer, 'uint8_t', len));
}

/** The address of a handle, to rebuild it in another thread with pointerFromAddress(). */
export function addressOf(pointer) {
  return koffi.address(pointer);
}

export function pointerFromAddress(address) {
  const cell = koffi.sizeof('void *') === 8 ? new BigUint64Array([BigInt(address)])
                                            : new Uint32Array([Number(address)]);
  return koffi.decode(cell, 'void *');
}

export { koffi };
