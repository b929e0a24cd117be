import type { CacheStore } from '../ports/cache-store.ts';
import type { ByteLruCache, ByteLruCacheStats } from './byte-lru-cache.ts';

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
