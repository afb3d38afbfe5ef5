// ember for Node.js: the C library (libember) through koffi. See README.md.
import { C, libraryPath } from './lib/native.js';

export { EmberError, Status, statusName } from './lib/errors.js';
export { GrammarKind, KvType } from './lib/options.js';
export { Model, TokenizeFlags, WeightFormat } from './lib/model.js';
export { Completion, Session, StopReason } from './lib/session.js';
export { libraryPath };

/** The loaded library's version string ("0.1.0"). */
export function version() { return C.ember_version(); }

/** The loaded library's version number (MAJOR*1000000 + MINOR*1000 + PATCH). */
export function versionNumber() { return C.ember_version_number(); }
