import { AppError } from '../errors.ts';
import type { CacheStore } from '../ports/cache-store.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import type { ByteLruCache, ByteLruCacheStats } from './byte-lru-cache.ts';
import { userIdOfKey } from './cache-keys.ts';

export type CacheTierName = 'l1' | 'l2' | 'l3';
/** Which tier answered a read; `off` when the cache is switched off. */
export type CacheTier = CacheTierName | 'miss' | 'off';

/** A durable tier (L3): JSON-safe records by key, each kept for a TTL. */
export interface RecordTier {
  get(key: string): Promise<unknown>;
  set(key: string, record: unknown, ttlMs: number): Promise<void>;
}

/** Turns a value into JSON-safe data for L2 and L3 and back (revive Dates here, say). */
export interface CacheCodec<V> {
  encode(value: V): unknown;
  /** Throws when `data` is not a value it encoded; the read then counts as an error. */
  decode(data: unknown): V;
}

export interface TieredCacheOptions<V> {
  name: string;
  l1: ByteLruCache<V> | null;
  l2: CacheStore | null;
  l3: RecordTier | null;
  /** How long an entry lives from the moment it is set, on every tier. */
  ttlMs: number;
  /** False: every read answers `off` and nothing is stored (the naive pipeline). */
  enabled: boolean;
  /** How long a read waits for L2 or L3 before skipping it (default 50 ms). */
  readTimeoutMs?: number;
  /** How long a background write may take before it counts as failed (default 2 s). */
  writeTimeoutMs?: number;
  /** Background writes in flight per tier; more are dropped and counted (default 256). */
  maxPendingWrites?: number;
  /** Default: values are JSON-safe as they are. */
  codec?: CacheCodec<V>;
  /** Told about every tier failure; the cache itself never throws one. */
  onError?: (tier: CacheTierName, op: 'get' | 'set', error: unknown) => void;
}

export interface TierStats {
  hits: number;
  misses: number;
  /** Failed or timed-out reads and writes (including `timeouts`). */
  errors: number;
  timeouts: number;
  writes: number;
  /** Writes not started because too many were in flight. */
  droppedWrites: number;
}

export interface TieredCacheStats {
  name: string;
  enabled: boolean;
  gets: number;
  /** L1's own counters: evictions, expirations, entries, bytes. */
  lru: ByteLruCacheStats | null;
  l1: TierStats | null;
  l2: TierStats | null;
  l3: TierStats | null;
}

export interface TieredCache<V> {
  readonly name: string;
  /** Read-through: L1, then L2 (a hit fills L1), then L3 (a hit fills L1 and L2). Never rejects. */
  get(key: string): Promise<{ value: V | null; tier: CacheTier }>;
  /** Write-through: L1 now, L2 and L3 in the background. Never throws. */
  set(key: string, value: V): void;
  /** Resolves once every background write started so far has settled. */
  flush(): Promise<void>;
  /** Empties L1 (the only tier in this process's memory); returns the bytes freed. */
  clear(): number;
  /** Drops L1's expired entries now; returns the bytes freed. */
  purgeExpired(): number;
  /** Bytes held in L1. */
  bytes(): number;
  stats(): TieredCacheStats;
}

/** What L2 and L3 hold: the encoded value and when it expires, so fills keep the original TTL. */
interface Envelope {
  e: number;
  v: unknown;
}

const isEnvelope = (data: unknown): data is Envelope =>
  typeof data === 'object' &&
  data !== null &&
  typeof (data as Envelope).e === 'number' &&
  (data as Envelope).v !== undefined;

class Timeout extends Error {}

function withDeadline<T>(run: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    // A tier that throws synchronously fails like one that rejects.
    new Promise<T>((resolve) => resolve(run())),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(`no answer within ${ms} ms`)), ms);
      // A tier that hangs must not keep a process that is shutting down alive.
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

