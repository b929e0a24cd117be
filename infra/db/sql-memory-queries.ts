import { AppError } from '../../core/errors.ts';
import type { NewMemory, RelationalStore } from '../../core/ports/relational-store.ts';
import { filterPayloadChanged } from '../../core/memories/payload-change.ts';
import { bumpVersion } from './sql-data-version.ts';
import { writeLane, type SqlDriver } from './sql-driver.ts';
import { keepRevision } from './sql-memory-revisions.ts';
import {
  dropExpiredContents,
  dropExpiredExternalIds,
  leaveTombstones,
  lockUser,
  saveMemories,
} from './sql-memory-writes.ts';
import {
  contentHash,
  CREATED_CURSOR_SQL,
  decodeCursor,
  encodeCursor,
  isUuid,
  liveSql,
  MEMORY_COLUMNS,
  toMemory,
} from './sql-rows.ts';
import { filterJson, filterSql, filterStateSql } from './sql-filter.ts';
import { searchText } from './sql-text-search.ts';

type MemoryQueries = Pick<
  RelationalStore,
  | 'insertMemory'
  | 'insertMemories'
  | 'getMemory'
  | 'getMemories'
  | 'listMemories'
  | 'recentMemories'
  | 'searchText'
  | 'updateMemory'
  | 'deleteMemory'
>;

