import type { IndexTask, RelationalStore } from '../../core/ports/relational-store.ts';
import { markIndexedAcross } from './sql-cross-user-queries.ts';
import { bumpVersion } from './sql-data-version.ts';
import type { SqlDriver } from './sql-driver.ts';
import { isUuid, liveSql } from './sql-rows.ts';

type IndexStateQueries = Pick<
  RelationalStore,
  | 'markIndexed'
  | 'markIndexedMany'
  | 'markIndexFailed'
  | 'clearTombstone'
  | 'staleIndexTasks'
  | 'requeueFailedIndexing'
>;

interface TaskRow {
  user_id: string;
  memory_id: string;
}

const toTask = (r: TaskRow, deleted: boolean): IndexTask => ({
  userId: String(r.user_id),
  memoryId: String(r.memory_id),
  deleted,
});

// Pending memories untouched and unrequested for $1 ms, least recently requested
// first (never requested before anything), recorded as requested now. One asked
// for $3 times already at this revision becomes failed instead (RETURNING shows
// the new state). Expired memories are left to consolidation's purge. SKIP LOCKED: two
// passes at once never take the same memory.
const STALE_MEMORIES_SQL = `
  WITH due AS (
    SELECT id FROM memories
    WHERE index_state = 'pending' AND ${liveSql()}
      AND updated_at < now() - $1 * interval '1 millisecond'
      AND (index_requested_at IS NULL
        OR index_requested_at < now() - $1 * interval '1 millisecond')
    ORDER BY index_requested_at NULLS FIRST, updated_at, id
    LIMIT $2 FOR UPDATE SKIP LOCKED
  )
  UPDATE memories m SET
    index_requested_at = now(),
    index_requests = CASE WHEN m.index_requests_revision = m.revision
      THEN m.index_requests + 1 ELSE 1 END,
    index_requests_revision = m.revision,
    index_state = CASE WHEN m.index_requests_revision = m.revision
      AND m.index_requests >= $3::int THEN 'failed' ELSE m.index_state END
  FROM due WHERE m.id = due.id
  RETURNING m.user_id, m.id AS memory_id, m.index_state`;

const STALE_TOMBSTONES_SQL = `
  WITH due AS (
    SELECT memory_id FROM memory_tombstones
    WHERE deleted_at < now() - $1 * interval '1 millisecond'
      AND (requested_at IS NULL OR requested_at < now() - $1 * interval '1 millisecond')
    ORDER BY requested_at NULLS FIRST, deleted_at, memory_id
    LIMIT $2 FOR UPDATE SKIP LOCKED
  )
  UPDATE memory_tombstones t SET requested_at = now()
  FROM due WHERE t.memory_id = due.memory_id
  RETURNING t.user_id, t.memory_id`;

/**
 * The indexing bookkeeping of memories (which revision is indexed, which
 * failed, which deletions the indexes still hold), in SQL shared by PGlite
 * and PostgreSQL.
 */
export function indexStateQueries(driver: SqlDriver): IndexStateQueries {
  return {
    async markIndexed(userId, memoryId, revision) {
      if (!isUuid(userId) || !isUuid(memoryId)) return false;
      return driver.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE memories SET index_state = 'indexed', indexed_revision = $3,
             index_count = index_count + 1
           WHERE id = $1 AND user_id = $2 AND revision = $3 AND indexed_revision < $3
           RETURNING id`,
          [memoryId, userId, revision],
        );
        if (rows.length === 0) return false;
        await bumpVersion(tx, userId);
        return true;
      });
    },

    async markIndexedMany(userId, items) {
      // One user's marks are the cross-user statement's with that user on each.
      if (!isUuid(userId)) return [];
      const marked = await markIndexedAcross(
        driver,
        items.map((item) => ({ userId, ...item })),
      );
      return marked.map((ref) => ref.memoryId);
    },

    async markIndexFailed(userId, memoryId) {
      if (!isUuid(userId) || !isUuid(memoryId)) return;
      await driver.query(
        `UPDATE memories SET index_state = 'failed'
         WHERE id = $1 AND user_id = $2 AND index_state = 'pending'`,
        [memoryId, userId],
      );
    },

    async clearTombstone(memoryId) {
      if (!isUuid(memoryId)) return;
      await driver.query('DELETE FROM memory_tombstones WHERE memory_id = $1', [memoryId]);
    },

    async staleIndexTasks(olderThanMs, limit, options = {}) {
      const memories = await driver.query<TaskRow & { index_state: string }>(STALE_MEMORIES_SQL, [
        olderThanMs,
        limit,
        options.maxRequests ?? null,
      ]);
      const tombstones = await driver.query<TaskRow>(STALE_TOMBSTONES_SQL, [olderThanMs, limit]);
      return [
        ...memories.filter((r) => r.index_state === 'pending').map((r) => toTask(r, false)),
        ...tombstones.map((r) => toTask(r, true)),
      ];
    },

    async requeueFailedIndexing({ userId, limit, afterId }) {
      if (userId !== undefined && !isUuid(userId)) return [];
      const rows = await driver.query<TaskRow>(
        `WITH due AS (
           SELECT id FROM memories
           WHERE index_state = 'failed' AND ($1::uuid IS NULL OR user_id = $1::uuid)
             AND ($2::uuid IS NULL OR id > $2::uuid)
           ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
         )
         UPDATE memories m SET index_state = 'pending', index_requests = 0,
           index_requested_at = now()
         FROM due WHERE m.id = due.id AND m.index_state = 'failed'
         RETURNING m.user_id, m.id AS memory_id`,
        [userId ?? null, afterId && isUuid(afterId) ? afterId : null, limit],
      );
      // In id order, as the cursor (`afterId`: the last one) expects.
      const ids = (t: IndexTask) => t.memoryId;
      return rows.map((r) => toTask(r, false)).sort((a, b) => (ids(a) < ids(b) ? -1 : 1));
    },
  };
}
