import { createHash } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import type {
  ApiKeyRecord,
  Memory,
  Narrative,
  SelfCheck,
  User,
} from '../../core/ports/relational-store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `id` can name a row (anything else can never match one). */
export const isUuid = (id: string): boolean => UUID.test(id);

/** Same content, whatever its spacing or case, is the same memory. */
export function contentHash(content: string): string {
  const normalized = content.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  return createHash('sha256').update(normalized).digest('hex');
}

export type Row = Record<string, unknown>;

/** A timestamp column as a Date (PGlite and `pg` may hand back either). */
export const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
/** A jsonb column as an object (PGlite hands back text where `pg` parses it). */
export const toMetadata = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
const toDateOrNull = (v: unknown): Date | null =>
  v === null || v === undefined ? null : toDate(v);

export const toUser = (r: Row): User => ({
  id: String(r.id),
  name: r.name === null ? null : String(r.name),
  dataVersion: Number(r.data_version),
  createdAt: toDate(r.created_at),
  lastActiveAt: toDateOrNull(r.last_active_at),
});

/**
 * The columns `toMemory` reads. Never `SELECT *` from memories: the generated
 * `search_tsv` column is as long as the content and costs a parse per row.
 */
export const MEMORY_COLUMNS =
  'id, user_id, content, tags, metadata, state, index_state, revision, created_at, updated_at, ' +
  'occurred_at, expires_at, external_id';

/**
 * SQL true for a memory that has not expired (`alias` names the memories
 * table when the query joins): every read of memories adds it, so an expired
 * memory is gone everywhere at once, by the database's clock.
 */
export const liveSql = (alias = ''): string => {
  const column = alias ? `${alias}.expires_at` : 'expires_at';
  return `(${column} IS NULL OR ${column} > now())`;
};

export const toMemory = (r: Row): Memory => ({
  id: String(r.id),
  userId: String(r.user_id),
  content: String(r.content),
  tags: (r.tags as string[]) ?? [],
  metadata: toMetadata(r.metadata),
  state: r.state as Memory['state'],
  indexState: r.index_state as Memory['indexState'],
  revision: Number(r.revision),
  createdAt: toDate(r.created_at),
  updatedAt: toDate(r.updated_at),
  occurredAt: toDate(r.occurred_at),
  expiresAt: toDateOrNull(r.expires_at),
  externalId: r.external_id === null || r.external_id === undefined ? null : String(r.external_id),
});

export const toNarrative = (r: Row): Narrative => ({
  userId: String(r.user_id),
  version: Number(r.version),
  content: String(r.content),
  dataVersion: Number(r.data_version),
  model: String(r.model),
  createdAt: toDate(r.created_at),
});

export const toSelfCheck = (r: Row): SelfCheck => ({
  id: String(r.id),
  workflowId: String(r.workflow_id),
  note: String(r.note),
  createdAt: toDate(r.created_at),
});

export const toApiKey = (r: Row): ApiKeyRecord => ({
  id: String(r.id),
  userId: String(r.user_id),
  prefix: String(r.prefix),
  createdAt: toDate(r.created_at),
  revokedAt: toDateOrNull(r.revoked_at),
});

/**
 * An opaque position in a newest-first listing. The time must keep the
 * database's microseconds (`created_cursor` in the query): a JavaScript Date
 * keeps milliseconds only, and a cursor rounded down would skip memories
 * created within the same millisecond.
 */
export function encodeCursor(createdAtText: string, id: string): string {
  return Buffer.from(`${createdAtText}|${id}`).toString('base64url');
}

/** SQL selecting `created_at` as an ISO string with microseconds, for cursors. */
export const CREATED_CURSOR_SQL = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_cursor`;

// Exactly what CREATED_CURSOR_SQL writes: four-digit years, microseconds, UTC.
const CURSOR_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;

/**
 * True when `text` is a time {@link CREATED_CURSOR_SQL} can have written: the
 * format exactly, a real calendar date from year 1 (PostgreSQL refuses year
 * 0, which `Date.parse` takes, as it takes many forms PostgreSQL reads
 * otherwise or not at all).
 */
function isCursorTime(text: string): boolean {
  const parts = CURSOR_TIME.exec(text)?.slice(1).map(Number);
  if (!parts) return false;
  const [year, month, day, hour, minute, second] = parts as [number, ...number[]];
  const date = new Date(0);
  date.setUTCFullYear(year, month! - 1, day);
  date.setUTCHours(hour!, minute, second);
  return (
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month! - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

/** The position a cursor from {@link encodeCursor} names; a `bad_request` for any other string. */
export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || extra !== undefined || !isUuid(id) || !isCursorTime(createdAt)) {
    throw new AppError('bad_request', 'cursor: not a cursor this API returned');
  }
  return { createdAt, id };
}
