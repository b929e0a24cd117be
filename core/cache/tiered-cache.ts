import { AppError } from '../errors.ts';
import { identityCodec } from './cache-envelope.ts';
import { TierCounters } from './tier-counters.ts';
import { TierReader } from './tier-reader.ts';
import { TierWriter } from './tier-writer.ts';
import type { TieredCache, TieredCacheOptions } from './tiered-cache-types.ts';

export type {
  CacheCodec,
  CacheTier,
  CacheTierName,
  RecordTier,
  TieredCache,
  TieredCacheOptions,
  TieredCacheStats,
  TierStats,
} from './tiered-cache-types.ts';
export { relationalPlanTier } from './relational-plan-tier.ts';

/** The options' timings with their defaults; throws when one is not a positive number. */
function checkedTimings(options: TieredCacheOptions<unknown>) {
  const { ttlMs, readTimeoutMs = 50, writeTimeoutMs = 2_000, maxPendingWrites = 256 } = options;
  for (const [what, ms] of Object.entries({ ttlMs, readTimeoutMs, writeTimeoutMs })) {
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new AppError('internal', `cache ${options.name}: ${what} must be positive, got ${ms}`);
    }
  }
  return { ttlMs, readTimeoutMs, writeTimeoutMs, maxPendingWrites };
}

/**
 * A cache over up to three tiers with one key space: L1 in this process,
 * L2 shared by several processes (Redis), L3 durable (the relational store).
 * A tier that fails or answers late is skipped and counted, so a dead Redis
 * or database costs at most `readTimeoutMs` per read and never an error.
 */
export function createTieredCache<V extends NonNullable<unknown>>(
  options: TieredCacheOptions<V>,
): TieredCache<V> {
  const { name, l1, l2, l3, enabled } = options;
  const { ttlMs, readTimeoutMs, writeTimeoutMs, maxPendingWrites } = checkedTimings(options);
  const codec = options.codec ?? identityCodec<V>();
  const counters = new TierCounters(options.onError);
  const tiers = { l1, l2, l3, codec, counters };
  const writer = new TierWriter<V>({ ...tiers, writeTimeoutMs, maxPendingWrites });
  const reader = new TierReader<V>({ ...tiers, writer, readTimeoutMs });

  return {
    name,

    async get(key) {
      counters.gets++;
      if (!enabled) return { value: null, tier: 'off' };
      return reader.read(key);
    },

    set(key, value) {
      if (!enabled) return;
      reader.written(key);
      writer.write(key, value, ttlMs);
    },

    flush: () => writer.flush(),
    clear: () => l1?.clear() ?? 0,
    purgeExpired: () => l1?.purgeExpired() ?? 0,
    bytes: () => l1?.bytes() ?? 0,

    stats: () => ({
      name,
      enabled,
      gets: counters.gets,
      lru: l1?.stats() ?? null,
      l1: counters.snapshot('l1', Boolean(l1)),
      l2: counters.snapshot('l2', Boolean(l2)),
      l3: counters.snapshot('l3', Boolean(l3)),
    }),
  };
}
