import os from 'node:os';
import pg from 'pg';
import { currentPriority } from '../../core/concurrency/work-priority.ts';
import { AppError } from '../../core/errors.ts';
import { listenPg } from './pg-listener.ts';
import { createStatementNamer } from './pg-statements.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';

export interface PgDriverOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  onError?: (error: Error) => void;
  /**
   * How much nicer (Linux) the server processes behind the background
   * connections are made, so that on a shared machine the database work of
   * indexing and narratives yields the CPU to queries. Only for a server on
   * this machine whose processes this one may renice (the local PostgreSQL
   * the product runs): a backend's pid means nothing on another machine.
   */
  backgroundNiceness?: number;
  /**
   * Whether statements the process runs again and again are prepared on each
   * connection (default true; see {@link createStatementNamer}). Off for a
   * pooler that hands one session's statements to several servers (PgBouncer
   * in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/**
 * A PostgreSQL data exception (SQLSTATE class 22: a value out of range, text
 * the encoding refuses, a malformed literal) as a `bad_request`: it is the
 * request's value that is wrong. The edge validates so that none reach the
 * database; this is the last line. The message does not quote the SQL.
 */
export function dataException(error: unknown): AppError | null {
  const code =
    typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : '';
  if (typeof code !== 'string' || !/^22[0-9A-Z]{3}$/.test(code)) return null;
  return new AppError(
    'bad_request',
    'a value in the request is malformed or out of range for the database',
    { cause: error, details: { sqlstate: code } },
  );
}

/**
 * Turns driver failures that mean "the database is not there" into a
 * 503-class AppError, and data exceptions into a 400 ({@link dataException}).
 */
export function mapPgError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: string }).code ?? '';
  const badValue = dataException(error);
  if (badValue) return badValue;
  if (code === '57014') {
    return new AppError('dependency_unavailable', 'the database did not answer in time', {
      cause: error,
    });
  }
  if (
    unavailableCodes.has(code) ||
    code.startsWith('08') ||
    /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/i.test(
      error.message,
    )
  ) {
    return new AppError('dependency_unavailable', 'the database is unavailable', { cause: error });
  }
  return error;
}

const CONNECT_WAIT_TIMEOUT = /timeout exceeded when trying to connect/i;

/**
 * A wait for one of a pool's connections that timed out while all `max` of
 * them were checked out (`inUse`): the database is overloaded, not gone (a
 * server that is down refuses connections, or leaves them connecting, never
 * checked out), so it is `overloaded`, a 503 to retry later, rather than
 * "the database is unavailable", which would send an operator looking for an
 * outage. Null for any other failure.
 */
export function busyPool(error: unknown, inUse: number, max: number): AppError | null {
  if (!(error instanceof Error) || !CONNECT_WAIT_TIMEOUT.test(error.message)) return null;
  if (inUse < max) return null;
  return new AppError(
    'overloaded',
    `all ${max} database connections stayed busy for the whole wait: the server is overloaded; retry later`,
    { cause: error, details: { connections: max } },
  );
}

/** Connections kept for the writes a client waits on, beside `poolSize` for everything else. */
export const writeConnections = (poolSize: number) => Math.max(2, Math.ceil(poolSize / 5));

/** Connections for background work (indexing, narratives, consolidation), beside the others. */
export const backgroundConnections = (poolSize: number) => Math.max(2, Math.ceil(poolSize / 2));

/**
 * Background work waits for one of its connections at least this long: the
 * pool's turn is its queue (its activities are bounded and heartbeat while
 * they wait), not a failure to report after the interactive timeout.
 */
const BACKGROUND_CONNECT_WAIT_MS = 60_000;

/**
 * Background statements may run at least this long before they are cancelled. They are
 * bounded by what they carry (an indexing batch of at most 256 memories, a consolidation
 * page), and their server processes run niced, so on a saturated machine one takes longer
 * than a query's limit: cancelled at that limit, the batch fails and its activity redoes
 * all of its work (seen under a profiler at 1,000 users × 100 memories: 78 batches lost
 * after 7 to 12 s each), which adds to the load that slowed it.
 */
export const BACKGROUND_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Makes a connection's server process `niceness` nicer; refused or not Linux: left as is.
 * The process id came with the connection (its BackendKeyData), so no statement is sent:
 * one sent here would queue ahead of the first caller's on the same client, which `pg`
 * warns is deprecated.
 */
function lowerBackend(client: pg.PoolClient | pg.Client, niceness: number): void {
  const pid = (client as { processID?: number | null }).processID;
  if (!pid) return;
  try {
    os.setPriority(pid, Math.min(19, os.getPriority(pid) + niceness));
  } catch {
    // Not permitted (another user's server), or the process is gone.
  }
}