const identity: CacheCodec<never> = { encode: (v) => v, decode: (d) => d as never };
const newTierStats = (): TierStats => ({
  hits: 0,
  misses: 0,
  errors: 0,
  timeouts: 0,
  writes: 0,
  droppedWrites: 0,
});

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
  const { ttlMs, readTimeoutMs = 50, writeTimeoutMs = 2_000, maxPendingWrites = 256 } = options;
  for (const [what, ms] of Object.entries({ ttlMs, readTimeoutMs, writeTimeoutMs })) {
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new AppError('internal', `cache ${name}: ${what} must be positive, got ${ms}`);
    }
  }
  const codec = options.codec ?? (identity as CacheCodec<V>);
  const counts = { l1: newTierStats(), l2: newTierStats(), l3: newTierStats() };
  const inFlight = { l2: 0, l3: 0 };
  const pending = new Set<Promise<void>>();
  let gets = 0;

  const failed = (tier: CacheTierName, op: 'get' | 'set', error: unknown) => {
    counts[tier].errors++;
    if (error instanceof Timeout) counts[tier].timeouts++;
    try {
      options.onError?.(tier, op, error);
    } catch {
      // A broken logger must not turn a skipped tier into a failed request.
    }
  };

  const write = (tier: 'l2' | 'l3', run: () => Promise<void>) => {
    if (inFlight[tier] >= maxPendingWrites) {
      counts[tier].droppedWrites++;
      return;
    }
    inFlight[tier]++;
    const done: Promise<void> = withDeadline(run, writeTimeoutMs)
      .then(
        () => {
          counts[tier].writes++;
        },
        (error: unknown) => failed(tier, 'set', error),
      )
      .finally(() => {
        inFlight[tier]--;
        pending.delete(done);
      });
    pending.add(done);
  };

  const fillL1 = (key: string, value: V, ttl: number) => {
    if (!l1) return;
    try {
      l1.set(key, value, ttl);
    } catch (error) {
      failed('l1', 'set', error);
    }
  };

  const writeL2 = (key: string, envelope: Envelope, ttl: number) => {
    if (!l2) return;
    let text: string;
    try {
      text = JSON.stringify(envelope);
    } catch (error) {
      failed('l2', 'set', error);
      return;
    }
    write('l2', () => l2.set(key, text, ttl));
  };

  /** Reads one lower tier: the value and its remaining TTL, or null on a miss or a failure. */
  const readTier = async (
    tier: 'l2' | 'l3',
    read: () => Promise<unknown>,
  ): Promise<{ value: V; envelope: Envelope; remainingMs: number } | null> => {
    let data: unknown;
    try {
      data = await withDeadline(read, readTimeoutMs);
    } catch (error) {
      failed(tier, 'get', error);
      return null;
    }
    if (data === null || data === undefined) {
      counts[tier].misses++;
      return null;
    }
    if (!isEnvelope(data)) {
      failed(tier, 'get', new Error(`${tier} holds something this cache did not write`));
      return null;
    }
    // The envelope decides, not the tier's own expiry, which may lag it (rounding, clocks).
    const remainingMs = data.e - Date.now();
    if (remainingMs <= 0) {
      counts[tier].misses++;
      return null;
    }
    const envelope = data;
    try {
      const value = codec.decode(envelope.v);
      counts[tier].hits++;
      return { value, envelope, remainingMs };
    } catch (error) {
      failed(tier, 'get', error);
      return null;
    }
  };

  return {
    name,

    async get(key) {
      gets++;
      if (!enabled) return { value: null, tier: 'off' };
      if (l1) {
        try {
          const value = l1.get(key);
          if (value !== undefined) {
            counts.l1.hits++;
            return { value, tier: 'l1' };
          }
          counts.l1.misses++;
        } catch (error) {
          failed('l1', 'get', error);
        }
      }
      if (l2) {
        const found = await readTier('l2', async () => {
          const text = await l2.get(key);
          return text === null ? null : (JSON.parse(text) as unknown);
        });
        if (found) {
          fillL1(key, found.value, found.remainingMs);
          return { value: found.value, tier: 'l2' };
        }
      }
      if (l3) {
        const found = await readTier('l3', () => l3.get(key));
        if (found) {
          fillL1(key, found.value, found.remainingMs);
          writeL2(key, found.envelope, found.remainingMs);
          return { value: found.value, tier: 'l3' };
        }
      }
      return { value: null, tier: 'miss' };
    },

    set(key, value) {
      if (!enabled) return;
      fillL1(key, value, ttlMs);
      if (!l2 && !l3) return;
      let envelope: Envelope;
      try {
        // Encoded now, so a caller that changes the value afterwards cannot change what is stored.
        envelope = { e: Date.now() + ttlMs, v: codec.encode(value) };
      } catch (error) {
        failed(l2 ? 'l2' : 'l3', 'set', error);
        return;
      }
      writeL2(key, envelope, ttlMs);
      if (l3) write('l3', () => l3.set(key, envelope, ttlMs));
    },

    async flush() {
      while (pending.size > 0) await Promise.all(pending);
    },

    clear: () => l1?.clear() ?? 0,
    purgeExpired: () => l1?.purgeExpired() ?? 0,
    bytes: () => l1?.bytes() ?? 0,

    stats: () => ({
      name,
      enabled,
      gets,
      lru: l1?.stats() ?? null,
      l1: l1 ? { ...counts.l1 } : null,
      l2: l2 ? { ...counts.l2 } : null,
      l3: l3 ? { ...counts.l3 } : null,
    }),
  };
}

/**
 * The relational store as L3 of the plan cache. The owning user (whose
 * deletion takes the rows with it) is read from the key, so keys must come
 * from `cacheKey`.
 */
export function relationalPlanTier(
  store: Pick<RelationalStore, 'getCachedPlan' | 'putCachedPlan'>,
): RecordTier {
  return {
    get: (key) => store.getCachedPlan(key),
    async set(key, record, ttlMs) {
      const userId = userIdOfKey(key);
      if (!userId) throw new AppError('internal', `not a cache key made by cacheKey: ${key}`);
      await store.putCachedPlan(userId, key, record, ttlMs);
    },
  };
}
