import type { RelationalStore } from '../../core/ports/relational-store.ts';
import type { SqlDriver } from './sql-driver.ts';
import { isUuid } from './sql-rows.ts';

type UserQueries = Pick<RelationalStore, 'activeUsersSince'>;

/** User look-ups beyond the single-row ones, in SQL shared by PGlite and PostgreSQL. */
export function userQueries(driver: SqlDriver): UserQueries {
  return {
    async activeUsersSince(since, { limit, afterId }) {
      if (limit <= 0) return [];
      const rows = await driver.query<{ id: string }>(
        `SELECT id FROM users
         WHERE last_active_at >= $1::timestamptz AND ($2::uuid IS NULL OR id > $2::uuid)
         ORDER BY id LIMIT $3`,
        [since.toISOString(), afterId && isUuid(afterId) ? afterId : null, limit],
      );
      return rows.map((r) => String(r.id));
    },
  };
}
