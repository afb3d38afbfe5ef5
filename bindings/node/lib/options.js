// Plain JS option objects -> ember's opaque option handles, each freed right after the call
// that reads it (the C calls copy what they need). Unknown keys are errors, not ignored, so
// a misspelt option cannot silently fall back to a default.
import { C, utf8 } from './native.js';
import { check } from './errors.js';

/** Grammar kinds (EMBER_GRAMMAR_*), by the names sampler.grammar.kind takes. */
export const GrammarKind = Object.freeze({ none: 0, gbnf: 1, json_schema: 2, json_object: 3 });

function checkKeys(what, spec, allowed) {
  if (spec === null || typeof spec !== 'object') throw new TypeError(`ember: ${what} must be an object`);
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`ember: unknown ${what} option "${key}" (known: ${allowed.join(', ')})`);
    }
  }
}

function create(createFn) {
  const out = [null];
  check(createFn(out));
  return out[0];
}

// Runs fn(handle) with a handle made by build(spec), and frees it whatever happens.
function withHandle(build, free, spec, fn) {
  const handle = build(spec);
  try {
    return fn(handle);
  } finally {
    free(handle);
  }
}

const SAMPLER_KEYS = ['temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'repeatLastN', 'seed',
  'presencePenalty', 'frequencyPenalty', 'logitBias', 'grammar'];

// {temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, presencePenalty,
//  frequencyPenalty, logitBias: {id: bias} or Map, grammar: {kind, text}}; missing = ember's default.
function buildSampler(spec) {
  checkKeys('sampler', spec, SAMPLER_KEYS);
  const o = create(C.ember_sampler_options_create);
  try {
    if (spec.temperature !== undefined) check(C.ember_sampler_options_set_temperature(o, spec.temperature));
    if (spec.topK !== undefined) check(C.ember_sampler_options_set_top_k(o, spec.topK));
    if (spec.topP !== undefined) check(C.ember_sampler_options_set_top_p(o, spec.topP));
    if (spec.minP !== undefined) check(C.ember_sampler_options_set_min_p(o, spec.minP));
    if (spec.repeatPenalty !== undefined || spec.repeatLastN !== undefined) {
      check(C.ember_sampler_options_set_repeat_penalty(o, spec.repeatPenalty ?? 1.0, spec.repeatLastN ?? 64));
    }
    if (spec.seed !== undefined) check(C.ember_sampler_options_set_seed(o, BigInt(spec.seed)));
    if (spec.presencePenalty !== undefined) check(C.ember_sampler_options_set_presence_penalty(o, spec.presencePenalty));
    if (spec.frequencyPenalty !== undefined) {
      check(C.ember_sampler_options_set_frequency_penalty(o, spec.frequencyPenalty));
    }
    if (spec.logitBias !== undefined) {
      const entries = spec.logitBias instanceof Map ? [...spec.logitBias] : Object.entries(spec.logitBias);
      const ids = Int32Array.from(entries, ([id]) => Number(id));
      const biases = Float32Array.from(entries, ([, bias]) => bias);
      check(C.ember_sampler_options_set_logit_bias(o, ids, biases, entries.length));
    }
    if (spec.grammar !== undefined) {
      checkKeys('sampler.grammar', spec.grammar, ['kind', 'text']);
      const kind = GrammarKind[spec.grammar.kind];
      if (kind === undefined) {
        throw new TypeError(`ember: unknown grammar kind "${spec.grammar.kind}" (known: ${Object.keys(GrammarKind)})`);
      }
      const text = utf8(spec.grammar.text ?? '');
      check(C.ember_sampler_options_set_grammar(o, kind, text, text.length));
    }
    return o;
  } catch (e) {
    C.ember_sampler_options_free(o);
    throw e;
  }
}

export function withSamplerOptions(spec, fn) {
  return withHandle(buildSampler, C.ember_sampler_options_free, spec ?? {}, fn);
}

/** KV cache element types (EMBER_KV_*), by the names session options' kvType takes. */
export const KvType = Object.freeze({ f32: 0, f16: 1, bf16: 2 });

const SESSION_KEYS = ['nCtx', 'nThreads', 'maxKvBytes', 'contextShift', 'kvType', 'sampler'];

// {nCtx, nThreads, maxKvBytes, contextShift: {nKeep} | false, kvType: 'f32'|'f16'|'bf16', sampler}.
function buildSession(spec) {
  checkKeys('session', spec, SESSION_KEYS);
  const o = create(C.ember_session_options_create);
  try {
    if (spec.nCtx !== undefined) check(C.ember_session_options_set_n_ctx(o, spec.nCtx));
    if (spec.nThreads !== undefined) check(C.ember_session_options_set_n_threads(o, spec.nThreads));
    if (spec.maxKvBytes !== undefined) check(C.ember_session_options_set_max_kv_bytes(o, BigInt(spec.maxKvBytes)));
    if (spec.contextShift) check(C.ember_session_options_set_context_shift(o, 1, spec.contextShift.nKeep ?? 0));
    if (spec.kvType !== undefined) {
      const kv = KvType[spec.kvType];
      if (kv === undefined) throw new TypeError(`ember: unknown kvType "${spec.kvType}" (known: ${Object.keys(KvType)})`);
      check(C.ember_session_options_set_kv_type(o, kv));
    }
    if (spec.sampler !== undefined) {
      withSamplerOptions(spec.sampler, (sampler) => check(C.ember_session_options_set_sampler(o, sampler)));
    }
    return o;
  } catch (e) {
    C.ember_session_options_free(o);
    throw e;
  }
}

export function withSessionOptions(spec, fn) {
  return withHandle(buildSession, C.ember_session_options_free, spec ?? {}, fn);
}

const GENERATE_KEYS = ['maxTokens', 'ignoreEos', 'stop', 'stopTokens', 'tokenizeFlags'];

// {maxTokens, ignoreEos, stop: [strings], stopTokens: [ids]} (tokenizeFlags is the caller's).
function buildGenerate(spec) {
  checkKeys('generate', spec, GENERATE_KEYS);
  const o = create(C.ember_generate_options_create);
  try {
    if (spec.maxTokens !== undefined) check(C.ember_generate_options_set_max_tokens(o, spec.maxTokens));
    if (spec.ignoreEos !== undefined) check(C.ember_generate_options_set_ignore_eos(o, spec.ignoreEos ? 1 : 0));
    if (spec.stop !== undefined && spec.stop.length > 0) {
      // koffi passes JS strings as NUL-terminated UTF-8; a string with a NUL cannot be one.
      for (const s of spec.stop) {
        if (typeof s !== 'string' || s.includes('\0')) throw new TypeError('ember: stop strings are strings without NUL');
      }
      check(C.ember_generate_options_set_stop_strings(o, spec.stop, spec.stop.length));
    }
    if (spec.stopTokens !== undefined && spec.stopTokens.length > 0) {
      check(C.ember_generate_options_set_stop_tokens(o, Int32Array.from(spec.stopTokens), spec.stopTokens.length));
    }
    return o;
  } catch (e) {
    C.ember_generate_options_free(o);
    throw e;
  }
}

export function withGenerateOptions(spec, fn) {
  return withHandle(buildGenerate, C.ember_generate_options_free, spec ?? {}, fn);
}
