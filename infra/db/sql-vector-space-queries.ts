import { AppError } from '../../core/errors.ts';
import type {
  MemoryForEmbedding,
  RelationalStore,
  VectorSpaceRecord,
} from '../../core/ports/relational-store.ts';
import type { SqlDriver } from './sql-driver.ts';
import { isUuid, liveSql, toDate, toMetadata } from './sql-rows.ts';

type Row = Record<string, unknown>;

const toSpace = (r: Row): VectorSpaceRecord => ({
  id: String(r.id),
  dimension: Number(r.dimension),
  location: String(r.location),
  state: r.state as VectorSpaceRecord['state'],
  createdAt: new Date(r.created_at as string),
  activatedAt: r.activated_at ? new Date(r.activated_at as string) : null,
  retiredAt: r.retired_at ? new Date(r.retired_at as string) : null,
  droppedAt: r.dropped_at ? new Date(r.dropped_at as string) : null,
});

export type VectorSpaceQueries = Pick<
  RelationalStore,
  | 'listVectorSpaces'
  | 'registerVectorSpace'
  | 'activateVectorSpace'
  | 'markVectorSpaceDropped'
  | 'pageMemoriesForEmbedding'
>;

/** The embedding-space registry and the page walk that fills a new space. */
export function vectorSpaceQueries(driver: SqlDriver): VectorSpaceQueries {
  return {
    async listVectorSpaces() {
      const rows = await driver.query('SELECT * FROM vector_spaces ORDER BY created_at, id');
      return rows.map(toSpace);
    },

    async registerVectorSpace(space) {
      return driver.transaction(async (tx) => {
        await tx.query('LOCK TABLE vector_spaces IN SHARE ROW EXCLUSIVE MODE');
        const existing = await tx.query('SELECT * FROM vector_spaces WHERE id = $1', [space.id]);
        if (existing[0]?.state === 'retired') {
          // Coming back to a retired space: it missed every change since, so it is rebuilt.
          const rows = await tx.query(
            `UPDATE vector_spaces SET state = 'building', retired_at = NULL, dropped_at = NULL
             WHERE id = $1 RETURNING *`,
            [space.id],
          );
          return toSpace(rows[0]!);
        }
        if (existing[0]) return toSpace(existing[0]);
        const active = await tx.query("SELECT id FROM vector_spaces WHERE state = 'active'");
        // Only the first space may start active: a later one is built before it serves.
        const state = space.state === 'active' && active.length === 0 ? 'active' : 'building';
        const rows = await tx.query(
          `INSERT INTO vector_spaces (id, dimension, location, state, activated_at)
           VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'active' THEN now() END) RETURNING *`,
          [space.id, space.dimension, space.location, state],
        );
        return toSpace(rows[0]!);
      });
    },

    async activateVectorSpace(id) {
      return driver.transaction(async (tx) => {
        await tx.query('LOCK TABLE vector_spaces IN SHARE ROW EXCLUSIVE MODE');
        const target = await tx.query('SELECT * FROM vector_spaces WHERE id = $1', [id]);
        if (!target[0]) throw new AppError('not_found', `no vector space ${id}`);
        if (target[0].state === 'active') return toSpace(target[0]);
        await tx.query(
          "UPDATE vector_spaces SET state = 'retired', retired_at = now() WHERE state = 'active'",
        );
        const rows = await tx.query(
          "UPDATE vector_spaces SET state = 'active', activated_at = now() WHERE id = $1 RETURNING *",
          [id],
        );
        return toSpace(rows[0]!);
      });
    },

    async markVectorSpaceDropped(id) {
      const rows = await driver.query(
        `UPDATE vector_spaces SET dropped_at = now()
         WHERE id = $1 AND state = 'retired' AND dropped_at IS NULL RETURNING id`,
        [id],
      );
      return rows.length > 0;
    },

    async pageMemoriesForEmbedding({ limit, afterId }) {
      const rows = await driver.query(
        `SELECT id, user_id, content, tags, metadata, occurred_at, state FROM memories
         WHERE ($1::uuid IS NULL OR id > $1::uuid) AND ${liveSql()} ORDER BY id LIMIT $2`,
        [afterId && isUuid(afterId) ? afterId : null, Math.max(1, Math.min(limit, 1000))],
      );
      return rows.map((r) => ({
        id: String(r.id),
        userId: String(r.user_id),
        content: String(r.content),
        tags: (r.tags as string[]) ?? [],
        metadata: toMetadata(r.metadata),
        occurredAt: toDate(r.occurred_at),
        state: r.state as MemoryForEmbedding['state'],
      }));
    },
  };
}
