// Session: a KV cache plus sampler state on a model (ember_session). One call at a time:
// while an asynchronous generation runs on a worker thread, every other method but
// cancel() throws, and close() waits for the generation to end before freeing.
import { Worker } from 'node:worker_threads';
import { C, addressOf, koffi } from './native.js';
import { EmberError, Status, check } from './errors.js';
import { withGenerateOptions, withSamplerOptions } from './options.js';
import { StopReason, runGenerate } from './generate.js';
import { OwnedHandle } from './handle.js';
import { CANCELLED, CONSUMED, CONTROL_LENGTH, STOP } from './stream_control.js';

const WORKER_URL = new URL('./generate_worker.js', import.meta.url);

/** The outcome of a generation: the text, the ids reported, why it stopped and the count. */
export class Completion {
  constructor(text, tokens, stopReason, nGenerated) {
    this.text = text;
    this.tokens = tokens;
    this.stopReason = stopReason;
    this.nGenerated = nGenerated;
  }
}

// Collects the pieces of one generation into a Completion.
class Collector {
  constructor() {
    this.text = '';
    this.tokens = [];
  }

  add(token, text) {
    this.text += text;
    if (token >= 0) this.tokens.push(token);
  }

  finish(result) {
    // Cancelled and full-context generations are failures; what they produced stays in the
    // session and rides on the error.
    if (result.status !== Status.OK) {
      const error = new EmberError(result.status, result.message);
      error.completion = new Completion(this.text, this.tokens, result.stopReason, result.nGenerated);
      throw error;
    }
    return new Completion(this.text, this.tokens, result.stopReason, result.nGenerated);
  }
}

export class Session extends OwnedHandle {
  #model;
  #busy = false;
  #closeWhenIdle = false;
  #control = null; // the running stream's shared control array (stream_control.js)

  /** Use Model.createSession() (or Session.clone()). */
  constructor(pointer, model) {
    super(pointer, C.ember_session_free, 'Session');
    this.#model = model; // a session keeps its model's JS object alive (the C side counts too)
  }

  get model() { return this.#model; }

  // The handle for a call on this session; throws while a generation runs on a worker.
  #use() {
    if (this.#busy) {
      throw new EmberError(Status.BAD_STATE, 'a generation is running on this session (one call at a time)');
    }
    return this.pointer;
  }

