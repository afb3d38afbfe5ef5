// The thread behind Session.stream()/complete(): runs one generate_ex call on the session
// whose address it is given (the main thread does not touch the session meanwhile, except
// ember_session_cancel(), which any thread may call) and posts each piece as it comes, then
// the result.
//
// The consumer paces the generation: after posting a piece the worker waits while it is more
// than WINDOW pieces ahead of what the consumer has read (control[CONSUMED]). So a consumer
// that stops reading stops the generation within WINDOW tokens, and a cancel or early stop
// always reaches a call that is still running.
import { parentPort, workerData } from 'node:worker_threads';
import { C, pointerFromAddress } from './native.js';
import { runGenerate } from './generate.js';
import { CANCELLED, CONSUMED, STOP, WINDOW } from './stream_control.js';

const { address, prompt, spec, controlBuffer } = workerData;
const control = new Int32Array(controlBuffer);
const session = pointerFromAddress(address);
let sent = 0;
try {
  const result = runGenerate(session, prompt, spec, (token, text) => {
    parentPort.postMessage({ type: 'piece', token, text });
    sent += 1;
    for (;;) {
      if (Atomics.load(control, STOP) !== 0) return true; // the consumer left: EMBER_STOP_CALLBACK
      if (Atomics.load(control, CANCELLED) !== 0) {
        // Repeat the cancel from inside the running call: one the main thread made before
        // the call started (during this worker's start-up) found no call and was ignored.
        C.ember_session_cancel(session);
        return false;
      }
      const consumed = Atomics.load(control, CONSUMED);
      if (sent - consumed <= WINDOW) return false;
      Atomics.wait(control, CONSUMED, consumed);
    }
  });
  parentPort.postMessage({ type: 'done', result });
} catch (e) {
  parentPort.postMessage({ type: 'thrown', name: e.name, message: e.message });
}
