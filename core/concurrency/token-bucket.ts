/**
 * A token bucket: `capacity` tokens, refilled at `refillPerSecond`. Bounds
 * how fast the engine calls the model, so a burst of traffic degrades to
 * heuristic plans instead of a provider's 429s.
 */
export function createTokenBucket(options: {
  capacity: number;
  refillPerSecond: number;
  now?: () => number;
}) {
  const now = options.now ?? (() => performance.now());
  let tokens = options.capacity;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(options.capacity, tokens + ((t - last) / 1000) * options.refillPerSecond);
    last = t;
  };
  return {
    /** Takes a token if one is available now. */
    tryTake(): boolean {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    /** Waits up to `maxWaitMs` for a token; false when none came in time. */
    async take(maxWaitMs: number): Promise<boolean> {
      refill();
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      const waitMs = ((1 - tokens) / options.refillPerSecond) * 1000;
      if (waitMs > maxWaitMs) return false;
      tokens -= 1; // reserve the token that will have refilled by then
      await new Promise((r) => setTimeout(r, waitMs));
      return true;
    },
    available(): number {
      refill();
      return Math.max(0, Math.floor(tokens));
    },
  };
}

export type TokenBucket = ReturnType<typeof createTokenBucket>;

/**
 * A bucket a caller waits on for one token: this process's own
 * (`createTokenBucket`) or one several processes share (over IPC, in Redis).
 * Resolves false when no token comes within `maxWaitMs`; never rejects.
 */
export interface WaitingTokenBucket {
  take(maxWaitMs: number): Promise<boolean>;
}

/** A token-bucket policy: `burst` tokens at most, refilled at `perSecond`. */
export interface RatePolicy {
  perSecond: number;
  burst: number;
}

/** What taking one token from a key's bucket decided. */
export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** How long until a whole token is available (0 while one is). */
  nextTokenMs: number;
  /** How long until the bucket is full again. */
  fullInMs: number;
}

/**
 * Takes tokens from per-key buckets that share one policy. In-process buckets
 * answer at once; shared ones (Redis) answer with a promise.
 */
export interface RateLimiter {
  readonly policy: RatePolicy;
  take(key: string): RateDecision | Promise<RateDecision>;
}

/** The decision for a bucket left holding `tokens` (a fraction counts toward the next whole one). */
export function rateDecision(policy: RatePolicy, allowed: boolean, tokens: number): RateDecision {
  const msPerToken = 1000 / policy.perSecond;
  return {
    allowed,
    remaining: Math.max(0, Math.floor(tokens)),
    nextTokenMs: tokens >= 1 ? 0 : Math.ceil((1 - tokens) * msPerToken),
    fullInMs: Math.ceil((policy.burst - tokens) * msPerToken),
  };
}

/**
 * Token buckets by key in this process, for per-caller rate limits. Memory is
 * bounded: beyond `maxKeys` the least recently seen key's bucket is dropped
 * (it comes back full, as it would have refilled by then in most cases).
 * One small object per key; `take` allocates only its decision.
 */
export function createKeyedTokenBuckets(
  policy: RatePolicy,
  options: { maxKeys?: number; now?: () => number } = {},
) {
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? (() => performance.now());
  // Insertion order is recency order: a used bucket is moved to the end.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    policy,
    /** Takes one token from `key`'s bucket if it has one. */
    take(key: string): RateDecision {
      const t = now();
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        const refill = ((t - bucket.at) / 1000) * policy.perSecond;
        bucket.tokens = Math.min(policy.burst, bucket.tokens + Math.max(0, refill));
        bucket.at = t;
      } else {
        bucket = { tokens: policy.burst, at: t };
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next();
          if (!oldest.done) buckets.delete(oldest.value);
        }
      }
      buckets.set(key, bucket);
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      return rateDecision(policy, allowed, bucket.tokens);
    },
    get size(): number {
      return buckets.size;
    },
  };
}

export type KeyedTokenBuckets = ReturnType<typeof createKeyedTokenBuckets>;
