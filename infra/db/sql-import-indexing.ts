import type { PortabilityStore } from '../../core/ports/portability-store.ts';
import type { SqlDriver } from './sql-driver.ts';
import { interruptStalled, toImportRecord } from './sql-import-rows.ts';
import { isUuid, liveSql } from './sql-rows.ts';

type IndexingQueries = Pick<
  PortabilityStore,
  | 'getImport'
  | 'setImportWorkflow'
  | 'nextToIndex'
  | 'importStillReceiving'
  | 'recordImportIndexing'
>;

// In line order on the (import_id, import_line) index; expired ones are left to
// consolidation's purge. Indexed ones are taken too (the indexing steps find them current),
// so a page retried after a crash counts every memory it covers.
const NEXT_SQL = `
  SELECT import_line AS line, id FROM memories
  WHERE import_id = $1 AND user_id = $2 AND import_line > $3 AND ${liveSql()}
  ORDER BY import_line
  LIMIT $4`;

/** Reading an import's status and following its indexing, in SQL shared by PGlite and PostgreSQL. */
export function importIndexingQueries(driver: SqlDriver): IndexingQueries {
  return {
    async getImport(userId, importId) {
      if (!isUuid(userId) || !isUuid(importId)) return null;
      const rows = await driver.query('SELECT * FROM imports WHERE id = $1 AND user_id = $2', [
        importId,
        userId,
      ]);
      return rows[0] ? toImportRecord(rows[0]) : null;
    },

    async setImportWorkflow(importId, workflowId) {
      await driver.query('UPDATE imports SET workflow_id = $2 WHERE id = $1', [
        importId,
        workflowId,
      ]);
    },

    async nextToIndex(userId, importId, { afterLine, limit }) {
      if (!isUuid(userId) || !isUuid(importId)) return [];
      const rows = await driver.query<{ line: number; id: string }>(NEXT_SQL, [
        importId,
        userId,
        afterLine,
        limit,
      ]);
      return rows.map((r) => ({ line: Number(r.line), memoryId: String(r.id) }));
    },

    async importStillReceiving(importId, stallMs) {
      if (!isUuid(importId)) return false;
      return driver.transaction(async (tx) => {
        await interruptStalled(tx, 'id = $1', [importId, stallMs]);
        const rows = await tx.query<{ state: string }>('SELECT state FROM imports WHERE id = $1', [
          importId,
        ]);
        return rows[0]?.state === 'receiving';
      });
    },

    async recordImportIndexing(importId, { throughLine, indexed, failed, done }) {
      await driver.query(
        `UPDATE imports SET
           indexed = indexed + CASE WHEN indexed_through < $2 THEN $3 ELSE 0 END,
           index_failed = index_failed + CASE WHEN indexed_through < $2 THEN $4 ELSE 0 END,
           indexed_through = GREATEST(indexed_through, $2),
           index_state = CASE WHEN $5::boolean THEN 'done' ELSE 'running' END,
           indexed_at = CASE WHEN $5::boolean THEN now() ELSE indexed_at END
         WHERE id = $1`,
        [importId, throughLine, indexed, failed, done],
      );
    },
  };
}
