// Status codes, EmberError and the one place a C status becomes an exception.
import { C } from './native.js';

/** ember_status values (ember.h): fixed forever; unknown non-zero values are failures too. */
export const Status = Object.freeze({
  OK: 0,
  INVALID_ARGUMENT: 1,
  IO: 2,
  INVALID_MODEL: 3,
  UNSUPPORTED: 4,
  OUT_OF_MEMORY: 5,
  CONTEXT_FULL: 6,
  CANCELLED: 7,
  INVALID_TOKEN: 8,
  INVALID_UTF8: 9,
  BUFFER_TOO_SMALL: 10,
  INTERNAL: 11,
  BAD_STATE: 12,
});

/** The library's name of a status ("EMBER_ERR_IO"; "EMBER_ERR_UNKNOWN" for unknown values). */
export function statusName(status) {
  return C.ember_status_name(status);
}

/** A failed ember call: `status` (a Status value), `code` (its C name) and the library's message. */
export class EmberError extends Error {
  constructor(status, message) {
    const code = statusName(status);
    super(`${code}: ${message}`);
    this.name = 'EmberError';
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

/** Throws an EmberError for a failed status, with ember_last_error() of this thread. */
export function check(status) {
  if (status !== Status.OK) throw new EmberError(status, C.ember_last_error());
}
