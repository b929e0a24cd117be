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
  /**
   * Connections of their own for the writes a client waits on (saves), so a
   * flood of reads holding every pooled connection cannot make a save wait
   * for one (absent with one connection, as with PGlite: the driver itself).
   */
  readonly writes?: Pick<SqlDriver, 'query' | 'transaction'>;
  close(): Promise<void>;
}

/** The lane a client's write takes: the driver's write connections, else the driver. */
export const writeLane = (driver: SqlDriver): Pick<SqlDriver, 'query' | 'transaction'> =>
  driver.writes ?? driver;
