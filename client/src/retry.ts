/** How a client retries: bounded attempts, exponential backoff, `Retry-After` honoured. */
export interface RetryOptions {
  /** Requests per call, the first included (default 3; 1 turns retries off). */
  maxAttempts?: number;
  /** The first backoff, doubled after each failed attempt (default 250 ms). */
  baseDelayMs?: number;
  /** The longest backoff between two attempts (default 5 s); `Retry-After` is not capped by it. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
};

/**
 * `Retry-After` in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3);
 * null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The wait before attempt `attempt + 1`: exponential, with jitter so clients spread out. */
export function backoffDelay(
  attempt: number,
  policy: Required<RetryOptions>,
  random = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Whether an answer with `status` may be tried again. A 429 always may: the
 * rate limiter refuses a request before its route runs. A 503 (a dependency
 * down, or load shed) only when the request is safe to send twice.
 */
export function retryableStatus(status: number, safeToRepeat: boolean): boolean {
  return status === 429 || (status === 503 && safeToRepeat);
}
