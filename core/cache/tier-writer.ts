import type { CacheStore } from '../ports/cache-store.ts';
import type { ByteLruCache } from './byte-lru-cache.ts';
import { sealEnvelope, type Envelope } from './cache-envelope.ts';
import type { TierCounters } from './tier-counters.ts';
import { withDeadline } from './tier-deadline.ts';
import type { CacheCodec, RecordTier } from './tiered-cache-types.ts';

export interface TierWriterOptions<V> {
  l1: ByteLruCache<V> | null;
  l2: CacheStore | null;
  l3: RecordTier | null;
  codec: CacheCodec<V>;
  counters: TierCounters;
  writeTimeoutMs: number;
  maxPendingWrites: number;
}

/**
 * The write side of a tiered cache: L1 at once, L2 and L3 in the background
 * with a deadline and a bound on writes in flight per tier. Never throws.
 */
export class TierWriter<V> {
  readonly #tiers: TierWriterOptions<V>;
  readonly #inFlight = { l2: 0, l3: 0 };
  readonly #pending = new Set<Promise<void>>();

  constructor(options: TierWriterOptions<V>) {
    this.#tiers = options;
  }

  /** Write-through of a fresh value for `ttlMs` to every tier. */
  write(key: string, value: V, ttlMs: number): void {
    const { l2, l3, codec, counters } = this.#tiers;
    this.fillL1(key, value, ttlMs);
    if (!l2 && !l3) return;
    let envelope: Envelope;
    try {
      // Encoded now, so a caller that changes the value afterwards cannot change what is stored.
      envelope = sealEnvelope(codec, value, ttlMs);
    } catch (error) {
      counters.failed(l2 ? 'l2' : 'l3', 'set', error);
      return;
    }
    this.writeL2(key, envelope, ttlMs);
    if (l3) this.#start('l3', () => l3.set(key, envelope, ttlMs));
  }

  /** Stores the value in L1 for `ttlMs`; a failure is counted, not thrown. */
  fillL1(key: string, value: V, ttlMs: number): void {
    const { l1, counters } = this.#tiers;
    if (!l1) return;
    try {
      l1.set(key, value, ttlMs);
    } catch (error) {
      counters.failed('l1', 'set', error);
    }
  }

  /** Starts a background write of the envelope to L2, if there is one. */
  writeL2(key: string, envelope: Envelope, ttlMs: number): void {
    const { l2, counters } = this.#tiers;
    if (!l2) return;
    let text: string;
    try {
      text = JSON.stringify(envelope);
    } catch (error) {
      counters.failed('l2', 'set', error);
      return;
    }
    this.#start('l2', () => l2.set(key, text, ttlMs));
  }

  /** Resolves once every background write started so far has settled. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #start(tier: 'l2' | 'l3', run: () => Promise<void>): void {
    const { counters, writeTimeoutMs, maxPendingWrites } = this.#tiers;
    if (this.#inFlight[tier] >= maxPendingWrites) {
      counters.tiers[tier].droppedWrites++;
      return;
    }
    this.#inFlight[tier]++;
    const done: Promise<void> = withDeadline(run, writeTimeoutMs)
      .then(
        () => {
          counters.tiers[tier].writes++;
        },
        (error: unknown) => counters.failed(tier, 'set', error),
      )
      .finally(() => {
        this.#inFlight[tier]--;
        this.#pending.delete(done);
      });
    this.#pending.add(done);
  }
}
