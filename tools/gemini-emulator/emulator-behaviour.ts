/** Latency and failure behaviour of the emulator's methods: specs, validation, seeded draws. */

/**
 * Delay before answering. Fixed at `medianMs` when `p95Ms` is omitted or not
 * above it; otherwise log-normal with that median and 95th percentile.
 */
export interface LatencySpec {
  medianMs: number;
  p95Ms?: number;
}

/** Per-call probabilities (each 0..1, summing to at most 1) of injected failures. */
export interface FailureSpec {
  /** 429 RESOURCE_EXHAUSTED with `Retry-After` and RetryInfo. */
  rateLimited?: number;
  /** 500 INTERNAL. */
  serverError?: number;
  /** Hold the request unanswered until the client gives up or the emulator closes. */
  timeout?: number;
  /** Seconds advertised by injected 429s; default 2. */
  retryAfterSeconds?: number;
}

/** How one method behaves; `null` clears a setting, omitted keeps it. */
export interface MethodBehaviour {
  latency?: LatencySpec | null;
  /** Replaces the method's whole failure spec (omitted rates become 0). */
  failures?: FailureSpec | null;
}

/** What an injected failure does to one call. */
export type Fault = 'rate_limited' | 'server_error' | 'timeout' | undefined;

const Z_95 = 1.6448536269514722;
export const NO_FAILURES: Required<FailureSpec> = {
  rateLimited: 0,
  serverError: 0,
  timeout: 0,
  retryAfterSeconds: 2,
};

export function sampleLatency(spec: LatencySpec | undefined, random: () => number): number {
  if (!spec) return 0;
  const { medianMs, p95Ms = medianMs } = spec;
  if (medianMs === 0 || p95Ms <= medianMs) return medianMs;
  const sigma = Math.log(p95Ms / medianMs) / Z_95;
  // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return medianMs * Math.exp(sigma * z);
}

export function drawFault(failures: Required<FailureSpec>, random: () => number): Fault {
  const r = random();
  if (r < failures.rateLimited) return 'rate_limited';
  if (r < failures.rateLimited + failures.serverError) return 'server_error';
  if (r < failures.rateLimited + failures.serverError + failures.timeout) return 'timeout';
  return undefined;
}

export function checkLatency(spec: LatencySpec): LatencySpec {
  const ok = (v: number | undefined) => v === undefined || (Number.isFinite(v) && v >= 0);
  if (!ok(spec.medianMs) || !ok(spec.p95Ms)) {
    throw new RangeError('latency medianMs and p95Ms must be finite numbers >= 0');
  }
  return { ...spec };
}

export function checkFailures(spec: FailureSpec): Required<FailureSpec> {
  const failures = { ...NO_FAILURES, ...spec };
  const rates = [failures.rateLimited, failures.serverError, failures.timeout];
  if (rates.some((r) => !(r >= 0 && r <= 1)) || rates.reduce((a, b) => a + b, 0) > 1 + 1e-9) {
    throw new RangeError('failure rates must each be in 0..1 and sum to at most 1');
  }
  if (!(failures.retryAfterSeconds >= 0 && Number.isFinite(failures.retryAfterSeconds))) {
    throw new RangeError('retryAfterSeconds must be a finite number >= 0');
  }
  return failures;
}

/** A behaviour patch after its checks: undefined keeps a setting, latency `null` clears it. */
export interface CheckedBehaviour {
  latency: LatencySpec | null | undefined;
  failures: Required<FailureSpec> | undefined;
}

/** Checks a behaviour patch, so a bad one throws before anything changes. */
export function checkBehaviour(patch: MethodBehaviour | undefined): CheckedBehaviour {
  return {
    latency: checkedSetting(patch?.latency, null, checkLatency),
    failures: checkedSetting(patch?.failures, NO_FAILURES, checkFailures),
  };
}

/** Omitted stays undefined (keep it), `null` becomes `cleared`, anything else is checked. */
function checkedSetting<T, R, C>(
  value: T | null | undefined,
  cleared: C,
  check: (value: T) => R,
): R | C | undefined {
  if (value === undefined) return undefined;
  return value === null ? cleared : check(value);
}
