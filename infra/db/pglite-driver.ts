import fs from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { AppError } from '../../core/errors.ts';
import { dataException } from './pg-driver.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';

/** Runs a PGlite call, a data exception (SQLSTATE class 22) becoming a `bad_request`. */
async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw dataException(error) ?? error;
  }
}

/**
 * Opens (or creates) an embedded PostgreSQL in `dataDir`, with pgvector.
 * Pass `memory://` for a throwaway in-memory database. One process owns a
 * data directory at a time.
 */
export async function createPgliteDriver(dataDir: string): Promise<SqlDriver> {
  if (!dataDir.startsWith('memory://')) await fs.mkdir(dataDir, { recursive: true });
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir, extensions: { vector } });
  } catch (cause) {
    throw new AppError(
      'dependency_unavailable',
      `cannot open the embedded database at ${dataDir}`,
      {
        cause,
      },
    );
  }
  let closed = false;

  const guard = () => {
    if (closed) throw new AppError('dependency_unavailable', 'the embedded database is closed');
  };
  const executor = (target: Pick<PGlite, 'query'>): SqlExecutor => ({
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await mapped(() => target.query<T>(sql, params as unknown[]));
      return result.rows;
    },
  });

  return {
    kind: 'pglite',
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      guard();
      return executor(db).query<T>(sql, params);
    },
    async transaction(fn) {
      guard();
      return mapped(() => db.transaction((tx) => fn(executor(tx))));
    },
    async exec(sql) {
      guard();
      await mapped(() => db.exec(sql));
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
