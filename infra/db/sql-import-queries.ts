import { randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import type {
  ImportBatch,
  ImportLine,
  PortabilityStore,
} from '../../core/ports/portability-store.ts';
import { MAX_IMPORT_ERRORS } from '../../core/ports/portability-records.ts';
import { bumpVersion } from './sql-data-version.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';
import { exportQueries } from './sql-export-queries.ts';
import { importIndexingQueries } from './sql-import-indexing.ts';
import { insertImportLines } from './sql-import-writes.ts';
import { lockUser } from './sql-memory-writes.ts';
import { interruptStalled, toImportRecord } from './sql-import-rows.ts';
import { isUuid } from './sql-rows.ts';

// Held lines an all-or-nothing commit reads into memory at a time.
const STAGED_PAGE = 1000;

// Adds a batch's counts to a receiving import (and its first refused lines, up to the cap);
// no row when the import stopped receiving meanwhile.
const COUNT_SQL = `
  UPDATE imports SET
    lines_read = lines_read + $2, created = created + $3, duplicates = duplicates + $4,
    refused = refused + $5, ignored = ignored + $6,
    errors = CASE WHEN jsonb_array_length(errors) >= ${MAX_IMPORT_ERRORS} THEN errors
      ELSE jsonb_path_query_array(errors || $7::jsonb, '$[0 to ${MAX_IMPORT_ERRORS - 1}]') END,
    updated_at = now()
  WHERE id = $1 AND state = 'receiving'
  RETURNING id`;

async function addCounts(
  tx: SqlExecutor,
  importId: string,
  batch: ImportBatch,
  stored: { created: number; duplicates: number },
): Promise<void> {
  const rows = await tx.query(COUNT_SQL, [
    importId,
    batch.read,
    stored.created,
    stored.duplicates,
    batch.refused.length,
    batch.ignored,
    JSON.stringify(batch.refused.slice(0, MAX_IMPORT_ERRORS)),
  ]);
  if (rows.length === 0) {
    throw new AppError('conflict', `import ${importId} is no longer receiving lines`);
  }
}

/** Receiving an import's lines: opening it, committing or holding batches, ending it. */
function receivingQueries(driver: SqlDriver) {
  return {
    async startImport(userId, { allOrNothing, stallMs }) {
      return driver.transaction(async (tx) => {
        await lockUser(tx, userId);
        await interruptStalled(tx, 'user_id = $1', [userId, stallMs]);
        const open = await tx.query(
          "SELECT id FROM imports WHERE user_id = $1 AND state = 'receiving' LIMIT 1",
          [userId],
        );
        if (open[0]) {
          throw new AppError('conflict', `import ${String(open[0].id)} is still receiving lines`, {
            details: { import_id: String(open[0].id) },
          });
        }
        const rows = await tx.query(
          'INSERT INTO imports (id, user_id, all_or_nothing) VALUES ($1, $2, $3) RETURNING *',
          [randomUUID(), userId, allOrNothing],
        );
        return toImportRecord(rows[0]!);
      });
    },

    async addImportBatch(userId, importId, batch) {
      return driver.transaction(async (tx) => {
        // The user's row lock serialises their writes, so duplicates resolve the same way.
        await lockUser(tx, userId);
        const created = await insertImportLines(tx, userId, importId, batch.lines);
        const stored = { created, duplicates: batch.lines.length - created };
        await addCounts(tx, importId, batch, stored);
        if (created > 0) await bumpVersion(tx, userId, created);
        return stored;
      });
    },

    async stageImportBatch(importId, batch) {
      await driver.transaction(async (tx) => {
        await addCounts(tx, importId, batch, { created: 0, duplicates: 0 });
        if (batch.lines.length === 0) return;
        await tx.query(
          `INSERT INTO import_staged (import_id, line, memory)
           SELECT $1, l, m FROM unnest($2::int[], $3::jsonb[]) AS u(l, m)`,
          [
            importId,
            batch.lines.map((l) => l.line),
            batch.lines.map((l) => JSON.stringify(l.memory)),
          ],
        );
      });
    },

    async commitStagedImport(userId, importId) {
      return driver.transaction(async (tx) => {
        await lockUser(tx, userId);
        let created = 0;
        let total = 0;
        for (let after = 0; ;) {
          const held = await tx.query<{ line: number; memory: unknown }>(
            `SELECT line, memory FROM import_staged WHERE import_id = $1 AND line > $2
             ORDER BY line LIMIT $3`,
            [importId, after, STAGED_PAGE],
          );
          const lines: ImportLine[] = held.map((h) => ({
            line: Number(h.line),
            memory: (typeof h.memory === 'string'
              ? JSON.parse(h.memory)
              : h.memory) as ImportLine['memory'],
          }));
          created += await insertImportLines(tx, userId, importId, lines);
          total += lines.length;
          if (lines.length < STAGED_PAGE) break;
          after = lines[lines.length - 1]!.line;
        }
        const stored = { created, duplicates: total - created };
        const ended = await tx.query(
          `UPDATE imports SET created = $2, duplicates = $3, state = 'received',
             received_at = now(), updated_at = now()
           WHERE id = $1 AND state = 'receiving' RETURNING id`,
          [importId, stored.created, stored.duplicates],
        );
        if (ended.length === 0) {
          throw new AppError('conflict', `import ${importId} is no longer receiving lines`);
        }
        await tx.query('DELETE FROM import_staged WHERE import_id = $1', [importId]);
        if (created > 0) await bumpVersion(tx, userId, created);
        return stored;
      });
    },

    async endImport(importId, state) {
      if (!isUuid(importId)) return null;
      return driver.transaction(async (tx) => {
        await tx.query(
          `UPDATE imports SET state = $2, updated_at = now(),
             received_at = CASE WHEN $2 = 'received' THEN now() ELSE received_at END
           WHERE id = $1 AND state = 'receiving'`,
          [importId, state],
        );
        await tx.query('DELETE FROM import_staged WHERE import_id = $1', [importId]);
        const rows = await tx.query('SELECT * FROM imports WHERE id = $1', [importId]);
        return rows[0] ? toImportRecord(rows[0]) : null;
      });
    },
  } satisfies Pick<
    PortabilityStore,
    'startImport' | 'addImportBatch' | 'stageImportBatch' | 'commitStagedImport' | 'endImport'
  >;
}

/**
 * The portability store over any PostgreSQL-speaking driver (the relational
 * store's own: it migrates the schema these queries use).
 */
export function createSqlPortabilityStore(driver: SqlDriver): PortabilityStore {
  return {
    ...exportQueries(driver),
    ...receivingQueries(driver),
    ...importIndexingQueries(driver),
  };
}
