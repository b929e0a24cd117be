import type { ApiErrorCode } from './api-types.ts';

/** Failures found on the client's side, with no answer from the API (`status` is null). */
export type ClientErrorCode =
  /** The call ran past the client's (or the call's) `timeoutMs`. */
  | 'client_timeout'
  /** The caller's `AbortSignal` fired. */
  | 'aborted'
  /** The request could not be sent or its answer not read (refused, reset, DNS). */
  | 'network_error'
  /** The API answered with something that is not its JSON (a proxy's page, say). */
  | 'invalid_response'
  /** The call needs a key the client was not given (`apiKey` or `adminKey`). */
  | 'missing_key';

/** The API's codes, the client's own, or a code a newer API added. */
export type MemoryEngineErrorCode = ApiErrorCode | ClientErrorCode | (string & {});

export interface MemoryEngineErrorInit {
  code: MemoryEngineErrorCode;
  message: string;
  status: number | null;
  requestId: string | null;
  details?: Record<string, unknown> | undefined;
  retryAfterMs?: number | null;
  attempts?: number;
  cause?: unknown;
}

/**
 * Every failure of a client call: an error answer of the API (its `code`,
 * `message` and HTTP `status`), or one of the client's own (`status` null).
 * `requestId` is the id the API logged the request under (the client sends
 * one of its own, so even a timeout has one to quote).
 */
export class MemoryEngineError extends Error {
  readonly code: MemoryEngineErrorCode;
  /** The HTTP status, or null when no answer came. */
  readonly status: number | null;
  /** The request id (`x-request-id`, `error.request_id`): quote it when reporting. */
  readonly requestId: string | null;
  /** The API's `error.details`: `issues` on a 400, `retry_after_s` on a 429, … */
  readonly details: Record<string, unknown> | undefined;
  /** What `Retry-After` asked for, in ms, when the answer carried one. */
  readonly retryAfterMs: number | null;
  /** How many requests the call made before it gave up. */
  readonly attempts: number;

  constructor(init: MemoryEngineErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'MemoryEngineError';
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.details = init.details;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.attempts = init.attempts ?? 1;
  }
}

/** Whether `error` is a {@link MemoryEngineError}, optionally with the given code. */
export function isMemoryEngineError(
  error: unknown,
  code?: MemoryEngineErrorCode,
): error is MemoryEngineError {
  return error instanceof MemoryEngineError && (code === undefined || error.code === code);
}
