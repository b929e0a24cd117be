import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { LocalPostgres } from './local-postgres.ts';
import { errorMessage, exists, tail, type Log } from '../../infra/process/process-tools.ts';
import { waitUntil } from '../../infra/process/service-tools.ts';

// Helpers shared by the two PostgreSQL providers in tools/dev-services: the private or
// system cluster of local-postgres.ts and the pgvector build of pgvector-server.ts.

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

/** Resolves once the server at `url` answers `SELECT 1`; fails after 30 s. */
export async function waitForConnection(url: string, log: Log): Promise<void> {
  await waitUntil(() => withClient(url, (client) => client.query('SELECT 1')), {
    timeoutMs: CONNECT_TIMEOUT_MS,
    intervalMs: 250,
    timeoutMessage: (lastError) =>
      `PostgreSQL at ${redact(url)} did not accept connections within ` +
      `${CONNECT_TIMEOUT_MS / 1000} s: ${lastError}`,
    onRetry: (attempt) => {
      if (attempt === 1) log(`waiting for PostgreSQL at ${redact(url)}`);
    },
  });
}

/** The `LocalPostgres` of a server someone else runs, once it accepts connections; `stop()` does nothing. */
export async function externalPostgres(adminUrl: string, log: Log): Promise<LocalPostgres> {
  await waitForConnection(adminUrl, log);
  return { adminUrl, startedByUs: false, stop: async () => {} };
}

/** A server that accepts connections, and how to stop it. */
export interface ClusterServer {
  adminUrl: string;
  /** True when this process started the server. */
  startedByUs: boolean;
  stopServer(): Promise<unknown>;
}

export interface ReadyPostgresOptions {
  /** Names the server in log lines: `PostgreSQL 18`. */
  name: string;
  /** Start of the line logged once it is ready: `PostgreSQL ready at <url>`. */
  readyMessage: string;
  /** When this call began (`Date.now()`), for the time it took. */
  started: number;
  log: Log;
}

/**
 * Waits until `server` accepts connections and returns its `LocalPostgres`,
 * whose `stop()` stops the server only when this process started it and no
 * other client (another test process, say) is still connected.
 */
export async function readyPostgres(
  server: ClusterServer,
  { name, readyMessage, started, log }: ReadyPostgresOptions,
): Promise<LocalPostgres> {
  await waitForConnection(server.adminUrl, log);
  log(
    `${readyMessage} in ${Date.now() - started} ms` +
      (server.startedByUs ? ' (started by this process)' : ' (already running)'),
  );
  let stopping: Promise<void> | undefined;
  return {
    adminUrl: server.adminUrl,
    startedByUs: server.startedByUs,
    stop: () => {
      stopping ??= (async () => {
        if (!server.startedByUs) return;
        const others = await otherClients(server.adminUrl);
        if (others > 0) {
          log(`leaving ${name} running: ${others} other client connection(s) still open`);
          return;
        }
        await server.stopServer();
        log(`stopped ${name}`);
      })();
      return stopping;
    },
  };
}

async function otherClients(adminUrl: string): Promise<number> {
  const result = await withClient(adminUrl, (client) =>
    client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    ),
  );
  return result.rows[0]?.n ?? 0;
}

/**
 * Creates the cluster `dataDir` by running `init` on a scratch data directory
 * (inside the scratch directory `scratch`, mode 0700, which `init` may use
 * for other files) and renaming it into place, so a process that dies
 * half-way, or two processes initialising at once, leave no broken cluster
 * behind. When `init` fails but another process has put a cluster in place
 * meanwhile, that cluster is kept and no error is raised.
 */
export async function initClusterAtomically(
  dataDir: string,
  init: (scratchData: string, scratch: string) => Promise<void>,
): Promise<void> {
  const scratch = `${dataDir}.init-${process.pid}`;
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.mkdir(scratch, { mode: 0o700 });
  try {
    const scratchData = path.join(scratch, 'data');
    await init(scratchData, scratch);
    await fs.rename(scratchData, dataDir);
  } catch (error) {
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) throw error;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Replaces the cluster's pg_hba.conf with `hba` and appends to its
 * postgresql.conf the settings of every test cluster (no fsync: durability is
 * not worth its time for test data), then `settings`.
 */
export async function writeClusterConfig(
  dataDir: string,
  hba: string[],
  settings: string[],
): Promise<void> {
  // Writing to files initdb created keeps their owner, so a server run as another user can still read them.
  await fs.writeFile(path.join(dataDir, 'pg_hba.conf'), [...hba, ''].join('\n'));
  await fs.appendFile(
    path.join(dataDir, 'postgresql.conf'),
    [
      '',
      '# Test cluster: durability is not worth the time it costs.',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      ...settings,
      '',
    ].join('\n'),
  );
}

/** What a cluster's postmaster.pid records; a field that is not a positive integer is undefined. */
export interface PostmasterPid {
  pid: number | undefined;
  port: number | undefined;
}

/** Reads the postmaster.pid of `dataDir`; undefined when there is none. */
export async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | undefined> {
  let lines: string[];
  try {
    lines = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const positive = (text: string | undefined) => {
    const value = Number(text);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  return { pid: positive(lines[0]), port: positive(lines[3]) };
}

/**
 * Runs `pg_ctl start` on `dataDir` with `run` (as the cluster's owner),
 * waiting up to `waitSeconds` for the server; a failure quotes the end of the
 * server log `logFile`.
 */
export async function pgCtlStart(
  run: (command: string, args: string[]) => Promise<unknown>,
  pgCtl: string,
  dataDir: string,
  logFile: string,
  waitSeconds: number,
): Promise<void> {
  try {
    await run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', String(waitSeconds), 'start']);
  } catch (error) {
    throw new Error(
      `${errorMessage(error)}\nlast lines of ${logFile}:\n${await tail(logFile, 20)}`,
      { cause: error },
    );
  }
}

/**
 * The port of the server running on `dataDir`, from its postmaster.pid,
 * checked against the process it names. A pid
 * file whose process is gone, or is not a postmaster of this directory (a
 * killed run's pid reused by another process), is removed, because PostgreSQL
 * would otherwise refuse to start while that pid is alive.
 */
export async function runningPostmasterPort(
  dataDir: string,
  log: Log,
): Promise<number | undefined> {
  const recorded = await readPostmasterPid(dataDir);
  if (recorded === undefined) return undefined;
  const { pid, port } = recorded;
  if (pid !== undefined && (await isPostmasterOf(pid, dataDir)) && port !== undefined) return port;
  const pidFile = path.join(dataDir, 'postmaster.pid');
  log(`removing stale ${pidFile} (pid ${pid ?? '?'} is not this cluster's postmaster)`);
  await fs.rm(pidFile, { force: true });
  return undefined;
}

async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: another user's process, while the server runs as this one or as the
    // server user this one started it as.
    return false;
  }
  if (!(await exists('/proc/self/cwd'))) return true; // No procfs: trust the live pid.
  try {
    const [cwd, dir] = await Promise.all([fs.readlink(`/proc/${pid}/cwd`), fs.realpath(dataDir)]);
    return cwd === dir;
  } catch {
    return false;
  }
}
