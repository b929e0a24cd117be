import type { RelationalStore } from '../ports/relational-store.ts';

const TOUCH_EVERY_MS = 60_000;
const TOUCH_MEMO_MAX = 100_000;

/**
 * Counts context queries as user activity. Activity matters by the minute
 * (narratives follow users active in the last 48 h), so this process writes
 * at most once a minute per user, not once per query.
 */
export function createUserActivity(store: Pick<RelationalStore, 'dataVersionOf' | 'touchUser'>) {
  const touchedAt = new Map<string, number>();

  function touch(userId: string) {
    const now = Date.now();
    const last = touchedAt.get(userId);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    if (touchedAt.size >= TOUCH_MEMO_MAX) touchedAt.clear();
    touchedAt.set(userId, now);
    // A failed write is retried by the next query rather than waited for.
    void store.touchUser(userId).catch(() => touchedAt.delete(userId));
  }

  return {
    /** Reads the user's data version (0 for an unknown user) and marks the user active. */
    async visit(userId: string): Promise<number> {
      const version = await store.dataVersionOf(userId);
      touch(userId);
      return version ?? 0;
    },
  };
}
