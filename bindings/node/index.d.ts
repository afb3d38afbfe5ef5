// Type declarations of the ember Node.js binding (index.js). See README.md.

export declare const Status: Readonly<{
  OK: 0; INVALID_ARGUMENT: 1; IO: 2; INVALID_MODEL: 3; UNSUPPORTED: 4; OUT_OF_MEMORY: 5; CONTEXT_FULL: 6;
  CANCELLED: 7; INVALID_TOKEN: 8; INVALID_UTF8: 9; BUFFER_TOO_SMALL: 10; INTERNAL: 11; BAD_STATE: 12;
}>;
export declare const StopReason: Readonly<{
  NONE: 0; EOS: 1; STRING: 2; MAX_TOKENS: 3; CALLBACK: 4; CANCELLED: 5; CONTEXT_FULL: 6; TOKEN: 7; GRAMMAR: 8;
}>;
export declare const TokenizeFlags: Readonly<{ DEFAULT: 0; ADD_BOS: 1; NO_BOS: 2; PARSE_SPECIAL: 4 }>;
export declare const GrammarKind: Readonly<{ none: 0; gbnf: 1; json_schema: 2; json_object: 3 }>;
export declare const KvType: Readonly<{ f32: 0; f16: 1; bf16: 2 }>;
export declare const WeightFormat: Readonly<{ as_stored: 0; q8_0: 1; q4_0: 2 }>;

/** The path libember was loaded from. */
export declare const libraryPath: string;
export declare function version(): string;
export declare function versionNumber(): number;
/** ember_status_name: "EMBER_ERR_IO", ..., "EMBER_ERR_UNKNOWN". */
export declare function statusName(status: number): string;

export declare class EmberError extends Error {
  /** A Status value (or a newer library's code). */
  readonly status: number;
  /** The status's C name, from ember_status_name. */
  readonly code: string;
  /** ember_last_error(), read on the thread of the failed call. */
  readonly detail: string;
  /** For a cancelled or context-full generation: what it produced (kept in the session). */
  completion?: Completion;
}

export interface SamplerOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number | bigint;
  presencePenalty?: number;
  frequencyPenalty?: number;
  logitBias?: Record<number, number> | Map<number, number>;
  grammar?: { kind: keyof typeof GrammarKind; text?: string };
}

export interface SessionOptions {
  nCtx?: number;
  nThreads?: number;
  maxKvBytes?: number | bigint;
  contextShift?: { nKeep?: number } | false;
  kvType?: keyof typeof KvType;
  sampler?: SamplerOptions;
}

export interface GenerateOptions {
  maxTokens?: number;
  ignoreEos?: boolean;
  stop?: string[];
  stopTokens?: number[];
  tokenizeFlags?: number;
}

export interface Piece {
  /** The token id, or -1 for the text before a stop string. */
  token: number;
  text: string;
}

export declare class Completion {
  readonly text: string;
  readonly tokens: number[];
  readonly stopReason: number;
  readonly nGenerated: number;
}

export interface Stream extends AsyncIterable<Piece> {
  readonly completion: Promise<Completion>;
}

export interface ChatMessage {
  role: string;
  content: string;
}

export declare class Model {
  static load(path: string, options?: { weightFormat?: keyof typeof WeightFormat }): Model;
  readonly closed: boolean;
  readonly nVocab: number;
  readonly nTokens: number;
  readonly nCtxTrain: number;
  readonly bos: number;
  readonly eos: number;
  readonly architecture: string;
  readonly addsBos: boolean;
  readonly chatTemplate: string;
  isEog(token: number): boolean;
  tokenize(text: string, flags?: number): number[];
  detokenizeBytes(tokens: number[], options?: { skipSpecial?: boolean }): Buffer;
  detokenize(tokens: number[], options?: { skipSpecial?: boolean }): string;
  applyChat(messages: ChatMessage[], options?: { addGenerationPrompt?: boolean; template?: string | null }): string;
  applyChatJson(context: object, options?: { template?: string | null }): string;
  createSession(options?: SessionOptions): Session;
  close(): void;
}

export declare class Session {
  readonly model: Model;
  readonly closed: boolean;
  readonly nPast: number;
  readonly nCtx: number;
  readonly kvBytes: number;
  reset(): void;
  eval(tokens: number[]): undefined;
  eval(tokens: number[], options: { allLogits: true }): Float32Array;
  logits(): Float32Array;
  sample(): number;
  setSampler(sampler?: SamplerOptions): void;
  cancel(): void;
  tokens(): number[];
  truncate(nKeep: number): void;
  clone(): Session;
  saveState(): Buffer;
  loadState(bytes: Uint8Array): void;
  saveStateFile(path: string): void;
  loadStateFile(path: string): void;
  evalReuse(tokens: number[]): number;
  generateSync(prompt: string, options?: GenerateOptions, onToken?: (token: number, text: string) => boolean | void): Completion;
  stream(prompt: string, options?: GenerateOptions): Stream;
  complete(prompt: string, options?: GenerateOptions): Promise<Completion>;
  close(): void;
}
