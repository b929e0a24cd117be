import { Buffer } from 'node:buffer';
import { LRUCache } from 'lru-cache';
import { AppError } from '../errors.ts';

/**
 * What one entry costs beyond its value's JSON and its key's UTF-8 bytes.
 * Measured on Node 20.20 (V8 11.3) with `--expose-gc`, as the growth of
 * `heapUsed` after a full GC when 50k–400k entries went into an LRUCache
 * configured exactly as below: about 100–112 bytes of bookkeeping per entry
 * (the key map's hash-table slot plus one slot in each of seven per-entry
 * arrays: keys, values, next, prev, sizes, TTLs, start times) and 16–24
 * bytes of V8 string header on top of a flat one-byte key. Rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 128;

export interface ByteLruCacheOptions<V> {
  /** Names the cache in stats and logs (`plans`, `search`). */
  name: string;
  /** Upper bound on the summed sizes of all entries. */
  maxBytes: number;
  /** How long an entry lives after it was set; checked when it is read. */
  ttlMs: number;
  /** An entry's size in bytes; defaults to {@link measureEntry}. */
  sizeOf?: (value: V, key: string) => number;
}

export interface ByteLruCacheStats {
  name: string;
  hits: number;
  misses: number;
  /** Entries pushed out, least recently used first, to make room. */
  evictions: number;
  /** Entries found past their TTL (on read or by `purgeExpired`). */
  expirations: number;
  /** Sets refused because the entry alone is larger than `maxBytes`. */
  oversize: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

/** An in-process LRU bounded by bytes, with a TTL. Values are shared, not copied: never mutate one. */
export interface ByteLruCache<V> {
  readonly name: string;
  /** The value, or undefined when missing or expired (an expired entry is dropped). */
  get(key: string): V | undefined;
  /**
   * Stores the value for `ttlMs` (at most the cache's TTL), evicting least
   * recently used entries until it fits. False when the entry alone is
   * larger than `maxBytes`: it is not stored, and an older value under the
   * key is dropped.
   */
  set(key: string, value: V, ttlMs?: number): boolean;
  delete(key: string): boolean;
  /** Drops every entry; returns the bytes freed. */
  clear(): number;
  /** Drops expired entries now rather than on their next read; returns the bytes freed. */
  purgeExpired(): number;
  /** The summed sizes of the entries held (expired ones count until dropped). */
  bytes(): number;
  stats(): ByteLruCacheStats;
}

/**
 * The default entry size: the value's JSON and the key in UTF-8, plus
 * {@link ENTRY_OVERHEAD_BYTES}. JSON is a proxy for what a parsed value
 * occupies in V8's heap; measured the same way, the heap holds about 1.15×
 * this for context plans and about 1.7× for lists of fused search hits
 * (small objects, each with its own header, boxed score and array).
 */
export function measureEntry(value: unknown, key: string): number {
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) throw new TypeError(`cannot measure a ${typeof value} as JSON`);
  return Buffer.byteLength(json, 'utf8') + Buffer.byteLength(key, 'utf8') + ENTRY_OVERHEAD_BYTES;
}

function positiveInteger(name: string, what: string, value: number): number {
  if (!Number.isFinite(value) || value < 1) {
    throw new AppError(
      'internal',
      `cache ${name}: ${what} must be a positive number, got ${value}`,
    );
  }
  return Math.ceil(value);
}

/**
 * Creates a byte-bounded LRU over `lru-cache`: every entry's size is
 * measured when it is set, the sum never exceeds `maxBytes`, and expiry is
 * checked on read (no timers). Hits, misses, evictions, expirations and
 * refusals are counted for `stats()`.
 */
export function createByteLruCache<V extends NonNullable<unknown>>(
  options: ByteLruCacheOptions<V>,
): ByteLruCache<V> {
  const { name } = options;
  const maxBytes = positiveInteger(name, 'maxBytes', options.maxBytes);
  const ttlMs = positiveInteger(name, 'ttlMs', options.ttlMs);
  const sizeOf = options.sizeOf ?? measureEntry;
  const counts = { hits: 0, misses: 0, evictions: 0, expirations: 0, oversize: 0 };

  const lru = new LRUCache<string, V>({
    maxSize: maxBytes,
    ttl: ttlMs,
    ttlAutopurge: false,
    sizeCalculation: (value, key) => {
      const size = sizeOf(value, key);
      if (!Number.isFinite(size) || size < 0) {
        throw new TypeError(`cache ${name}: sizeOf returned ${size}`);
      }
      // lru-cache wants a positive integer.
      return Math.max(1, Math.ceil(size));
    },
    dispose: (_value, _key, reason) => {
      if (reason === 'evict') counts.evictions++;
      else if (reason === 'expire') counts.expirations++;
    },
  });

  return {
    name,
    get(key) {
      const value = lru.get(key);
      if (value === undefined) counts.misses++;
      else counts.hits++;
      return value;
    },
    set(key, value, entryTtlMs) {
      if (entryTtlMs !== undefined && !(Number.isFinite(entryTtlMs) && entryTtlMs > 0)) {
        throw new AppError(
          'internal',
          `cache ${name}: entry TTL must be positive, got ${entryTtlMs}`,
        );
      }
      const ttl = entryTtlMs === undefined ? ttlMs : Math.ceil(entryTtlMs);
      const status: LRUCache.Status<string, V> = {};
      lru.set(key, value, { ttl: Math.min(ttl, ttlMs), status });
      if (status.maxEntrySizeExceeded) {
        counts.oversize++;
        return false;
      }
      return true;
    },
    delete: (key) => lru.delete(key),
    clear() {
      const freed = lru.calculatedSize;
      lru.clear();
      return freed;
    },
    purgeExpired() {
      const before = lru.calculatedSize;
      lru.purgeStale();
      return before - lru.calculatedSize;
    },
    bytes: () => lru.calculatedSize,
    stats: () => ({
      name,
      ...counts,
      entries: lru.size,
      bytes: lru.calculatedSize,
      maxBytes,
    }),
  };
}
