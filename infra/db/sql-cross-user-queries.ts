import type { MemoryRef, RelationalStore } from '../../core/ports/relational-store.ts';
import type { SqlDriver } from './sql-driver.ts';
import { isUuid, liveSql, MEMORY_COLUMNS, toMemory } from './sql-rows.ts';

type CrossUserQueries = Pick<RelationalStore, 'getMemoriesOf' | 'markIndexedAcross'>;

const validRefs = <T extends MemoryRef>(refs: readonly T[]) =>
  refs.filter((r) => isUuid(r.userId) && isUuid(r.memoryId));

// Each user's count of memories recorded, bumped in user id order: two batches marking
// overlapping users lock their rows in the same order (the memory rows are locked first, as
// an edit does, so an edit and a batch take a memory's and its user's locks in one order).
const MARK_ACROSS_SQL = `
  WITH marked AS (
    UPDATE memories m SET index_state = 'indexed', indexed_revision = t.revision,
      index_count = m.index_count + 1
    FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS t(user_id, id, revision)
    WHERE m.id = t.id AND m.user_id = t.user_id AND m.revision = t.revision
      AND m.indexed_revision < t.revision
    RETURNING m.user_id, m.id
  ),
  counts AS (
    SELECT u.id, c.n FROM (SELECT user_id, count(*) AS n FROM marked GROUP BY user_id) c
    JOIN users u ON u.id = c.user_id
    ORDER BY u.id FOR UPDATE OF u
  ),
  bumped AS (
    UPDATE users u SET data_version = u.data_version + counts.n, last_active_at = now()
    FROM counts WHERE u.id = counts.id
  )
  SELECT user_id, id FROM marked`;

/** Records revisions of several users' memories as indexed in one statement; see the port. */
export async function markIndexedAcross(
  driver: SqlDriver,
  items: readonly (MemoryRef & { revision: number })[],
): Promise<MemoryRef[]> {
  const valid = validRefs(items);
  if (valid.length === 0) return [];
  const rows = await driver.query<{ user_id: string; id: string }>(MARK_ACROSS_SQL, [
    valid.map((item) => item.userId),
    valid.map((item) => item.memoryId),
    valid.map((item) => item.revision),
  ]);
  return rows.map((row) => ({ userId: String(row.user_id), memoryId: String(row.id) }));
}

/** Reads and marks of memories of several users, one statement each (batch indexing). */
export function crossUserQueries(driver: SqlDriver): CrossUserQueries {
  return {
    async getMemoriesOf(targets) {
      const valid = validRefs(targets);
      if (valid.length === 0) return [];
      const rows = await driver.query(
        `SELECT ${MEMORY_COLUMNS} FROM memories
         WHERE (user_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) AND ${liveSql()}`,
        [valid.map((t) => t.userId), valid.map((t) => t.memoryId)],
      );
      return rows.map(toMemory);
    },

    markIndexedAcross: (items) => markIndexedAcross(driver, items),
  };
}
