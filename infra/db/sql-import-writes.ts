import { randomUUID } from 'node:crypto';
import type { ImportLine } from '../../core/ports/portability-store.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { dropExpiredContents, dropExpiredExternalIds } from './sql-memory-writes.ts';
import { contentHash, liveSql } from './sql-rows.ts';

/**
 * How long an imported memory counts as requested for indexing: its import's
 * run takes it, so the index reconciler (which re-requests pending memories
 * nobody asked for lately) must not send it to the shard runs as well. The
 * lease runs a minute past the time the import's run would reach the line at
 * {@link IMPORT_LEASE_FLOOR_PER_S} memories a second; a run that falls
 * further behind (or died for good) is backed up by the reconciler.
 */
export const IMPORT_LEASE_FLOOR_PER_S = 50;

// Given times are kept exactly (an export's microseconds included); a creation time left out
// is the save time, one microsecond apart per line as saves keep their order. The line and
// import are recorded for the import's indexing run. ON CONFLICT without a target: a line
// whose content (unique per user) or external_id (unique per user when given) the user
// already has is a duplicate, and so is the second of two such lines in one batch.
const INSERT_SQL = `
  INSERT INTO memories
    (id, user_id, content, content_hash, tags, metadata, state, created_at, updated_at,
     occurred_at, expires_at, external_id, import_id, import_line, index_requested_at)
  SELECT t.id, $1, t.content, t.content_hash,
    ARRAY(SELECT jsonb_array_elements_text(t.tags)), t.metadata, t.state,
    t.created, COALESCE(t.updated_at, t.created), COALESCE(t.occurred_at, t.created),
    t.expires_at, t.external_id, $2, t.line,
    now() + interval '1 minute' + t.line * ($3::float8 * interval '1 second')
  FROM (
    SELECT u.*,
      COALESCE(u.created_at, clock_timestamp() + (u.position - 1) * interval '1 microsecond')
        AS created
    FROM unnest($4::uuid[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::text[],
        $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
        $14::text[], $15::int[])
      WITH ORDINALITY AS u(id, content, content_hash, tags, metadata, state, created_at,
        updated_at, occurred_at, expires_at, external_id, line, position)
    OFFSET 0
  ) t
  ORDER BY t.position
  ON CONFLICT DO NOTHING
  RETURNING id`;

/** Whether the user holds an expired memory (one probe of the expiry index; rarely true). */
async function hasExpired(tx: SqlExecutor, userId: string): Promise<boolean> {
  const [row] = await tx.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM memories
       WHERE user_id = $1 AND expires_at IS NOT NULL AND NOT ${liveSql()}) AS any`,
    [userId],
  );
  return row?.any === true;
}

/**
 * Stores an import's lines as the user's memories with one statement, in
 * line order, inside the caller's transaction (which holds the user's row
 * lock). Returns how many were created; the others were duplicates.
 */
export async function insertImportLines(
  tx: SqlExecutor,
  userId: string,
  importId: string,
  lines: readonly ImportLine[],
): Promise<number> {
  if (lines.length === 0) return 0;
  const rows = lines.map(({ line, memory }) => ({
    id: randomUUID(),
    hash: contentHash(memory.content),
    line,
    ...memory,
  }));
  if (await hasExpired(tx, userId)) {
    await dropExpiredContents(
      tx,
      userId,
      rows.map((r) => r.hash),
    );
    await dropExpiredExternalIds(
      tx,
      userId,
      rows.flatMap((r) => (r.externalId === null ? [] : [r.externalId])),
    );
  }
  const inserted = await tx.query(INSERT_SQL, [
    userId,
    importId,
    1 / IMPORT_LEASE_FLOOR_PER_S,
    rows.map((r) => r.id),
    rows.map((r) => r.content),
    rows.map((r) => r.hash),
    rows.map((r) => JSON.stringify(r.tags)),
    rows.map((r) => JSON.stringify(r.metadata)),
    rows.map((r) => r.state),
    rows.map((r) => r.createdAt),
    rows.map((r) => r.updatedAt),
    rows.map((r) => r.occurredAt),
    rows.map((r) => r.expiresAt),
    rows.map((r) => r.externalId),
    rows.map((r) => r.line),
  ]);
  return inserted.length;
}
