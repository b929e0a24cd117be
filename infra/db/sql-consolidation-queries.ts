import type {
  ConsolidationChange,
  ConsolidationOutcome,
  RelationalStore,
} from '../../core/ports/relational-store.ts';
import { filterPayloadChanged } from '../../core/memories/payload-change.ts';
import type { SqlDriver } from './sql-driver.ts';
import { leaveTombstones } from './sql-memory-writes.ts';
import { isUuid, liveSql, MEMORY_COLUMNS, toMemory } from './sql-rows.ts';

type ConsolidationQueries = Pick<
  RelationalStore,
  'pageUsers' | 'pageActiveMemories' | 'applyConsolidation' | 'purgeExpiredMemories'
>;

const clamp = (limit: number) => Math.max(1, Math.min(Math.trunc(limit) || 1, 1000));

/** What nightly consolidation reads and writes, in SQL shared by PGlite and PostgreSQL. */
export function consolidationQueries(driver: SqlDriver): ConsolidationQueries {
  return {
    async pageUsers({ limit, afterId }) {
      const rows = await driver.query<{ id: string }>(
        `SELECT id FROM users WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
        [afterId && isUuid(afterId) ? afterId : null, clamp(limit)],
      );
      return rows.map((r) => String(r.id));
    },

    async pageActiveMemories(userId, { limit, afterId }) {
      if (!isUuid(userId)) return [];
      const rows = await driver.query(
        `SELECT ${MEMORY_COLUMNS} FROM memories
         WHERE user_id = $1 AND state = 'active' AND ${liveSql()}
           AND ($2::uuid IS NULL OR id > $2::uuid)
         ORDER BY id LIMIT $3`,
        [userId, afterId && isUuid(afterId) ? afterId : null, clamp(limit)],
      );
      return rows.map(toMemory);
    },

    async purgeExpiredMemories(userId, { now, limit }) {
      if (!isUuid(userId)) return [];
      return driver.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          `WITH due AS (
             SELECT id FROM memories WHERE user_id = $1 AND expires_at <= $2::timestamptz
             ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
           )
           DELETE FROM memories m USING due WHERE m.id = due.id RETURNING m.id`,
          [userId, now.toISOString(), clamp(limit)],
        );
        const ids = rows.map((r) => String(r.id)).sort();
        await leaveTombstones(tx, userId, ids);
        // Not activity of the user's: the data version moves, last_active_at does not.
        if (ids.length > 0) {
          await tx.query('UPDATE users SET data_version = data_version + 1 WHERE id = $1', [
            userId,
          ]);
        }
        return ids;
      });
    },

    async applyConsolidation(userId, groups): Promise<ConsolidationOutcome> {
      const outcome: ConsolidationOutcome = { applied: groups.map(() => false), reindex: [] };
      const ids = [...new Set(groups.flat().map((c) => c.memoryId))];
      if (!isUuid(userId) || ids.length === 0 || !ids.every(isUuid)) return outcome;
      return driver.transaction(async (tx) => {
        // Row locks, taken in id order, hold the memories still until the commit, so an edit
        // racing this transaction either lands before (and the group is skipped) or after.
        const rows = await tx.query(
          `SELECT ${MEMORY_COLUMNS} FROM memories WHERE user_id = $1 AND id = ANY($2::uuid[])
           ORDER BY id FOR UPDATE`,
          [userId, ids],
        );
        const current = new Map(rows.map((r) => [String(r.id), toMemory(r)]));
        const unchanged = (c: ConsolidationChange) => {
          const memory = current.get(c.memoryId);
          return (
            memory !== undefined && memory.state === 'active' && memory.revision === c.revision
          );
        };
        for (const [i, group] of groups.entries()) {
          if (group.length === 0 || !group.every(unchanged)) continue;
          for (const change of group) {
            const memory = current.get(change.memoryId)!;
            const next = {
              ...memory,
              tags: change.tags ?? memory.tags,
              metadata: { ...memory.metadata, ...change.metadata },
              state: change.archive === true ? ('archived' as const) : memory.state,
            };
            // What filters read lives in the vector payload too: a change there is a new
            // revision, pending in this transaction, so the reconciler indexes it even if the
            // request made after the commit is lost.
            const reindex = filterPayloadChanged(memory, next);
            await tx.query(
              `UPDATE memories SET
                 metadata = metadata || $3::jsonb,
                 tags = $4,
                 state = $5,
                 revision = revision + $6::int,
                 index_state = CASE WHEN $6::int = 1 THEN 'pending' ELSE index_state END,
                 updated_at = now()
               WHERE id = $1 AND user_id = $2`,
              [
                change.memoryId,
                userId,
                JSON.stringify(change.metadata ?? {}),
                next.tags,
                next.state,
                reindex ? 1 : 0,
              ],
            );
            if (reindex) outcome.reindex.push(change.memoryId);
            // A later group naming this memory again sees it as changed, and is skipped.
            current.set(change.memoryId, {
              ...next,
              revision: memory.revision + (reindex ? 1 : 0),
            });
          }
          outcome.applied[i] = true;
        }
        if (outcome.applied.includes(true)) {
          await tx.query('UPDATE users SET data_version = data_version + 1 WHERE id = $1', [
            userId,
          ]);
        }
        return outcome;
      });
    },
  };
}
