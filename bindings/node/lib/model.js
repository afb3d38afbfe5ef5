// Model: a loaded model (ember_model), immutable and shareable; tokenizer and chat templates.
import { C, utf8 } from './native.js';
import { Status, check } from './errors.js';
import { withSessionOptions } from './options.js';
import { OwnedHandle } from './handle.js';
import { Session } from './session.js';

/** Tokenize flags (EMBER_TOKENIZE_*), for tokenize() and generation's tokenizeFlags. */
export const TokenizeFlags = Object.freeze({ DEFAULT: 0, ADD_BOS: 1, NO_BOS: 2, PARSE_SPECIAL: 4 });

/** Load-time weight formats (EMBER_WEIGHTS_*), by the names load()'s weightFormat takes. */
export const WeightFormat = Object.freeze({ as_stored: 0, q8_0: 1, q4_0: 2 });

// Calls fill(buffer, capacity, outLength) twice at most: first with a guess, then with the
// size the library asked for. Returns the filled part of the buffer.
function twoPass(makeBuffer, guess, fill) {
  const needed = [0];
  let buffer = makeBuffer(guess);
  let status = fill(buffer, buffer.length, needed);
  if (status === Status.BUFFER_TOO_SMALL) {
    buffer = makeBuffer(Number(needed[0]));
    status = fill(buffer, buffer.length, needed);
  }
  check(status);
  return buffer.subarray(0, Number(needed[0]));
}

export class Model extends OwnedHandle {
  /** Loads a GGUF file or a Hugging Face directory. Options: {weightFormat: 'q8_0' | ...}. */
  static load(path, { weightFormat } = {}) {
    const out = [null];
    if (weightFormat === undefined) {
      check(C.ember_model_load(path, null, out));
    } else {
      const format = WeightFormat[weightFormat];
      if (format === undefined) throw new TypeError(`ember: unknown weightFormat "${weightFormat}"`);
      const options = [null];
      check(C.ember_model_options_create(options));
      try {
        check(C.ember_model_options_set_weight_format(options[0], format));
        check(C.ember_model_load(path, options[0], out));
      } finally {
        C.ember_model_options_free(options[0]);
      }
    }
    return new Model(out[0]);
  }

  constructor(pointer) {
    super(pointer, C.ember_model_free, 'Model');
  }

  get nVocab() { return C.ember_model_n_vocab(this.pointer); }
  get nTokens() { return C.ember_model_n_tokens(this.pointer); }
  get nCtxTrain() { return C.ember_model_n_ctx_train(this.pointer); }
  get bos() { return C.ember_model_token_bos(this.pointer); }
  get eos() { return C.ember_model_token_eos(this.pointer); }
  get architecture() { return C.ember_model_architecture(this.pointer); }
  get addsBos() { return C.ember_model_adds_bos(this.pointer) !== 0; }
  get chatTemplate() { return C.ember_model_chat_template(this.pointer); }
  isEog(token) { return C.ember_model_token_is_eog(this.pointer, token) !== 0; }

  /** Token ids of `text` (flags: TokenizeFlags). */
  tokenize(text, flags = TokenizeFlags.DEFAULT) {
    const bytes = utf8(text);
    const model = this.pointer;
    const ids = twoPass((n) => new Int32Array(n), bytes.length + 2,
                        (buf, cap, n) => C.ember_tokenize(model, bytes, bytes.length, flags, buf, cap, n));
    return Array.from(ids);
  }

  /** The bytes token ids spell (may split a UTF-8 character: see detokenize). */
  detokenizeBytes(tokens, { skipSpecial = false } = {}) {
    const ids = Int32Array.from(tokens);
    const model = this.pointer;
    return twoPass((n) => Buffer.alloc(n), ids.length * 8 + 16,
                   (buf, cap, n) => C.ember_detokenize(model, ids, ids.length, skipSpecial ? 1 : 0, buf, cap, n));
  }

  /** The text token ids spell (bytes decoded as UTF-8, ill-formed ones as U+FFFD). */
  detokenize(tokens, options = {}) {
    return this.detokenizeBytes(tokens, options).toString('utf8');
  }

  /**
   * Renders [{role, content}] with the model's chat template (or `template`), ending with
   * the assistant's opening when addGenerationPrompt (the default).
   */
  applyChat(messages, { addGenerationPrompt = true, template = null } = {}) {
    const chat = [null];
    check(C.ember_chat_create(chat));
    try {
      for (const { role, content } of messages) {
        const r = utf8(role);
        const c = utf8(content);
        check(C.ember_chat_add(chat[0], r, r.length, c, c.length));
      }
      const source = template === null ? null : utf8(template);
      const model = this.pointer;
      const text = twoPass((n) => Buffer.alloc(n), 4096, (buf, cap, n) =>
        C.ember_chat_apply(model, chat[0], source, source ? source.length : 0, addGenerationPrompt ? 1 : 0,
                           buf, cap, n));
      return text.toString('utf8');
    } finally {
      C.ember_chat_free(chat[0]);
    }
  }

  /**
   * Renders a template with a whole context (an object: messages, tools,
   * add_generation_prompt, ...; bos_token/eos_token come from the model unless given).
   * `template` null uses the model's own.
   */
  applyChatJson(context, { template = null } = {}) {
    const json = utf8(JSON.stringify(context));
    const source = template === null ? null : utf8(template);
    const model = this.pointer;
    const text = twoPass((n) => Buffer.alloc(n), 4096, (buf, cap, n) =>
      C.ember_chat_apply_json(model, source, source ? source.length : 0, json, json.length, buf, cap, n));
    return text.toString('utf8');
  }

  /**
   * A new session. Options: nCtx, nThreads, maxKvBytes, contextShift ({nKeep}), kvType
   * ('f32' | 'f16' | 'bf16'), sampler ({temperature, topK, topP, minP, repeatPenalty,
   * repeatLastN, seed, presencePenalty, frequencyPenalty, logitBias, grammar}).
   */
  createSession(options = {}) {
    const model = this.pointer;
    const out = [null];
    withSessionOptions(options, (o) => check(C.ember_session_create(model, o, out)));
    return new Session(out[0], this);
  }
}

