import { TierTimeout } from './tier-deadline.ts';
import type { CacheTierName, TieredCacheOptions, TierStats } from './tiered-cache-types.ts';

type OnError = TieredCacheOptions<unknown>['onError'];

const newTierStats = (): TierStats => ({
  hits: 0,
  misses: 0,
  errors: 0,
  timeouts: 0,
  writes: 0,
  droppedWrites: 0,
});

/** One tiered cache's counters, and the one place tier failures are reported. */
export class TierCounters {
  gets = 0;
  readonly tiers: Record<CacheTierName, TierStats> = {
    l1: newTierStats(),
    l2: newTierStats(),
    l3: newTierStats(),
  };
  readonly #onError: OnError;

  constructor(onError: OnError) {
    this.#onError = onError;
  }

  /** Counts a failed or timed-out read or write and tells `onError`. */
  failed(tier: CacheTierName, op: 'get' | 'set', error: unknown): void {
    this.tiers[tier].errors++;
    if (error instanceof TierTimeout) this.tiers[tier].timeouts++;
    try {
      this.#onError?.(tier, op, error);
    } catch {
      // A broken logger must not turn a skipped tier into a failed request.
    }
  }

  /** A copy of the tier's counters, or null when the cache has no such tier. */
  snapshot(tier: CacheTierName, present: boolean): TierStats | null {
    return present ? { ...this.tiers[tier] } : null;
  }
}
