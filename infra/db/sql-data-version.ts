import type { SqlExecutor } from './sql-driver.ts';

/**
 * Counts `by` changes to what the user saved, inside the caller's transaction.
 * The data version keys the caches and tells narratives they are stale; a
 * write is also activity, so `last_active_at` moves with it.
 */
export const bumpVersion = (tx: SqlExecutor, userId: string, by = 1) =>
  tx.query(
    'UPDATE users SET data_version = data_version + $2, last_active_at = now() WHERE id = $1',
    [userId, by],
  );
