import { randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import type { InsertMemoryResult, Memory, NewMemory } from '../../core/ports/relational-store.ts';
import { bumpVersion } from './sql-data-version.ts';
import { writeLane, type SqlDriver, type SqlExecutor } from './sql-driver.ts';
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

/**
 * Deletes the user's expired memories that hold one of these external ids:
 * an expired memory is gone, so saving or importing its id again stores a
 * new one (and an edit may give the id to another memory).
 */
export async function dropExpiredExternalIds(
  tx: SqlExecutor,
  userId: string,
  externalIds: readonly string[],
): Promise<void> {
  if (externalIds.length === 0) return;
  const gone = await tx.query<{ id: string }>(
    `DELETE FROM memories
     WHERE user_id = $1 AND external_id = ANY($2::text[]) AND NOT ${liveSql()}
     RETURNING id`,
    [userId, [...new Set(externalIds)]],
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
// contents the first is stored. ON CONFLICT without a target: content (unique per user) or an
// external id (unique per user when given) the user already has is not stored again.
const INSERT_SQL = `
  INSERT INTO memories
    (id, user_id, content, content_hash, tags, metadata, created_at, occurred_at, expires_at,
     external_id)
  SELECT t.id, $1, t.content, t.content_hash,
    ARRAY(SELECT jsonb_array_elements_text(t.tags)), t.metadata,
    t.created_at, COALESCE(t.occurred_at, t.created_at), t.expires_at, t.external_id
  FROM (
    SELECT u.*, clock_timestamp() + (u.position - 1) * interval '1 microsecond' AS created_at
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[],
        $7::timestamptz[], $8::timestamptz[], $9::text[])
      WITH ORDINALITY AS u(id, content, content_hash, tags, metadata, occurred_at, expires_at,
        external_id, position)
    OFFSET 0
  ) t
  ORDER BY t.position
  ON CONFLICT DO NOTHING
  RETURNING ${MEMORY_COLUMNS}`;

interface PreparedMemory extends NewMemory {
  id: string;
  hash: string;
}

const prepare = (memories: readonly NewMemory[]): PreparedMemory[] =>
  memories.map((memory) => ({ id: randomUUID(), hash: contentHash(memory.content), ...memory }));

const insertParams = (userId: string, rows: readonly PreparedMemory[]) => [
  userId,
  rows.map((r) => r.id),
  rows.map((r) => r.content),
  rows.map((r) => r.hash),
  rows.map((r) => JSON.stringify(r.tags ?? [])),
  rows.map((r) => JSON.stringify(r.metadata ?? {})),
  rows.map((r) => isoOrNull(r.occurredAt)),
  rows.map((r) => isoOrNull(r.expiresAt)),
  rows.map((r) => r.externalId ?? null),
];

// One statement, so one round trip: lock the user's row (as lockUser does, so writes take the
// same locks in the same order), insert what is new, and count it in the data version.
const FAST_INSERT_SQL = `
  WITH owner AS (SELECT id FROM users WHERE id = $1 FOR UPDATE),
  inserted AS (${INSERT_SQL.replace(
    'ORDER BY t.position',
    'WHERE EXISTS (SELECT 1 FROM owner)\n  ORDER BY t.position',
  )}),
  bumped AS (
    UPDATE users SET data_version = data_version + (SELECT count(*) FROM inserted),
      last_active_at = now()
    WHERE id = $1 AND EXISTS (SELECT 1 FROM inserted)
  )
  SELECT * FROM inserted`;

/**
 * Saves the user's memories, each once: in one statement when all are new
 * (the common case), else the new ones so and the rest through
 * {@link insertBatch} in a transaction, which finds the memories they repeat,
 * replaces expired ones and tells an unknown user apart.
 */
export async function saveMemories(
  driver: SqlDriver,
  userId: string,
  memories: readonly NewMemory[],
): Promise<InsertMemoryResult[]> {
  if (memories.length === 0) return [];
  const rows = prepare(memories);
  const lane = writeLane(driver);
  const inserted = isUuid(userId)
    ? await lane.query(FAST_INSERT_SQL, insertParams(userId, rows))
    : [];
  const created = new Map(inserted.map((row) => [String(row.id), toMemory(row)]));
  const rest = rows.filter((r) => !created.has(r.id));
  const others =
    rest.length === 0
      ? []
      : await lane.transaction(async (tx) => {
          await lockUser(tx, userId);
          const results = await insertPrepared(tx, userId, rest);
          const count = results.filter((r) => r.created).length;
          if (count > 0) await bumpVersion(tx, userId, count);
          return results;
        });
  const byId = new Map(rest.map((r, i) => [r.id, others[i]!]));
  return rows.map((r) => {
    const memory = created.get(r.id);
    return memory ? { memory, created: true } : byId.get(r.id)!;
  });
}

/** Inserts the user's memories with one statement; content the user already has is not stored twice. */
export function insertBatch(
  tx: SqlExecutor,
  userId: string,
  memories: readonly NewMemory[],
): Promise<InsertMemoryResult[]> {
  return insertPrepared(tx, userId, prepare(memories));
}

async function insertPrepared(
  tx: SqlExecutor,
  userId: string,
  rows: readonly PreparedMemory[],
): Promise<InsertMemoryResult[]> {
  await dropExpiredContents(
    tx,
    userId,
    rows.map((r) => r.hash),
  );
  await dropExpiredExternalIds(tx, userId, externalIdsOf(rows));
  const inserted = await tx.query(INSERT_SQL, insertParams(userId, rows));
  const created = new Map(inserted.map((row) => [String(row.id), toMemory(row)]));
  const repeats = await findRepeated(
    tx,
    userId,
    rows.filter((r) => !created.has(r.id)),
  );
  return rows.map((r) => {
    const memory = created.get(r.id);
    if (memory) return { memory, created: true };
    // The memory with the same external id is the one repeated; else the same content.
    const repeated =
      (r.externalId && repeats.byExternalId.get(r.externalId)) || repeats.byHash.get(r.hash);
    return { memory: repeated!, created: false };
  });
}

const externalIdsOf = (rows: readonly PreparedMemory[]) =>
  rows.flatMap((r) => (r.externalId === undefined ? [] : [r.externalId]));

/** The user's memories that rows not inserted repeat, by external id and by content. */
async function findRepeated(tx: SqlExecutor, userId: string, rows: readonly PreparedMemory[]) {
  const byHash = new Map<string, Memory>();
  const byExternalId = new Map<string, Memory>();
  if (rows.length > 0) {
    const found = await tx.query(
      `SELECT ${MEMORY_COLUMNS}, content_hash FROM memories
       WHERE user_id = $1 AND (content_hash = ANY($2::text[]) OR external_id = ANY($3::text[]))`,
      [userId, [...new Set(rows.map((r) => r.hash))], [...new Set(externalIdsOf(rows))]],
    );
    for (const row of found) {
      const memory = toMemory(row);
      byHash.set(String(row.content_hash), memory);
      if (memory.externalId) byExternalId.set(memory.externalId, memory);
    }
  }
  return { byHash, byExternalId };
}
