import { ApiError } from '@google/genai';
import { AppError } from '../../core/errors.ts';

/** What was being done when a Gemini call failed, for messages and details. */
export interface GeminiFailureContext {
  operation: string;
  model: string;
  /** True when our own deadline aborted the call. */
  timedOut?: boolean;
  /** True when the adapter was closed while the call was in flight. */
  closed?: boolean;
  timeoutMs?: number;
}

interface RpcError {
  status?: string;
  message?: string;
  details?: { '@type'?: string; retryDelay?: string; reason?: string }[];
}

/** The `error` object of Google's JSON error body, which the SDK puts in `ApiError.message`. */
function rpcErrorOf(error: ApiError): RpcError | undefined {
  try {
    const body = JSON.parse(error.message) as { error?: RpcError } | null;
    return body && typeof body.error === 'object' ? body.error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Seconds to wait before retrying, from the `google.rpc.RetryInfo` detail
 * (`"retryDelay": "7s"`) or, failing that, a "retry in 7.5s" message. The SDK
 * does not expose response headers on errors, so `Retry-After` is out of reach.
 */
export function retryAfterSecondsOf(rpc: RpcError | undefined): number | undefined {
  const delay = rpc?.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const text = delay ?? /retry in ([\d.]+)\s*s/i.exec(rpc?.message ?? '')?.[1];
  const seconds = text === undefined ? Number.NaN : Number.parseFloat(text);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** `instanceof` plus a shape check, in case the SDK is loaded twice (ESM and CJS copies). */
function asApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (!(error instanceof Error) || error.name !== 'ApiError') return undefined;
  return typeof (error as { status?: unknown }).status === 'number'
    ? (error as ApiError)
    : undefined;
}

/**
 * A refused key or model (401, 403, 404, or Google's 400 `API_KEY_INVALID`):
 * fixed by an operator, not by the caller changing its input, so it is a
 * dependency failure callers retry, never a reason to give up on the input.
 */
function isProviderAuthError(status: number, rpc: RpcError | undefined): boolean {
  if (status === 401 || status === 403 || status === 404) return true;
  return (
    status === 400 &&
    (rpc?.details ?? []).some(
      (d) => d['@type']?.endsWith('google.rpc.ErrorInfo') && d.reason === 'API_KEY_INVALID',
    )
  );
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * Maps any failure of a `@google/genai` call to an `AppError`: 429 is
 * `rate_limited` (with `retryAfterSeconds` in details when known), our
 * deadline, 408 and 504 are `timeout`; a refused key or model (401, 403,
 * 404, 400 `API_KEY_INVALID`; `details.auth`), other 5xx and network
 * failures are `dependency_unavailable`; other 4xx are `bad_request`.
 */
export function toGeminiAppError(error: unknown, context: GeminiFailureContext): AppError {
  if (error instanceof AppError) return error;
  const where = `Gemini ${context.operation} (${context.model})`;
  const base = { provider: 'gemini', model: context.model, operation: context.operation };
  if (isAbortError(error) || context.timedOut || context.closed) {
    if (context.timedOut) {
      return new AppError('timeout', `${where} timed out after ${context.timeoutMs} ms`, {
        cause: error,
        details: { ...base, timeoutMs: context.timeoutMs },
      });
    }
    const why = context.closed ? 'was cancelled: the client is closed' : 'was aborted';
    return new AppError('dependency_unavailable', `${where} ${why}`, {
      cause: error,
      details: base,
    });
  }
  const apiError = asApiError(error);
  if (apiError) {
    const rpc = rpcErrorOf(apiError);
    const status = apiError.status;
    const details = { ...base, status, providerStatus: rpc?.status };
    const reason = rpc?.message ?? `HTTP ${status}`;
    if (status === 429) {
      const retryAfterSeconds = retryAfterSecondsOf(rpc);
      const hint = retryAfterSeconds === undefined ? '' : ` (retry after ${retryAfterSeconds}s)`;
      return new AppError('rate_limited', `${where} was rate limited${hint}: ${reason}`, {
        cause: error,
        details: retryAfterSeconds === undefined ? details : { ...details, retryAfterSeconds },
      });
    }
    if (status === 408 || status === 504) {
      return new AppError('timeout', `${where} timed out upstream: ${reason}`, {
        cause: error,
        details,
      });
    }
    if (isProviderAuthError(status, rpc)) {
      return new AppError(
        'dependency_unavailable',
        `${where} refused our credentials or model: ${reason}`,
        {
          cause: error,
          details: { ...details, auth: true },
        },
      );
    }
    if (status >= 500) {
      return new AppError('dependency_unavailable', `${where} failed: ${reason}`, {
        cause: error,
        details,
      });
    }
    return new AppError('bad_request', `${where} was rejected: ${reason}`, {
      cause: error,
      details,
    });
  }
  // Network failures (`TypeError: fetch failed`), unreadable bodies and anything
  // else unexpected: the provider is unusable right now, callers fall back.
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('dependency_unavailable', `${where} failed: ${message}`, {
    cause: error,
    details: base,
  });
}
