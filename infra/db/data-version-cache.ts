import { createHearing } from './hearing.ts';

/** The channel every change of a user's data version is announced on: `<user id>:<version>`. */
export const DATA_VERSION_CHANNEL = 'memory_engine_data_version';

const MAX_USERS = 100_000;

/** A notification's payload as the trigger of migration 11 sends it, or null when malformed. */
export function parseVersionNotice(payload: string): { userId: string; version: number } | null {
  const at = payload.lastIndexOf(':');
  if (at <= 0) return null;
  const digits = payload.slice(at + 1);
  const version = Number(digits);
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(version)) return null;
  return { userId: payload.slice(0, at), version };
}

/**
 * Remembers users' data versions, so a context query does not cost a
 * database round trip before it can look in the caches. Every change of a
 * version, whoever makes it (this process, another, a hand-written UPDATE),
 * is announced by a trigger on `users` when it commits and heard here through
 * `LISTEN`; versions only grow, so what is remembered is the highest version
 * read or heard, and a read that was in flight across a change cannot put an
 * older one back.
 *
 * A change is heard a moment after it commits, so a query right after a save
 * may still use the version before it. That is harmless by construction: the
 * caches keyed by it hold memory ids, and every id is read again from the
 * database (deleted and expired memories dropped) before it is answered.
 *
 * Only usable while changes are heard: before `LISTEN` is in place, and after
 * its connection dropped, lookups bypass it and it is emptied.
 */
export function createVersionCache() {
  const versions = new Map<string, number>();
  const hearing = createHearing(() => versions.clear());
  const remember = (userId: string, version: number) => {
    const known = versions.get(userId);
    if (known !== undefined && known >= version) return;
    if (known === undefined && versions.size >= MAX_USERS) hearing.clear();
    versions.set(userId, version);
  };

  return {
    /** The version remembered for a user; undefined when not remembered (or not usable). */
    get(userId: string): number | undefined {
      return hearing.ready ? versions.get(userId) : undefined;
    },
    /** Taken before a database read, handed back to {@link set} with its answer. */
    begin: hearing.begin,
    /** Remembers a version read from the database, unless the cache was emptied meanwhile. */
    set(userId: string, version: number, startedAt: number) {
      if (hearing.current(startedAt)) remember(userId, version);
    },
    /** A change heard on the channel. */
    heard(payload: string) {
      const notice = parseVersionNotice(payload);
      if (hearing.ready && notice) remember(notice.userId, notice.version);
    },
    listening: hearing.listening,
    deaf: hearing.deaf,
  };
}

export type VersionCache = ReturnType<typeof createVersionCache>;