/** Saving, reading, editing and deleting memories, in SQL shared by PGlite and PostgreSQL. */
export function memoryQueries(driver: SqlDriver): MemoryQueries {
  const insertMemories = async (userId: string, memories: readonly NewMemory[]) => {
    if (memories.length > 0) return saveMemories(driver, userId, memories);
    // Nothing to save still says whether the user exists.
    await driver.transaction((tx) => lockUser(tx, userId));
    return [];
  };

  return {
    insertMemories,

    async insertMemory(userId, memory) {
      const [result] = await insertMemories(userId, [memory]);
      return result!;
    },

    async getMemory(userId, memoryId) {
      if (!isUuid(userId) || !isUuid(memoryId)) return null;
      const rows = await driver.query(
        `SELECT ${MEMORY_COLUMNS} FROM memories WHERE id = $1 AND user_id = $2 AND ${liveSql()}`,
        [memoryId, userId],
      );
      return rows[0] ? toMemory(rows[0]) : null;
    },

    async getMemories(userId, ids) {
      const valid = ids.filter(isUuid);
      if (!isUuid(userId) || valid.length === 0) return [];
      const rows = await driver.query(
        `SELECT ${MEMORY_COLUMNS} FROM memories
         WHERE user_id = $1 AND id = ANY($2::uuid[]) AND ${liveSql()}`,
        [userId, valid],
      );
      return rows.map(toMemory);
    },

    searchText: (queries) => searchText(driver, queries),

    async listMemories(userId, input) {
      if (!isUuid(userId)) return { items: [], nextCursor: null };
      const after = input.cursor ? decodeCursor(input.cursor) : null;
      const rows = await driver.query(
        `SELECT ${MEMORY_COLUMNS}, ${CREATED_CURSOR_SQL} FROM memories
         WHERE user_id = $1 AND ${liveSql()}
           AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
           AND ($4::text IS NULL OR $4::text = ANY(tags))
           AND ($5::timestamptz IS NULL OR occurred_at >= $5::timestamptz)
           AND ($6::timestamptz IS NULL OR occurred_at < $6::timestamptz)
           AND ($7::text IS NULL OR state = $7::text)
         ORDER BY created_at DESC, id DESC
         LIMIT $8`,
        [
          userId,
          after?.createdAt ?? null,
          after?.id ?? null,
          input.tag ?? null,
          input.from?.toISOString() ?? null,
          input.to?.toISOString() ?? null,
          input.state ?? null,
          input.limit + 1,
        ],
      );
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(toMemory),
        nextCursor:
          rows.length > input.limit && last
            ? encodeCursor(String(last.created_cursor), String(last.id))
            : null,
      };
    },

    async recentMemories(userId, limit, filter) {
      if (!isUuid(userId)) return [];
      // Without a filter the partial index on active memories' event times serves alone.
      const rows = filter
        ? await driver.query(
            `SELECT ${MEMORY_COLUMNS} FROM memories m
             WHERE user_id = $1 AND state = ${filterStateSql('$3::jsonb')} AND ${liveSql()}
               AND ${filterSql('$3::jsonb')}
             ORDER BY occurred_at DESC, id DESC LIMIT $2`,
            [userId, limit, JSON.stringify(filterJson(filter))],
          )
        : await driver.query(
            `SELECT ${MEMORY_COLUMNS} FROM memories
             WHERE user_id = $1 AND state = 'active' AND ${liveSql()}
             ORDER BY occurred_at DESC, id DESC LIMIT $2`,
            [userId, limit],
          );
      return rows.map(toMemory);
    },

    async updateMemory(userId, memoryId, patch) {
      if (!isUuid(userId) || !isUuid(memoryId)) return null;
      // A client waits on it: the write lane, which a flood of reads cannot hold.
      return writeLane(driver).transaction(async (tx) => {
        // A new external id is checked under the user's lock, as saves take it (user, then
        // memory), so two writes can never both find it free.
        if (patch.externalId) await lockUser(tx, userId);
        const rows = await tx.query(
          `SELECT ${MEMORY_COLUMNS} FROM memories
           WHERE id = $1 AND user_id = $2 AND ${liveSql()} FOR UPDATE`,
          [memoryId, userId],
        );
        if (!rows[0]) return null;
        const current = toMemory(rows[0]);
        const content = patch.content ?? current.content;
        const hash = contentHash(content);
        const contentChanged = hash !== contentHash(current.content);
        const next = {
          tags: patch.tags ?? current.tags,
          metadata: patch.metadata ?? current.metadata,
          state: patch.state ?? current.state,
          occurredAt: patch.occurredAt ?? current.occurredAt,
        };
        // Content and what filters read (tags, metadata, state, event time) live in the
        // indexes; a change there needs a new index pass.
        const reindex = contentChanged || filterPayloadChanged(current, next);
        if (contentChanged) {
          await dropExpiredContents(tx, userId, [hash]);
          const clash = await tx.query(
            'SELECT id FROM memories WHERE user_id = $1 AND content_hash = $2 AND id <> $3',
            [userId, hash, memoryId],
          );
          if (clash[0]) {
            throw new AppError('conflict', 'another memory already has this content', {
              details: { memory_id: String(clash[0].id) },
            });
          }
          // What the memory said before stays readable at GET /v1/memories/:id/revisions.
          await keepRevision(tx, userId, memoryId);
        }
        if (patch.externalId && patch.externalId !== current.externalId) {
          await dropExpiredExternalIds(tx, userId, [patch.externalId]);
          const taken = await tx.query(
            'SELECT id FROM memories WHERE user_id = $1 AND external_id = $2 AND id <> $3',
            [userId, patch.externalId, memoryId],
          );
          if (taken[0]) {
            throw new AppError('conflict', 'another memory already has this external_id', {
              details: { memory_id: String(taken[0].id) },
            });
          }
        }
        const updated = await tx.query(
          `UPDATE memories SET content = $3, content_hash = $4, tags = $5, metadata = $6,
             state = $7, updated_at = now(),
             revision = revision + $8::int,
             index_state = CASE WHEN $8::int = 1 THEN 'pending' ELSE index_state END,
             occurred_at = COALESCE($9::timestamptz, occurred_at),
             expires_at = CASE WHEN $10::boolean THEN $11::timestamptz ELSE expires_at END,
             external_id = CASE WHEN $12::boolean THEN $13::text ELSE external_id END
           WHERE id = $1 AND user_id = $2 RETURNING ${MEMORY_COLUMNS}`,
          [
            memoryId,
            userId,
            content,
            hash,
            next.tags,
            JSON.stringify(next.metadata),
            next.state,
            reindex ? 1 : 0,
            patch.occurredAt?.toISOString() ?? null,
            patch.expiresAt !== undefined,
            patch.expiresAt?.toISOString() ?? null,
            patch.externalId !== undefined,
            patch.externalId ?? null,
          ],
        );
        await bumpVersion(tx, userId);
        return toMemory(updated[0]!);
      });
    },

    async deleteMemory(userId, memoryId) {
      if (!isUuid(userId) || !isUuid(memoryId)) return false;
      return writeLane(driver).transaction(async (tx) => {
        // An expired memory's row goes too, but for the caller there was nothing to delete.
        const deleted = await tx.query<{ live: boolean }>(
          `DELETE FROM memories WHERE id = $1 AND user_id = $2 RETURNING ${liveSql()} AS live`,
          [memoryId, userId],
        );
        if (deleted.length === 0) return false;
        await leaveTombstones(tx, userId, [memoryId]);
        await bumpVersion(tx, userId);
        return deleted[0]!.live === true;
      });
    },
  };
}
