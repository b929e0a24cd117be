import type { LocalPostgres } from './local-postgres.ts';
import {
  runningPostmaster,
  writeClusterConfig as writeConfig,
} from '../../infra/postgres/cluster-files.ts';
import { withClient, waitForConnection } from '../../infra/postgres/pg-connection.ts';
import { errorMessage, tail, type Log } from '../../infra/process/process-tools.ts';

// Helpers shared by the two PostgreSQL providers in tools/dev-services: the private or
// system cluster of local-postgres.ts and the pgvector build of pgvector-server.ts. What the
// product's own server needs too lives in infra/postgres and is re-exported here.

export {
  initClusterAtomically,
  readPostmasterPid,
  type PostmasterPid,
} from '../../infra/postgres/cluster-files.ts';
export { redact, waitForConnection, withClient } from '../../infra/postgres/pg-connection.ts';

/** The postgresql.conf lines every test cluster runs with. */
export const TEST_CLUSTER_SETTINGS = [
  '# Test cluster: durability is not worth the time it costs.',
  'fsync = off',
  'synchronous_commit = off',
  'full_page_writes = off',
];

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
 * Replaces the cluster's pg_hba.conf with `hba` and appends to its
 * postgresql.conf the settings of every test cluster (no fsync: durability is
 * not worth its time for test data), then `settings`.
 */
export function writeClusterConfig(
  dataDir: string,
  hba: string[],
  settings: string[],
): Promise<void> {
  return writeConfig(dataDir, hba, [...TEST_CLUSTER_SETTINGS, ...settings]);
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
 * checked against the process it names; see {@link runningPostmaster}, which
 * removes a stale pid file.
 */
export async function runningPostmasterPort(
  dataDir: string,
  log: Log,
): Promise<number | undefined> {
  return (await runningPostmaster(dataDir, log))?.port;
}
