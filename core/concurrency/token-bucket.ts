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