  close() {
    if (this.#busy) {
      this.#closeWhenIdle = true; // freed when the worker's generation returns,
      Atomics.store(this.#control, STOP, 1); // which it does at its next token
      Atomics.notify(this.#control, CONSUMED);
      return;
    }
    super.close();
  }

  get nPast() { return C.ember_session_n_past(this.#use()); }
  get nCtx() { return C.ember_session_n_ctx(this.#use()); }
  get kvBytes() { return Number(C.ember_session_kv_bytes(this.#use())); }

  reset() { check(C.ember_session_reset(this.#use())); }

  /** Feeds token ids; with {allLogits: true} returns every position's logits (Float32Array). */
  eval(tokens, { allLogits = false } = {}) {
    const ids = Int32Array.from(tokens);
    const session = this.#use();
    if (!allLogits) {
      check(C.ember_session_eval(session, ids, ids.length, null, 0));
      return undefined;
    }
    const out = new Float32Array(ids.length * this.#model.nVocab);
    check(C.ember_session_eval(session, ids, ids.length, out, out.length));
    return out;
  }

  /** The last position's logits, copied (Float32Array of nVocab). */
  logits() {
    const pointer = [null];
    const n = [0];
    check(C.ember_session_logits(this.#use(), pointer, n));
    return Float32Array.from(koffi.decode(pointer[0], 'float', Number(n[0])));
  }

  /** Picks the next token with the session's sampler (not fed back: call eval). */
  sample() {
    const token = [0];
    check(C.ember_session_sample(this.#use(), token));
    return token[0];
  }

  /** Replaces the sampler (same fields as Model.createSession's `sampler`). */
  setSampler(sampler = {}) {
    const session = this.#use();
    withSamplerOptions(sampler, (o) => check(C.ember_session_set_sampler(session, o)));
  }

  /** Asks a running generation to stop (it then fails with EMBER_ERR_CANCELLED). Any time. */
  cancel() {
    check(C.ember_session_cancel(this.pointer));
    if (this.#control) { // a worker waiting for its reader must run on to see the cancel
      Atomics.store(this.#control, CANCELLED, 1);
      Atomics.notify(this.#control, CONSUMED);
    }
  }

  /** The token ids the session holds, in order. */
  tokens() {
    const session = this.#use();
    const n = [0];
    let ids = new Int32Array(this.nPast);
    let status = C.ember_session_tokens(session, ids, ids.length, n);
    if (status === Status.BUFFER_TOO_SMALL) {
      ids = new Int32Array(Number(n[0]));
      status = C.ember_session_tokens(session, ids, ids.length, n);
    }
    check(status);
    return Array.from(ids.subarray(0, Number(n[0])));
  }

  /** Keeps the first nKeep tokens and forgets the rest. */
  truncate(nKeep) { check(C.ember_session_truncate(this.#use(), nKeep)); }

  /** A new, independent session with this one's tokens, cache and sampler state. */
  clone() {
    const out = [null];
    check(C.ember_session_clone(this.#use(), out));
    return new Session(out[0], this.#model);
  }

  /** The session's state (tokens, KV cache, sampler) as bytes for loadState(). */
  saveState() {
    const session = this.#use();
    const size = [0];
    const status = C.ember_session_state_save(session, null, 0, size);
    if (status !== Status.BUFFER_TOO_SMALL) check(status);
    const buf = Buffer.alloc(Number(size[0]));
    check(C.ember_session_state_save(session, buf, buf.length, size));
    return buf.subarray(0, Number(size[0]));
  }

  loadState(bytes) { check(C.ember_session_state_load(this.#use(), bytes, bytes.length)); }

  /** saveState() into a file, atomically (the old file stays whole on failure). */
  saveStateFile(path) { check(C.ember_session_state_save_file(this.#use(), path)); }

  /** loadState() from a file. */
  loadStateFile(path) { check(C.ember_session_state_load_file(this.#use(), path)); }

  /**
   * Makes the session hold exactly `tokens`, keeping the longest common prefix and
   * evaluating only the rest; returns how many tokens were kept.
   */
  evalReuse(tokens) {
    const ids = Int32Array.from(tokens);
    const reused = [0];
    check(C.ember_session_eval_reuse(this.#use(), ids, ids.length, reused));
    return Number(reused[0]);
  }

  /**
   * Generates on the calling thread (blocks it). onToken(token, text), if given, is called
   * for each piece and may return true to stop. Options: maxTokens, ignoreEos, stop
   * (strings), stopTokens, tokenizeFlags. Returns a Completion.
   */
  generateSync(prompt, options = {}, onToken = undefined) {
    const collector = new Collector();
    const result = runGenerate(this.#use(), prompt, options, (token, text) => {
      collector.add(token, text);
      return onToken ? Boolean(onToken(token, text)) : false;
    });
    return collector.finish(result);
  }

  /**
   * Generates on a worker thread, so the event loop keeps running. Returns an async
   * iterable of {token, text} pieces (iterate it: the generation runs at most a few tokens
   * ahead of the reader); its `completion` promise gives the Completion, or the EmberError
   * the iteration also throws. Leaving the loop early stops the generation.
   */
  stream(prompt, options = {}) {
    const session = this.#use();
    withGenerateOptions(options, () => {}); // bad options throw here, on the caller's stack
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * Int32Array.BYTES_PER_ELEMENT));
    const worker = new Worker(WORKER_URL, {
      workerData: { address: addressOf(session), prompt, spec: options, controlBuffer: control.buffer },
    });
    this.#busy = true;
    this.#control = control;
    const collector = new Collector();
    const queue = [];
    let wake = null;
    let finished = false;
    const completion = new Promise((resolve, reject) => {
      const end = (settle) => {
        finished = true;
        this.#busy = false;
        this.#control = null;
        if (this.#closeWhenIdle) super.close();
        settle();
        if (wake) wake();
      };
      worker.on('message', (m) => {
        if (m.type === 'piece') {
          collector.add(m.token, m.text);
          queue.push({ token: m.token, text: m.text });
          if (wake) wake();
        } else if (m.type === 'done') {
          end(() => {
            try {
              resolve(collector.finish(m.result));
            } catch (e) {
              reject(e);
            }
          });
        } else {
          const error = new Error(m.message);
          error.name = m.name;
          end(() => reject(error));
        }
      });
      worker.on('error', (e) => { if (!finished) end(() => reject(e)); });
      worker.on('exit', (code) => {
        if (!finished) end(() => reject(new Error(`ember: the generation worker exited with code ${code}`)));
      });
    });
    completion.catch(() => {}); // a consumer that only iterates sees the error there
    const signal = (index) => {
      Atomics.add(control, index, 1);
      Atomics.notify(control, CONSUMED);
    };
    return {
      completion,
      [Symbol.asyncIterator]() {
        return {
          async next() {
            for (;;) {
              if (queue.length > 0) {
                signal(CONSUMED);
                return { value: queue.shift(), done: false };
              }
              if (finished) {
                await completion; // rethrows a failure of the generation
                return { value: undefined, done: true };
              }
              await new Promise((resolve) => { wake = resolve; });
              wake = null;
            }
          },
          async return() {
            signal(STOP);
            await completion.catch(() => {});
            return { value: undefined, done: true };
          },
        };
      },
    };
  }

  /** stream() read to the end: a promise of the Completion, without blocking the event loop. */
  async complete(prompt, options = {}) {
    const pieces = this.stream(prompt, options);
    for await (const piece of pieces) void piece; // the worker goes on as pieces are read
    return pieces.completion;
  }
}

export { StopReason };
