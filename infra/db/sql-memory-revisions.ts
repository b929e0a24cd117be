import type {
  MemoryRevision,
  MemoryRevisionUpdate,
  MemoryUpdateOutcome,
  RelationalStore,
} from '../../core/ports/relational-store.ts';
import { bumpVersion } from './sql-data-version.ts';
import { writeLane, type SqlDriver, type SqlExecutor } from './sql-driver.ts';
import { dropExpiredContents, insertBatch, lockUser } from './sql-memory-writes.ts';
import {
  contentHash,
  isUuid,
  liveSql,
  MEMORY_COLUMNS,
  toDate,
  toMemory,
  toMetadata,
  type Row,
} from './sql-rows.ts';

type RevisionQueries = Pick<RelationalStore, 'applyMemoryChanges' | 'memoryRevisions'>;

const REVISION_COLUMNS = 'memory_id, revision, content, tags, metadata, occurred_at, replaced_at';

const toRevision = (r: Row): MemoryRevision => ({
  memoryId: String(r.memory_id),
  revision: Number(r.revision),
  content: String(r.content),
  tags: (r.tags as string[]) ?? [],
  metadata: toMetadata(r.metadata),
  occurredAt: toDate(r.occurred_at),
  replacedAt: toDate(r.replaced_at),
});

/**
 * Keeps the memory's current content as a revision, inside the caller's
 * transaction (the memory row locked). A revision already kept is left as it is.
 */
export async function keepRevision(
  tx: SqlExecutor,
  userId: string,
  memoryId: string,
): Promise<MemoryRevision> {
  const rows = await tx.query(
    `INSERT INTO memory_revisions
       (memory_id, user_id, revision, content, tags, metadata, occurred_at, replaced_at)
     SELECT id, user_id, revision, content, tags, metadata, occurred_at, now()
     FROM memories WHERE id = $1 AND user_id = $2
     ON CONFLICT (memory_id, revision) DO UPDATE SET replaced_at = memory_revisions.replaced_at
     RETURNING ${REVISION_COLUMNS}`,
    [memoryId, userId],
  );
  return toRevision(rows[0]!);
}

/** One update under the user's lock: revised, or why not. */
async function reviseOne(
  tx: SqlExecutor,
  userId: string,
  update: MemoryRevisionUpdate,
): Promise<MemoryUpdateOutcome> {
  if (!isUuid(update.memoryId)) return { kind: 'changed' };
  const rows = await tx.query(
    `SELECT ${MEMORY_COLUMNS} FROM memories
     WHERE id = $1 AND user_id = $2 AND state = 'active' AND ${liveSql()} FOR UPDATE`,
    [update.memoryId, userId],
  );
  const current = rows[0] ? toMemory(rows[0]) : null;
  if (!current || current.revision !== update.revision) return { kind: 'changed' };
  const hash = contentHash(update.content);
  if (hash === contentHash(current.content)) return { kind: 'repeat', memory: current };
  await dropExpiredContents(tx, userId, [hash]);
  const clash = await tx.query(
    `SELECT ${MEMORY_COLUMNS} FROM memories WHERE user_id = $1 AND content_hash = $2 AND id <> $3`,
    [userId, hash, update.memoryId],
  );
  if (clash[0]) return { kind: 'repeat', memory: toMemory(clash[0]) };
  const previous = await keepRevision(tx, userId, update.memoryId);
  const updated = await tx.query(
    `UPDATE memories SET content = $3, content_hash = $4, updated_at = now(),
       revision = revision + 1, index_state = 'pending',
       occurred_at = COALESCE($5::timestamptz, now())
     WHERE id = $1 AND user_id = $2 RETURNING ${MEMORY_COLUMNS}`,
    [update.memoryId, userId, update.content, hash, update.occurredAt?.toISOString() ?? null],
  );
  return { kind: 'updated', memory: toMemory(updated[0]!), previous };
}

/** Revising memories while keeping what they said, in SQL shared by PGlite and PostgreSQL. */
export function revisionQueries(driver: SqlDriver): RevisionQueries {
  return {
    // A client waits on it (a conversation's facts): the write lane, which a flood of reads cannot hold.
    applyMemoryChanges: (userId, { inserts, updates }) =>
      writeLane(driver).transaction(async (tx) => {
        await lockUser(tx, userId);
        const updated: MemoryUpdateOutcome[] = [];
        // One at a time: a second update of the same memory sees the first one's revision.
        for (const update of updates) updated.push(await reviseOne(tx, userId, update));
        const inserted = inserts.length > 0 ? await insertBatch(tx, userId, inserts) : [];
        const changed =
          inserted.filter((r) => r.created).length +
          updated.filter((u) => u.kind === 'updated').length;
        if (changed > 0) await bumpVersion(tx, userId, changed);
        return { inserted, updated };
      }),

    async memoryRevisions(userId, memoryId) {
      if (!isUuid(userId) || !isUuid(memoryId)) return null;
      const live = await driver.query(
        `SELECT id FROM memories WHERE id = $1 AND user_id = $2 AND ${liveSql()}`,
        [memoryId, userId],
      );
      if (live.length === 0) return null;
      const rows = await driver.query(
        `SELECT ${REVISION_COLUMNS} FROM memory_revisions
         WHERE memory_id = $1 AND user_id = $2 ORDER BY revision DESC`,
        [memoryId, userId],
      );
      return rows.map(toRevision);
    },
  };
}
