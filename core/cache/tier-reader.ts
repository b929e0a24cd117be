import type { CacheStore } from '../ports/cache-store.ts';
import type { ByteLruCache } from './byte-lru-cache.ts';
import { isEnvelope, type Envelope } from './cache-envelope.ts';
import type { TierCounters } from './tier-counters.ts';
import { withDeadline } from './tier-deadline.ts';
import type { TierWriter } from './tier-writer.ts';
import type { CacheCodec, CacheTier, RecordTier } from './tiered-cache-types.ts';

export interface TierReaderOptions<V> {
  l1: ByteLruCache<V> | null;
  l2: CacheStore | null;
  l3: RecordTier | null;
  codec: CacheCodec<V>;
  counters: TierCounters;
  /** Fills the faster tiers with what a slower one found. */
  writer: TierWriter<V>;
  readTimeoutMs: number;
}

/** A lower tier's hit: the value, its envelope and the time it has left. */
interface Found<V> {
  value: V;
  envelope: Envelope;
  remainingMs: number;
}

/**
 * The read side of a tiered cache: L1, then L2 (a hit fills L1), then L3 (a
 * hit fills L1 and L2). A tier that fails or answers late is skipped and
 * counted, so a read never rejects.
 */
export class TierReader<V> {
  readonly #tiers: TierReaderOptions<V>;

  constructor(options: TierReaderOptions<V>) {
    this.#tiers = options;
  }

  async read(key: string): Promise<{ value: V | null; tier: CacheTier }> {
    const { l2, l3, writer } = this.#tiers;
    const inL1 = this.#readL1(key);
    if (inL1 !== undefined) return { value: inL1, tier: 'l1' };
    if (l2) {
      const found = await this.#readLower('l2', async () => {
        const text = await l2.get(key);
        return text === null ? null : (JSON.parse(text) as unknown);
      });
      if (found) {
        writer.fillL1(key, found.value, found.remainingMs);
        return { value: found.value, tier: 'l2' };
      }
    }
    if (l3) {
      const found = await this.#readLower('l3', () => l3.get(key));
      if (found) {
        writer.fillL1(key, found.value, found.remainingMs);
        writer.writeL2(key, found.envelope, found.remainingMs);
        return { value: found.value, tier: 'l3' };
      }
    }
    return { value: null, tier: 'miss' };
  }

  #readL1(key: string): V | undefined {
    const { l1, counters } = this.#tiers;
    if (!l1) return undefined;
    try {
      const value = l1.get(key);
      if (value !== undefined) counters.tiers.l1.hits++;
      else counters.tiers.l1.misses++;
      return value;
    } catch (error) {
      counters.failed('l1', 'get', error);
      return undefined;
    }
  }

  /** Reads one lower tier: the value and its remaining TTL, or null on a miss or a failure. */
  async #readLower(tier: 'l2' | 'l3', read: () => Promise<unknown>): Promise<Found<V> | null> {
    const { codec, counters, readTimeoutMs } = this.#tiers;
    let data: unknown;
    try {
      data = await withDeadline(read, readTimeoutMs);
    } catch (error) {
      counters.failed(tier, 'get', error);
      return null;
    }
    if (data === null || data === undefined) {
      counters.tiers[tier].misses++;
      return null;
    }
    if (!isEnvelope(data)) {
      counters.failed(tier, 'get', new Error(`${tier} holds something this cache did not write`));
      return null;
    }
    // The envelope decides, not the tier's own expiry, which may lag it (rounding, clocks).
    const remainingMs = data.e - Date.now();
    if (remainingMs <= 0) {
      counters.tiers[tier].misses++;
      return null;
    }
    const envelope = data;
    try {
      const value = codec.decode(envelope.v);
      counters.tiers[tier].hits++;
      return { value, envelope, remainingMs };
    } catch (error) {
      counters.failed(tier, 'get', error);
      return null;
    }
  }
}