/**
 * A PostgreSQL driver over `pg` pools: bounded connections, a statement
 * timeout on every connection, and connection failures surfaced as
 * `dependency_unavailable` instead of crashing the process. Saves get a few
 * connections of their own ({@link writeConnections}), so reads holding every
 * connection of the main pool under a flood cannot make them wait. Work at
 * `background` priority ({@link currentPriority}: every Temporal activity)
 * takes connections of its own ({@link backgroundConnections}), for reads and
 * writes alike: indexing batches never hold the connections queries wait
 * for, with `backgroundNiceness` their server processes yield the CPU, and
 * their statements have {@link BACKGROUND_STATEMENT_TIMEOUT_MS} at least.
 */
export async function createPgDriver(options: PgDriverOptions): Promise<SqlDriver> {
  const openPool = (
    max: number,
    name: string,
    waitMs = options.connectTimeoutMs,
    statementMs = options.statementTimeoutMs,
  ) => {
    const pool = new pg.Pool({
      connectionString: options.url,
      max,
      connectionTimeoutMillis: waitMs,
      idleTimeoutMillis: 30_000,
      statement_timeout: statementMs,
      application_name: name,
    });
    // An idle client losing its connection must not take the process down.
    pool.on('error', (error) => options.onError?.(error));
    // Connections checked out now, to tell a busy pool from a database that is gone.
    let inUse = 0;
    pool.on('acquire', () => inUse++);
    pool.on('release', () => inUse--);
    checkedOut.set(pool, () => inUse);
    return pool;
  };
  const checkedOut = new Map<pg.Pool, () => number>();
  /** A failure to reach the database, told apart from a pool every caller is busy with. */
  const failure = (error: unknown, pool: pg.Pool | null) =>
    (pool && busyPool(error, checkedOut.get(pool)?.() ?? 0, pool.options.max ?? 0)) ??
    mapPgError(error);
  const pool = openPool(options.poolSize, 'memory-engine');
  const writePool = openPool(writeConnections(options.poolSize), 'memory-engine-writes');
  const backgroundPool = openPool(
    backgroundConnections(options.poolSize),
    'memory-engine-background',
    Math.max(options.connectTimeoutMs, BACKGROUND_CONNECT_WAIT_MS),
    Math.max(options.statementTimeoutMs, BACKGROUND_STATEMENT_TIMEOUT_MS),
  );
  const niceness = options.backgroundNiceness ?? 0;
  // Niced on 'connect', before the client reaches its first user, so none of its statements runs un-niced.
  if (niceness > 0) backgroundPool.on('connect', (client) => lowerBackend(client, niceness));
  const lane = (interactive: pg.Pool) =>
    currentPriority() === 'background' ? backgroundPool : interactive;

  const statements = createStatementNamer({ enabled: options.preparedStatements ?? true });
  const run = async <T extends object>(
    target: pg.Pool | pg.PoolClient,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<T[]> => {
    try {
      const result = await target.query(statements.config(sql, params));
      return result.rows as T[];
    } catch (error) {
      throw failure(error, target instanceof pg.Pool ? target : null);
    }
  };

  const transactionOn =
    (target: pg.Pool) =>
    async <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
      let client: pg.PoolClient;
      try {
        client = await target.connect();
      } catch (error) {
        throw failure(error, target);
      }
      // A checked-out client is not the pool's to watch: a server terminating it between two
      // statements of this transaction emits 'error' here, which must not crash the process
      // (the statement in flight, or the next one, rejects and is mapped below).
      const onClientError = (error: Error) => options.onError?.(error);
      client.on('error', onClientError);
      const release = (error?: Error) => {
        client.removeListener('error', onClientError);
        client.release(error);
      };
      const tx: SqlExecutor = { query: (sql, params) => run(client, sql, params) };
      try {
        await tx.query('BEGIN');
        const result = await fn(tx);
        await tx.query('COMMIT');
        release();
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
          release();
        } catch (rollbackError) {
          release(rollbackError as Error);
        }
        throw mapPgError(error);
      }
    };

  let closed = false;
  // Listening connections end with the driver, whoever closes it.
  const listeners = new Set<() => Promise<void>>();
  return {
    kind: 'postgres',
    query: (sql, params) => run(lane(pool), sql, params),
    transaction: (fn) => transactionOn(lane(pool))(fn),
    writes: {
      query: (sql, params) => run(lane(writePool), sql, params),
      transaction: (fn) => transactionOn(lane(writePool))(fn),
    },
    async exec(sql) {
      await run(lane(pool), sql);
    },
    listen(channel, handlers) {
      const stop = listenPg(
        { url: options.url, connectTimeoutMs: options.connectTimeoutMs },
        channel,
        handlers,
      );
      const close = async () => {
        listeners.delete(close);
        await stop();
      };
      listeners.add(close);
      return close;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...listeners].map((close) => close()));
      await Promise.all([pool.end(), writePool.end(), backgroundPool.end()]);
    },
  };
}
