import path from 'node:path';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import type { Config } from '../config.ts';
import { createPgDriver } from './pg-driver.ts';
import { createPgliteDriver } from './pglite-driver.ts';
import { createSqlRelationalStore } from './sql-relational-store.ts';

/**
 * The configured relational store: PostgreSQL when `DATABASE_URL` is set,
 * otherwise PGlite persisted under the data directory. Migrated and ready.
 */
export async function createRelationalStore(
  config: Pick<
    Config,
    | 'DATABASE_URL'
    | 'dataDir'
    | 'PG_POOL_SIZE'
    | 'PG_STATEMENT_TIMEOUT_MS'
    | 'PG_CONNECT_TIMEOUT_MS'
  >,
  onError?: (error: Error) => void,
): Promise<RelationalStore> {
  const driver = config.DATABASE_URL
    ? await createPgDriver({
        url: config.DATABASE_URL,
        poolSize: config.PG_POOL_SIZE,
        statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
        connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
        ...(onError ? { onError } : {}),
      })
    : await createPgliteDriver(path.join(config.dataDir, 'pglite'));
  try {
    return await createSqlRelationalStore(driver);
  } catch (error) {
    await driver.close();
    throw error;
  }
}
