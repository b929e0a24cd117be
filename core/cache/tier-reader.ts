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

/**
 * How long this process believes a key L3 did not hold is still absent
 * there, and how many such keys it remembers. Most plan-cache reads are of
 * messages never planned before: each used to cost a database round trip
 * that found nothing. This process's own writes forget the absence at once
 * (and fill L1 anyway); another process's write to L3 alone is seen at most
 * this late (with L2 it is seen there first).
 */
export const L3_ABSENT_MS = 30_000;
export const L3_ABSENT_KEYS = 8_192;

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
  /** Keys L3 answered as absent, with when that answer goes stale (oldest first). */
  readonly #absentInL3 = new Map<string, number>();

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
    if (l3 && !this.#knownAbsent(key)) {
      const found = await this.#readLower(
        'l3',
        () => l3.get(key),
        () => this.#absent(key),
      );
      if (found) {
        writer.fillL1(key, found.value, found.remainingMs);
        writer.writeL2(key, found.envelope, found.remainingMs);
        return { value: found.value, tier: 'l3' };
      }
    }
    return { value: null, tier: 'miss' };
  }

  /** A write of `key` through this process: L3 may hold it from now on. */
  written(key: string): void {
    this.#absentInL3.delete(key);
  }

  #knownAbsent(key: string): boolean {
    const until = this.#absentInL3.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#absentInL3.delete(key);
    return false;
  }

  #absent(key: string): void {
    this.#absentInL3.delete(key);
    this.#absentInL3.set(key, Date.now() + L3_ABSENT_MS);
    if (this.#absentInL3.size > L3_ABSENT_KEYS) {
      this.#absentInL3.delete(this.#absentInL3.keys().next().value!);
    }
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

  /**
   * Reads one lower tier: the value and its remaining TTL, or null on a miss
   * or a failure; `onMiss` runs when the tier answered that it holds none
   * (not when it failed or was late).
   */
  async #readLower(
    tier: 'l2' | 'l3',
    read: () => Promise<unknown>,
    onMiss?: () => void,
  ): Promise<Found<V> | null> {
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
      onMiss?.();
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
      onMiss?.();
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
