import { createCallScope, type CallScope } from './call-scope.ts';
import { MemoryEngineError } from './errors.ts';
import { backoffDelay, parseRetryAfter, retryableStatus, type RetryOptions } from './retry.ts';

/** Per-call options, beside the call's own input. */
export interface CallOptions {
  /** Ends the call (and any retry wait) when it fires: the call rejects with code `aborted`. */
  signal?: AbortSignal;
  /** This call's deadline, every attempt and wait included (default: the client's `timeoutMs`). */
  timeoutMs?: number;
  /** The `x-request-id` to send, which the API logs and answers with (default: a new UUID). */
  requestId?: string;
  /** Requests this call may make, the first included (default: the client's `retry.maxAttempts`). */
  maxAttempts?: number;
}

/** Told before each retry: what failed, and how long the client waits before trying again. */
export interface RetryEvent {
  method: string;
  path: string;
  /** The attempt that failed (1 for the first request). */
  attempt: number;
  delayMs: number;
  error: MemoryEngineError;
}

export interface TransportOptions {
  baseUrl: string;
  apiKey: string | undefined;
  adminKey: string | undefined;
  timeoutMs: number;
  retry: Required<RetryOptions>;
  fetch: typeof fetch;
  headers: Record<string, string>;
  onRetry: ((event: RetryEvent) => void) | undefined;
}

/** One route call, as the client methods describe it. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path, its parameters already encoded. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  auth: 'user' | 'admin' | 'none';
  /**
   * Whether sending the request twice does no more than sending it once, so
   * that a 503 or a lost answer may be retried (a 429 always may).
   */
  safeToRepeat: boolean;
  /** Error statuses whose body is the call's answer (`/readyz`'s 503). */
  answers?: readonly number[];
  /** A 404 on a retry means the first attempt did the work (a delete whose answer was lost). */
  goneIsDone?: boolean;
}

type Outcome =
  { ok: true; value: unknown } | { ok: false; error: MemoryEngineError; retryable: boolean };

export const newRequestId = (): string =>
  globalThis.crypto?.randomUUID?.() ??
  `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

export function keyFor(
  options: TransportOptions,
  spec: RequestSpec,
  requestId: string,
): string | null {
  if (spec.auth === 'none') return null;
  const key = spec.auth === 'admin' ? options.adminKey : options.apiKey;
  if (key) return key;
  throw new MemoryEngineError({
    code: 'missing_key',
    message: `${spec.method} ${spec.path} needs ${spec.auth === 'admin' ? 'an admin key (adminKey)' : 'an API key (apiKey)'}`,
    status: null,
    requestId,
    attempts: 0,
  });
}

export function urlOf(baseUrl: string, spec: RequestSpec): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${spec.path}`;
  for (const [name, value] of Object.entries(spec.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.toString();
}

/** A fetch failure in a line: its message and, where the runtime gives one, the system's code. */
export function describeFailure(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as { cause?: { code?: unknown; message?: unknown } }).cause;
  const why = typeof inner?.code === 'string' ? inner.code : inner?.message;
  return typeof why === 'string' && why ? `${cause.message} (${why})` : cause.message;
}

/** The API's error envelope, or an `invalid_response` when the body is not one. */
export function errorOfAnswer(
  status: number,
  text: string,
  requestId: string,
  retryAfterMs: number | null,
  attempts: number,
): MemoryEngineError {
  let envelope: { error?: { code?: unknown; message?: unknown; request_id?: unknown } } = {};
  try {
    envelope = JSON.parse(text) as typeof envelope;
  } catch {
    // Not JSON: reported as such below.
  }
  const error = envelope.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    return new MemoryEngineError({
      code: 'invalid_response',
      message: `HTTP ${status} with a body that is not the API's error envelope`,
      status,
      requestId,
      retryAfterMs,
      attempts,
    });
  }
  const details = (error as { details?: unknown }).details;
  return new MemoryEngineError({
    code: error.code,
    message: error.message,
    status,
    requestId: typeof error.request_id === 'string' ? error.request_id : requestId,
    details:
      typeof details === 'object' && details !== null
        ? (details as Record<string, unknown>)
        : undefined,
    retryAfterMs,
    attempts,
  });
}

