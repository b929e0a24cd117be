import type { ExportedMemory, PortabilityStore } from '../../core/ports/portability-store.ts';
import type { SqlDriver } from './sql-driver.ts';
import { isUuid, liveSql, toMetadata, type Row } from './sql-rows.ts';

/** A timestamptz column as ISO 8601 text in UTC with microseconds (what an export writes). */
const isoUs = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

// Keyset paging in save order (the (user_id, created_at, id) index, read backwards), so a
// page costs the same however far into the user's memories it is. The times' text goes by
// other names: ORDER BY created_at must mean the column, not a text alias (which no index
// serves: every page would sort all the user's memories).
const EXPORT_SQL = `
  SELECT id, external_id, content, tags, metadata, state, index_state, revision,
    ${isoUs('created_at')} AS created_iso, ${isoUs('updated_at')} AS updated_iso,
    ${isoUs('occurred_at')} AS occurred_iso, ${isoUs('expires_at')} AS expires_iso
  FROM memories
  WHERE user_id = $1 AND ${liveSql()}
    AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
  ORDER BY created_at, id
  LIMIT $4`;

const toExported = (r: Row): ExportedMemory => ({
  id: String(r.id),
  externalId: r.external_id === null ? null : String(r.external_id),
  content: String(r.content),
  tags: (r.tags as string[]) ?? [],
  metadata: toMetadata(r.metadata),
  state: r.state as ExportedMemory['state'],
  indexState: r.index_state as ExportedMemory['indexState'],
  revision: Number(r.revision),
  createdAt: String(r.created_iso),
  updatedAt: String(r.updated_iso),
  occurredAt: String(r.occurred_iso),
  expiresAt: r.expires_iso === null ? null : String(r.expires_iso),
});

/** Reading a user's memories out, page by page, in SQL shared by PGlite and PostgreSQL. */
export function exportQueries(driver: SqlDriver): Pick<PortabilityStore, 'exportPage'> {
  return {
    async exportPage(userId, { limit, after }) {
      if (!isUuid(userId)) return [];
      const rows = await driver.query(EXPORT_SQL, [
        userId,
        after?.createdAt ?? null,
        after?.id ?? null,
        limit,
      ]);
      return rows.map(toExported);
    },
  };
}
