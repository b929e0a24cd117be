import { randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import type { NewNarrative, RelationalStore } from '../../core/ports/relational-store.ts';
import { createKeyCache, KEY_REVOKED_CHANNEL } from './api-key-cache.ts';
import { createVersionCache, DATA_VERSION_CHANNEL } from './data-version-cache.ts';
import { hearingHandlers } from './hearing.ts';
import { createNarrativeCache, NARRATIVE_CHANNEL } from './narrative-cache.ts';
import { migrate } from './migrations.ts';
import type { SqlDriver } from './sql-driver.ts';
import { consolidationQueries } from './sql-consolidation-queries.ts';
import { crossUserQueries } from './sql-cross-user-queries.ts';
import { indexStateQueries } from './sql-index-state-queries.ts';
import { memoryQueries } from './sql-memory-queries.ts';
import { revisionQueries } from './sql-memory-revisions.ts';
import { planCacheQueries } from './sql-plan-cache-queries.ts';
import { vectorSpaceQueries } from './sql-vector-space-queries.ts';
import { userQueries } from './sql-user-queries.ts';
import { isUuid, toApiKey, toNarrative, toSelfCheck, toUser } from './sql-rows.ts';

export { contentHash, isUuid } from './sql-rows.ts';

/**
 * The relational store over any PostgreSQL-speaking driver. Migrates the
 * schema before it returns.
 */
export async function createSqlRelationalStore(driver: SqlDriver): Promise<RelationalStore> {
  await migrate(driver);
  // Where another process may revoke a key, the cache waits until it hears revocations.
  const keys = createKeyCache(!driver.listen);
  // Without LISTEN (PGlite) these never become usable: versions and narratives are read every time.
  const versions = createVersionCache();
  const narratives = createNarrativeCache();
  const stopHearing = [
    driver.listen?.(
      KEY_REVOKED_CHANNEL,
      hearingHandlers(keys, (keyId) => keys.revoked(keyId)),
    ),
    driver.listen?.(
      DATA_VERSION_CHANNEL,
      hearingHandlers(versions, (p) => versions.heard(p)),
    ),
    driver.listen?.(
      NARRATIVE_CHANNEL,
      hearingHandlers(narratives, (id) => narratives.heard(id)),
    ),
  ];

  return {
    kind: driver.kind,
    ...memoryQueries(driver),
    ...revisionQueries(driver),
    ...crossUserQueries(driver),
    ...indexStateQueries(driver),
    ...consolidationQueries(driver),
    ...planCacheQueries(driver),
    ...vectorSpaceQueries(driver),
    ...userQueries(driver),

    async ping() {
      await driver.query('SELECT 1');
    },

    async close() {
      await Promise.all(stopHearing.map((stop) => stop?.()));
      await driver.close();
    },

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

    async dataVersionOf(userId) {
      if (!isUuid(userId)) return null;
      const remembered = versions.get(userId);
      if (remembered !== undefined) return remembered;
      const startedAt = versions.begin();
      const rows = await driver.query<{ data_version: string | number }>(
        'SELECT data_version FROM users WHERE id = $1',
        [userId],
      );
      if (!rows[0]) return null;
      const version = Number(rows[0].data_version);
      versions.set(userId, version, startedAt);
      return version;
    },

    async touchUser(userId) {
      if (!isUuid(userId)) return;
      // At most one write a minute per user: activity is tracked for the 48 h window.
      await driver.query(
        `UPDATE users SET last_active_at = now()
         WHERE id = $1 AND (last_active_at IS NULL OR last_active_at < now() - interval '1 minute')`,
        [userId],
      );
    },

    async insertApiKey(userId, key) {
      if (!isUuid(userId)) throw new AppError('not_found', 'user not found');
      const users = await driver.query('SELECT id FROM users WHERE id = $1', [userId]);
      if (users.length === 0) throw new AppError('not_found', 'user not found');
      const rows = await driver.query(
        'INSERT INTO api_keys (id, user_id, key_hash, prefix) VALUES ($1, $2, $3, $4) RETURNING *',
        [randomUUID(), userId, key.hash, key.prefix],
      );
      return toApiKey(rows[0]!);
    },

    async findUserByKeyHash(hash) {
      const remembered = keys.get(hash);
      if (remembered !== undefined) return remembered;
      const startedAt = keys.begin();
      const rows = await driver.query<{ id: string; user_id: string }>(
        'SELECT id, user_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [hash],
      );
      const row = rows[0];
      const owner = row ? { userId: String(row.user_id), keyId: String(row.id) } : null;
      keys.set(hash, owner, startedAt);
      return owner;
    },

    async revokeApiKey(keyId) {
      if (!isUuid(keyId)) return false;
      // The notification goes out when the revocation commits, to every process listening.
      const rows = await driver.query(
        `WITH revoked AS (
           UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id
         )
         SELECT id, pg_notify($2, id::text) FROM revoked`,
        [keyId, KEY_REVOKED_CHANNEL],
      );
      keys.revoked(keyId);
      return rows.length > 0;
    },

    async saveNarrative(userId, narrative: NewNarrative) {
      if (!isUuid(userId)) throw new AppError('not_found', 'user not found');
      return driver.transaction(async (tx) => {
        const users = await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
        if (users.length === 0) throw new AppError('not_found', 'user not found');
        // Under the user's row lock: a narrative built from this data version (or a later one)
        // is already there, so a retried or racing generation adds no second version.
        const current = await tx.query(
          `SELECT * FROM narratives WHERE user_id = $1 AND data_version >= $2
           ORDER BY version DESC LIMIT 1`,
          [userId, narrative.dataVersion],
        );
        if (current[0]) return toNarrative(current[0]);
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
      const remembered = narratives.get(userId);
      if (remembered !== undefined) return remembered;
      const startedAt = narratives.begin();
      const rows = await driver.query(
        'SELECT * FROM narratives WHERE user_id = $1 ORDER BY version DESC LIMIT 1',
        [userId],
      );
      const narrative = rows[0] ? toNarrative(rows[0]) : null;
      narratives.set(userId, narrative, startedAt);
      return narrative;
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
