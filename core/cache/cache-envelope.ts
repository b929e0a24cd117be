import type { CacheCodec } from './tiered-cache-types.ts';

/** What L2 and L3 hold: the encoded value and when it expires, so fills keep the original TTL. */
export interface Envelope {
  e: number;
  v: unknown;
}

/** True for data shaped like an {@link Envelope}; anything else was not written by a tiered cache. */
export const isEnvelope = (data: unknown): data is Envelope =>
  typeof data === 'object' &&
  data !== null &&
  typeof (data as Envelope).e === 'number' &&
  (data as Envelope).v !== undefined;

const identity: CacheCodec<never> = { encode: (v) => v, decode: (d) => d as never };

/** The codec for values that are JSON-safe as they are. */
export const identityCodec = <V>(): CacheCodec<V> => identity as CacheCodec<V>;

/**
 * Wraps `value` for L2 and L3, expiring `ttlMs` from now. Throws what the
 * codec throws.
 */
export function sealEnvelope<V>(codec: CacheCodec<V>, value: V, ttlMs: number): Envelope {
  return { e: Date.now() + ttlMs, v: codec.encode(value) };
}
