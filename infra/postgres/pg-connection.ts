import pg from 'pg';
import type { Log } from '../process/process-tools.ts';
import { waitUntil } from '../process/service-tools.ts';

// Short-lived admin connections to a PostgreSQL server this project runs: the
// embedded server of `npm start` and the test harness's servers alike.

const CONNECT_TIMEOUT_MS = 30_000;

/** Runs `fn` with a fresh connection to `url` and always closes it. */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  // A server shutting down mid-query must surface as a rejection, not an unhandled 'error'.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** `url` with its password replaced by `***`, for logs and error messages. */
export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * Resolves once the server at `url` answers `SELECT 1`; fails after 30 s.
 * Stops trying, quietly, when `signal` aborts.
 */
export async function waitForConnection(
  url: string,
  log: Log,
  signal?: AbortSignal,
): Promise<void> {
  await waitUntil(() => withClient(url, (client) => client.query('SELECT 1')), {
    timeoutMs: CONNECT_TIMEOUT_MS,
    intervalMs: 250,
    ...(signal ? { signal } : {}),
    timeoutMessage: (lastError) =>
      `PostgreSQL at ${redact(url)} did not accept connections within ` +
      `${CONNECT_TIMEOUT_MS / 1000} s: ${lastError}`,
    onRetry: (attempt) => {
      if (attempt === 1) log(`waiting for PostgreSQL at ${redact(url)}`);
    },
  });
}

/** Creates database `name` on the server at `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } catch (error) {
      // 42P04: created meanwhile by another process.
      if ((error as { code?: string }).code !== '42P04') throw error;
    }
  });
}
