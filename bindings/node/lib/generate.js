// One ember_session_generate_ex() call, shared by the synchronous API (session.js) and the
// generation worker (generate_worker.js), so both deliver exactly the same pieces.
import { C, TokenCallback, decodeBytes, koffi, utf8 } from './native.js';
import { withGenerateOptions } from './options.js';

/** Why generation stopped (EMBER_STOP_*). */
export const StopReason = Object.freeze({
  NONE: 0, EOS: 1, STRING: 2, MAX_TOKENS: 3, CALLBACK: 4, CANCELLED: 5, CONTEXT_FULL: 6, TOKEN: 7, GRAMMAR: 8,
});

/**
 * Runs generate_ex on `session` (a C handle) on the calling thread. onPiece(token, text) is
 * called for each piece (token -1: text before a stop string) and returns true to stop.
 * Returns {status, message, nGenerated, stopReason}: the message is ember_last_error() of
 * this thread, read here because it is thread-local.
 */
export function runGenerate(session, prompt, spec, onPiece) {
  const promptBytes = utf8(prompt);
  const flags = spec?.tokenizeFlags ?? 0;
  const { tokenizeFlags, ...generateSpec } = spec ?? {};
  let thrown = null;
  const callback = koffi.register((userData, token, text, textLen) => {
    try {
      return onPiece(token, decodeBytes(text, Number(textLen)).toString('utf8')) ? 1 : 0;
    } catch (e) {
      thrown = e; // an exception must not cross C: stop, and rethrow it after the call
      return 1;
    }
  }, koffi.pointer(TokenCallback));
  try {
    return withGenerateOptions(generateSpec, (options) => {
      const nGenerated = [0];
      const stopReason = [0];
      const status = C.ember_session_generate_ex(session, promptBytes, promptBytes.length, flags, options,
                                                 callback, null, nGenerated, stopReason);
      if (thrown) throw thrown;
      return {
        status, message: status === 0 ? '' : C.ember_last_error(),
        nGenerated: nGenerated[0], stopReason: stopReason[0],
      };
    });
  } finally {
    koffi.unregister(callback);
  }
}
