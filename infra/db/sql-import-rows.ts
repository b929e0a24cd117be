import type { ImportRecord } from '../../core/ports/portability-store.ts';
import type { SqlExecutor } from './sql-driver.ts';
import type { Row } from './sql-rows.ts';

const toDate = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));
const toDateOrNull = (v: unknown) => (v === null || v === undefined ? null : toDate(v));

/** An `imports` row as the port shows it. */
export const toImportRecord = (r: Row): ImportRecord => ({
  id: String(r.id),
  userId: String(r.user_id),
  state: r.state as ImportRecord['state'],
  allOrNothing: r.all_or_nothing === true,
  counts: {
    read: Number(r.lines_read),
    created: Number(r.created),
    duplicates: Number(r.duplicates),
    refused: Number(r.refused),
    ignored: Number(r.ignored),
  },
  errors: (typeof r.errors === 'string'
    ? JSON.parse(r.errors)
    : r.errors) as ImportRecord['errors'],
  indexing: {
    state: r.index_state as ImportRecord['indexing']['state'],
    indexed: Number(r.indexed),
    failed: Number(r.index_failed),
    workflowId: r.workflow_id === null ? null : String(r.workflow_id),
  },
  createdAt: toDate(r.created_at),
  updatedAt: toDate(r.updated_at),
  receivedAt: toDateOrNull(r.received_at),
  indexedAt: toDateOrNull(r.indexed_at),
});

/**
 * Marks the receiving imports `where` selects (its `$1`) that got nothing for
 * `$2` ms as interrupted (their upload died), dropping the lines an
 * all-or-nothing one held.
 */
export async function interruptStalled(tx: SqlExecutor, where: string, params: unknown[]) {
  const stalled = await tx.query<{ id: string }>(
    `UPDATE imports SET state = 'interrupted', updated_at = now()
     WHERE ${where} AND state = 'receiving'
       AND updated_at < now() - $2 * interval '1 millisecond'
     RETURNING id`,
    params,
  );
  if (stalled.length === 0) return;
  await tx.query('DELETE FROM import_staged WHERE import_id = ANY($1::uuid[])', [
    stalled.map((r) => String(r.id)),
  ]);
}
