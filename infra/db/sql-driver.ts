import type { ListenHandlers } from './pg-listener.ts';

/** Runs one parameterised SQL statement ($1, $2, ...) and returns its rows. */
export interface SqlExecutor {
  query<T extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<T[]>;
}

/**
 * The part of a PostgreSQL connection the store needs; implemented over
 * PGlite (embedded) and over a `pg` pool, so the same SQL serves both.
 */
export interface SqlDriver extends SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Hears notifications on a channel from every process on the same database
   * (absent where one process owns the database, as with PGlite). Returns the
   * closer; see {@link ListenHandlers}.
   */
  listen?(channel: string, handlers: ListenHandlers): () => Promise<void>;
  close(): Promise<void>;
}
