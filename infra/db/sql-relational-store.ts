import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import type {
  InsertMemoryResult,
  ListMemoriesInput,
  Memory,
  MemoryPage,
  Narrative,
  NewMemory,
  NewNarrative,
  RelationalStore,
  SelfCheck,
  User,
} from '../../core/ports/relational-store.ts';
import { migrate } from './migrations.ts';
import type { SqlDriver } from './sql-driver.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `id` can name a row (anything else can never match one). */
export const isUuid = (id: string): boolean => UUID.test(id);

/** Same content, whatever its spacing or case, is the same memory. */
export function contentHash(content: string): string {
  const normalized = content.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  return createHash('sha256').update(normalized).digest('hex');
}

type Row = Record<string, unknown>;

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

const toUser = (r: Row): User => ({
  id: String(r.id),
  name: r.name === null ? null : String(r.name),
  dataVersion: Number(r.data_version),
  createdAt: toDate(r.created_at),
  lastActiveAt: r.last_active_at === null ? null : toDate(r.last_active_at),
});

const toMemory = (r: Row): Memory => ({
  id: String(r.id),
  userId: String(r.user_id),
  content: String(r.content),
  tags: (r.tags as string[]) ?? [],
  metadata: (typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata) as Record<
    string,
    unknown
  >,
  state: r.state as Memory['state'],
  indexState: r.index_state as Memory['indexState'],
  createdAt: toDate(r.created_at),
  updatedAt: toDate(r.updated_at),
});

const toNarrative = (r: Row): Narrative => ({
  userId: String(r.user_id),
  version: Number(r.version),
  content: String(r.content),
  dataVersion: Number(r.data_version),
  model: String(r.model),
  createdAt: toDate(r.created_at),
});

const toSelfCheck = (r: Row): SelfCheck => ({
  id: String(r.id),
  workflowId: String(r.workflow_id),
  note: String(r.note),
  createdAt: toDate(r.created_at),
});

function encodeCursor(memory: Memory): string {
  return Buffer.from(`${memory.createdAt.toISOString()}|${memory.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || !isUuid(id) || Number.isNaN(Date.parse(createdAt))) {
    throw new AppError('bad_request', 'cursor is not one this API returned');
  }
  return { createdAt, id };
}

/**
 * The relational store over any PostgreSQL-speaking driver. Migrates the
 * schema before it returns.
 */
export async function createSqlRelationalStore(driver: SqlDriver): Promise<RelationalStore> {
  await migrate(driver);

  return {
    kind: driver.kind,

    async ping() {
      await driver.query('SELECT 1');
    },

    close: () => driver.close(),

    async createUser({ name = null }) {
      const rows = await driver.query('INSERT INTO users (id, name) VALUES ($1, $2) RETURNING *', [
        randomUUID(),
        name,
      ]);
      return toUser(rows[0]!);
    },

    async getUser(userId) {
      if (!isUuid(userId)) return null;
      const rows = await driver.query('SELECT * FROM users WHERE id = $1', [userId]);
      return rows[0] ? toUser(rows[0]) : null;
    },

    async insertMemory(userId, memory: NewMemory): Promise<InsertMemoryResult> {
      if (!isUuid(userId)) throw new AppError('not_found', 'user not found');
      return driver.transaction(async (tx) => {
        const users = await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
        if (users.length === 0) throw new AppError('not_found', 'user not found');
        const hash = contentHash(memory.content);
        const inserted = await tx.query(
          `INSERT INTO memories (id, user_id, content, content_hash, tags, metadata)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (user_id, content_hash) DO NOTHING
           RETURNING *`,
          [
            randomUUID(),
            userId,
            memory.content,
            hash,
            memory.tags ?? [],
            JSON.stringify(memory.metadata ?? {}),
          ],
        );
        if (inserted[0]) {
          await tx.query(
            'UPDATE users SET data_version = data_version + 1, last_active_at = now() WHERE id = $1',
            [userId],
          );
          return { memory: toMemory(inserted[0]), created: true };
        }
        const existing = await tx.query(
          'SELECT * FROM memories WHERE user_id = $1 AND content_hash = $2',
          [userId, hash],
        );
        return { memory: toMemory(existing[0]!), created: false };
      });
    },

    async getMemory(userId, memoryId) {
      if (!isUuid(userId) || !isUuid(memoryId)) return null;
      const rows = await driver.query('SELECT * FROM memories WHERE id = $1 AND user_id = $2', [
        memoryId,
        userId,
      ]);
      return rows[0] ? toMemory(rows[0]) : null;
    },

    async listMemories(userId, { limit, cursor }: ListMemoriesInput): Promise<MemoryPage> {
      if (!isUuid(userId)) return { items: [], nextCursor: null };
      const after = cursor ? decodeCursor(cursor) : null;
      const rows = await driver.query(
        `SELECT * FROM memories
         WHERE user_id = $1
           AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
         ORDER BY created_at DESC, id DESC
         LIMIT $4`,
        [userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
      );
      const items = rows.slice(0, limit).map(toMemory);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },

    async deleteMemory(userId, memoryId) {
      if (!isUuid(userId) || !isUuid(memoryId)) return false;
      return driver.transaction(async (tx) => {
        const deleted = await tx.query(
          'DELETE FROM memories WHERE id = $1 AND user_id = $2 RETURNING id',
          [memoryId, userId],
        );
        if (deleted.length === 0) return false;
        await tx.query('UPDATE users SET data_version = data_version + 1 WHERE id = $1', [userId]);
        return true;
      });
    },

    async saveNarrative(userId, narrative: NewNarrative) {
      if (!isUuid(userId)) throw new AppError('not_found', 'user not found');
      return driver.transaction(async (tx) => {
        const users = await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
        if (users.length === 0) throw new AppError('not_found', 'user not found');
        const rows = await tx.query(
          `INSERT INTO narratives (user_id, version, content, data_version, model)
           SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM narratives WHERE user_id = $1
           RETURNING *`,
          [userId, narrative.content, narrative.dataVersion, narrative.model],
        );
        return toNarrative(rows[0]!);
      });
    },

    async latestNarrative(userId) {
      if (!isUuid(userId)) return null;
      const rows = await driver.query(
        'SELECT * FROM narratives WHERE user_id = $1 ORDER BY version DESC LIMIT 1',
        [userId],
      );
      return rows[0] ? toNarrative(rows[0]) : null;
    },

    async recordSelfCheck({ workflowId, note }) {
      // Keyed by workflow id so a retried activity records the check once.
      const rows = await driver.query(
        `INSERT INTO self_checks (id, workflow_id, note) VALUES ($1, $2, $3)
         ON CONFLICT (workflow_id) DO UPDATE SET note = self_checks.note
         RETURNING *`,
        [randomUUID(), workflowId, note],
      );
      return toSelfCheck(rows[0]!);
    },

    async getSelfCheck(id) {
      if (!isUuid(id)) return null;
      const rows = await driver.query('SELECT * FROM self_checks WHERE id = $1', [id]);
      return rows[0] ? toSelfCheck(rows[0]) : null;
    },
  };
}
