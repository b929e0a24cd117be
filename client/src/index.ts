// @memory-engine/client: a typed client of the memory-engine API over the
// global `fetch`, with retries that honour `Retry-After`, timeouts, abort
// signals and one error class.
export {
  MemoryEngineClient,
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
  type MemoryEngineClientOptions,
} from './client.ts';
export {
  MemoryEngineError,
  isMemoryEngineError,
  type ClientErrorCode,
  type MemoryEngineErrorCode,
} from './errors.ts';
export type { CallOptions, RetryEvent } from './transport.ts';
export type {
  ExportedMemoryLine,
  ExportedNarrativeLine,
  ExportLine,
  ExportOptions,
  ImportBody,
  ImportOptions,
  StreamCallOptions,
} from './portability.ts';
export { parseRetryAfter, type RetryOptions } from './retry.ts';
export type * from './api-types.ts';
export type * from './ops-types.ts';