/** One request and its answer, as a value or as an error that says whether to retry. */
async function attemptOnce(
  options: TransportOptions,
  spec: RequestSpec,
  init: RequestInit,
  scope: CallScope,
  requestId: string,
  attempt: number,
): Promise<Outcome> {
  let status: number;
  let text: string;
  let answeredId: string;
  let retryAfterMs: number | null;
  try {
    const res = await options.fetch(urlOf(options.baseUrl, spec), {
      ...init,
      signal: scope.signal,
    });
    status = res.status;
    answeredId = res.headers.get('x-request-id') ?? requestId;
    retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    text = await res.text();
  } catch (cause) {
    const stopped = scope.stopped(attempt, cause);
    if (stopped) return { ok: false, error: stopped, retryable: false };
    const error = new MemoryEngineError({
      code: 'network_error',
      message: `could not reach ${options.baseUrl}: ${describeFailure(cause)}`,
      status: null,
      requestId,
      attempts: attempt,
      cause,
    });
    return { ok: false, error, retryable: spec.safeToRepeat };
  }
  if ((status >= 200 && status < 300) || spec.answers?.includes(status)) {
    if (text === '') return { ok: true, value: undefined };
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      const error = new MemoryEngineError({
        code: 'invalid_response',
        message: `HTTP ${status} with a body that is not JSON`,
        status,
        requestId: answeredId,
        attempts: attempt,
      });
      return { ok: false, error, retryable: false };
    }
  }
  if (spec.goneIsDone && attempt > 1 && status === 404) return { ok: true, value: undefined };
  const error = errorOfAnswer(status, text, answeredId, retryAfterMs, attempt);
  return { ok: false, error, retryable: retryableStatus(status, spec.safeToRepeat) };
}

/**
 * Sends `spec` and resolves to its JSON answer (undefined for 204). A 429 is
 * retried, and a 503 or a network failure when the request is safe to
 * repeat, up to `maxAttempts` requests: after `Retry-After` when the answer
 * carries one, else after an exponential backoff. A wait that would outlast
 * the call's deadline is not started: the last error is thrown instead.
 */
export async function send<T>(
  options: TransportOptions,
  spec: RequestSpec,
  call: CallOptions = {},
): Promise<T> {
  const requestId = call.requestId ?? newRequestId();
  const key = keyFor(options, spec, requestId);
  const maxAttempts = Math.max(1, call.maxAttempts ?? options.retry.maxAttempts);
  const timeoutMs = call.timeoutMs ?? options.timeoutMs;
  const init: RequestInit = {
    method: spec.method,
    headers: {
      ...options.headers,
      accept: 'application/json',
      'x-request-id': requestId,
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
  };
  const scope = createCallScope(timeoutMs, call.signal, requestId);
  try {
    for (let attempt = 1; ; attempt++) {
      const early = scope.stopped(attempt - 1);
      if (early) throw early;
      const outcome = await attemptOnce(options, spec, init, scope, requestId, attempt);
      if (outcome.ok) return outcome.value as T;
      const { error } = outcome;
      if (!outcome.retryable || attempt >= maxAttempts) throw error;
      const delayMs = error.retryAfterMs ?? backoffDelay(attempt, options.retry);
      if (delayMs >= scope.remainingMs()) throw error;
      options.onRetry?.({ method: spec.method, path: spec.path, attempt, delayMs, error });
      await scope.sleep(delayMs).catch((cause: unknown) => {
        throw scope.stopped(attempt, cause) ?? cause;
      });
    }
  } finally {
    scope.dispose();
  }
}
