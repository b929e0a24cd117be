import { AppError } from '../../core/errors.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import type { SqlDriver } from './sql-driver.ts';
import { isUuid } from './sql-rows.ts';

type PlanCacheQueries = Pick<
  RelationalStore,
  'getCachedPlan' | 'putCachedPlan' | 'purgeExpiredPlans'
>;

// invalid_text_representation, untranslatable_character: what jsonb says to JSON it cannot hold.
const JSON_REFUSED = new Set(['22P02', '22P05']);

/** The plan cache's L3 in SQL shared by PGlite and PostgreSQL (table from migration 4). */
export function planCacheQueries(driver: SqlDriver): PlanCacheQueries {
  return {
    async getCachedPlan(key) {
      const rows = await driver.query<{ value: unknown }>(
        'SELECT value FROM cached_plans WHERE key = $1 AND expires_at > now()',
        [key],
      );
      const value = rows[0]?.value;
      if (value === undefined) return null;
      return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
    },

    async putCachedPlan(userId, key, value, ttlMs) {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new AppError('internal', `cache TTL must be a positive number of ms, got ${ttlMs}`);
      }
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined) throw new AppError('bad_request', 'a cached plan must be JSON');
      if (!isUuid(userId)) throw new AppError('not_found', 'user not found');
      // Selecting from users turns an unknown user into no row rather than a foreign-key error.
      const rows = await driver
        .query(
          `INSERT INTO cached_plans (key, user_id, value, expires_at)
           SELECT $2, id, $3::jsonb, now() + $4::double precision * interval '1 millisecond'
           FROM users WHERE id = $1
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
             WHERE cached_plans.user_id = EXCLUDED.user_id
           RETURNING key`,
          [userId, key, json, ttlMs],
        )
        .catch((error: unknown) => {
          if (!JSON_REFUSED.has((error as { code?: string }).code ?? '')) throw error;
          throw new AppError(
            'bad_request',
            'a cached plan may not hold a NUL character or an unpaired surrogate (jsonb refuses them)',
            { cause: error },
          );
        });
      if (rows.length > 0) return;
      const users = await driver.query('SELECT id FROM users WHERE id = $1', [userId]);
      if (users.length === 0) throw new AppError('not_found', 'user not found');
      // Otherwise another user's plan holds the key: theirs stays.
    },

    async purgeExpiredPlans(limit) {
      if (!Number.isSafeInteger(limit) || limit < 1) return 0;
      // SKIP LOCKED: purgers in several processes share the work instead of queueing.
      const rows = await driver.query<{ n: number }>(
        `WITH gone AS (
           DELETE FROM cached_plans WHERE key IN (
             SELECT key FROM cached_plans WHERE expires_at <= now()
             ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [limit],
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
}
