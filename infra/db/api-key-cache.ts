import { createHearing } from './hearing.ts';

/** Who a key belongs to, as the store finds it. */
export interface KeyOwner {
  userId: string;
  keyId: string;
}

/** The channel a revocation is announced on, with the key's id as payload. */
export const KEY_REVOKED_CHANNEL = 'memory_engine_api_key_revoked';

const MAX_KNOWN = 100_000;
const MAX_UNKNOWN = 10_000;

/**
 * Remembers which user a key hash belongs to, so a request does not cost a
 * database round trip to authenticate. Only usable while every revocation is
 * heard: in this process ({@link KeyCache.revoked} after the store's own
 * revoke) and, with several processes on one PostgreSQL, through the
 * revocation channel. While it is not (before `LISTEN` is in place, or after
 * that connection dropped), lookups bypass it and it is emptied, since a
 * revocation may have been missed.
 *
 * Unknown hashes are remembered too (an invalid-key flood costs no queries):
 * keys are random, so no key can be presented before it is issued and a hash
 * found unknown can only become known by a collision.
 */
export function createKeyCache(usable: boolean) {
  const known = new Map<string, KeyOwner>();
  const hashOf = new Map<string, string>();
  const unknown = new Set<string>();
  // Its epoch moves on at every revocation heard and every change of `ready`: a lookup that
  // was in flight across one may have read a key since revoked, and is not remembered.
  const hearing = createHearing(() => {
    known.clear();
    hashOf.clear();
    unknown.clear();
  }, usable);

  return {
    /** Whether lookups may be answered from memory. */
    get usable() {
      return hearing.ready;
    },
    /** The owner (or null: no such key) remembered for a hash; undefined when not remembered. */
    get(hash: string): KeyOwner | null | undefined {
      if (!hearing.ready) return undefined;
      if (unknown.has(hash)) return null;
      return known.get(hash);
    },
    /** Taken before a database lookup, handed back to {@link set} with its answer. */
    begin: hearing.begin,
    /** Remembers what the database said, unless anything was revoked while it was asked. */
    set(hash: string, owner: KeyOwner | null, startedAt: number) {
      if (!hearing.current(startedAt)) return;
      if (owner === null) {
        if (unknown.size >= MAX_UNKNOWN) unknown.clear();
        unknown.add(hash);
        return;
      }
      if (known.size >= MAX_KNOWN) {
        known.clear();
        hashOf.clear();
      }
      known.set(hash, owner);
      hashOf.set(owner.keyId, hash);
    },
    /** Forgets a revoked key. */
    revoked(keyId: string) {
      hearing.moveOn();
      const hash = hashOf.get(keyId);
      if (hash === undefined) return;
      hashOf.delete(keyId);
      known.delete(hash);
    },
    /** Revocations are heard again: start empty. */
    listening: hearing.listening,
    /** Revocations may be missed: stop answering from memory. */
    deaf: hearing.deaf,
  };
}

export type KeyCache = ReturnType<typeof createKeyCache>;
