import { randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import type { InsertMemoryResult, Memory, NewMemory } from '../../core/ports/relational-store.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { contentHash, isUuid, liveSql, MEMORY_COLUMNS, toMemory } from './sql-rows.ts';

/** Locks the user's row (serialising their writes); `not_found` for an unknown user. */
export async function lockUser(tx: SqlExecutor, userId: string): Promise<void> {
  const users = isUuid(userId)
    ? await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId])
    : [];
  if (users.length === 0) throw new AppError('not_found', 'user not found');
}

/** Leaves a tombstone per deleted memory, so the indexes forget it durably. */
export async function leaveTombstones(
  tx: SqlExecutor,
  userId: string,
  memoryIds: readonly string[],
): Promise<void> {
  if (memoryIds.length === 0) return;
  await tx.query(
    `INSERT INTO memory_tombstones (memory_id, user_id)
     SELECT unnest($2::uuid[]), $1::uuid
     ON CONFLICT (memory_id) DO NOTHING`,
    [userId, memoryIds],
  );
}

/**
 * Deletes the user's expired memories that hold one of these contents: an
 * expired memory is gone, so saving its content again must store a new one
 * rather than answer with the old row (which the unique content key would).
 */
export async function dropExpiredContents(
  tx: SqlExecutor,
  userId: string,
  hashes: readonly string[],
): Promise<void> {
  if (hashes.length === 0) return;
  const gone = await tx.query<{ id: string }>(
    `DELETE FROM memories
     WHERE user_id = $1 AND content_hash = ANY($2::text[]) AND NOT ${liveSql()}
     RETURNING id`,
    [userId, [...new Set(hashes)]],
  );
  await leaveTombstones(
    tx,
    userId,
    gone.map((row) => String(row.id)),
  );
}

const isoOrNull = (date: Date | null | undefined) => date?.toISOString() ?? null;

// clock_timestamp, not now(), plus the position in the batch: memories saved together keep
// their order even where the clock is coarser than a microsecond (PGlite). Computed once per
// row (OFFSET 0 keeps the subquery from being inlined, which would call the clock twice), so
// an event time left out is the creation time exactly. In position order, so of two equal
// contents the first is stored.
const INSERT_SQL = `
  INSERT INTO memories
    (id, user_id, content, content_hash, tags, metadata, created_at, occurred_at, expires_at)
  SELECT t.id, $1, t.content, t.content_hash,
    ARRAY(SELECT jsonb_array_elements_text(t.tags)), t.metadata,
    t.created_at, COALESCE(t.occurred_at, t.created_at), t.expires_at
  FROM (
    SELECT u.*, clock_timestamp() + (u.position - 1) * interval '1 microsecond' AS created_at
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[],
        $7::timestamptz[], $8::timestamptz[])
      WITH ORDINALITY AS u(id, content, content_hash, tags, metadata, occurred_at, expires_at,
        position)
    OFFSET 0
  ) t
  ORDER BY t.position
  ON CONFLICT (user_id, content_hash) DO NOTHING
  RETURNING ${MEMORY_COLUMNS}`;

/** Inserts the user's memories with one statement; content the user already has is not stored twice. */
export async function insertBatch(
  tx: SqlExecutor,
  userId: string,
  memories: readonly NewMemory[],
): Promise<InsertMemoryResult[]> {
  const rows = memories.map((memory) => ({
    id: randomUUID(),
    hash: contentHash(memory.content),
    ...memory,
  }));
  await dropExpiredContents(
    tx,
    userId,
    rows.map((r) => r.hash),
  );
  const inserted = await tx.query(INSERT_SQL, [
    userId,
    rows.map((r) => r.id),
    rows.map((r) => r.content),
    rows.map((r) => r.hash),
    rows.map((r) => JSON.stringify(r.tags ?? [])),
    rows.map((r) => JSON.stringify(r.metadata ?? {})),
    rows.map((r) => isoOrNull(r.occurredAt)),
    rows.map((r) => isoOrNull(r.expiresAt)),
  ]);
  const created = new Map(inserted.map((row) => [String(row.id), toMemory(row)]));
  const missing = rows.filter((r) => !created.has(r.id)).map((r) => r.hash);
  const existing = new Map<string, Memory>();
  if (missing.length > 0) {
    const found = await tx.query(
      `SELECT ${MEMORY_COLUMNS}, content_hash FROM memories
       WHERE user_id = $1 AND content_hash = ANY($2::text[])`,
      [userId, [...new Set(missing)]],
    );
    for (const row of found) existing.set(String(row.content_hash), toMemory(row));
  }
  return rows.map((r) => {
    const memory = created.get(r.id);
    return memory ? { memory, created: true } : { memory: existing.get(r.hash)!, created: false };
  });
}
