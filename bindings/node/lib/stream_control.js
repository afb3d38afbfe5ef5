// The shared Int32Array between Session.stream() and its generation worker: indexes and the
// pacing window (see generate_worker.js).
export const STOP = 0; // set by the main thread: the consumer stopped reading
export const CONSUMED = 1; // pieces the consumer has taken
export const CANCELLED = 2; // set by Session.cancel(): wake the worker so ember sees the cancel
export const CONTROL_LENGTH = 3;
export const WINDOW = 32; // pieces the worker may run ahead of the consumer
