import type { IndexTask, RelationalStore } from '../../core/ports/relational-store.ts';
import { bumpVersion } from './sql-data-version.ts';
import type { SqlDriver } from './sql-driver.ts';
import { isUuid } from './sql-rows.ts';

type IndexStateQueries = Pick<
  RelationalStore,
  'markIndexed' | 'markIndexedMany' | 'markIndexFailed' | 'clearTombstone' | 'staleIndexTasks'
>;

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
      const valid = isUuid(userId) ? items.filter((item) => isUuid(item.memoryId)) : [];
      if (valid.length === 0) return [];
      return driver.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          `UPDATE memories m SET index_state = 'indexed', indexed_revision = t.revision,
             index_count = m.index_count + 1
           FROM unnest($2::uuid[], $3::int[]) AS t(id, revision)
           WHERE m.id = t.id AND m.user_id = $1 AND m.revision = t.revision
             AND m.indexed_revision < t.revision
           RETURNING m.id`,
          [userId, valid.map((item) => item.memoryId), valid.map((item) => item.revision)],
        );
        if (rows.length > 0) await bumpVersion(tx, userId, rows.length);
        return rows.map((row) => row.id);
      });
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

    async staleIndexTasks(olderThanMs, limit): Promise<IndexTask[]> {
      const rows = await driver.query<{ user_id: string; memory_id: string; deleted: boolean }>(
        `(SELECT user_id, id AS memory_id, false AS deleted FROM memories
           WHERE index_state = 'pending' AND updated_at < now() - $1 * interval '1 millisecond'
           ORDER BY updated_at LIMIT $2)
         UNION ALL
         (SELECT user_id, memory_id, true AS deleted FROM memory_tombstones
           WHERE deleted_at < now() - $1 * interval '1 millisecond'
           ORDER BY deleted_at LIMIT $2)`,
        [olderThanMs, limit],
      );
      return rows.map((r) => ({
        userId: String(r.user_id),
        memoryId: String(r.memory_id),
        deleted: Boolean(r.deleted),
      }));
    },
  };
}
