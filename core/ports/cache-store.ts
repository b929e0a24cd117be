/**
 * Port for a shared (L2) cache such as Redis: string values with a TTL.
 * Callers treat every failure as a miss, so adapters may throw freely.
 */
export interface CacheStore {
  readonly kind: string;
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip; `null` for each miss, in key order. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
