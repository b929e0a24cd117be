// tools/: what only tests and benchmarks use. dev-services/ installs and starts
// real services on loopback for a run (PostgreSQL 15 and 18 with pgvector,
// Redis, Neo4j, Chromium); gemini-emulator/ is the local stand-in for Gemini;
// lint/ holds the import-direction rule. May import infra/ and core/; nothing
// in the product imports tools/.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  externalPostgres,
  initClusterAtomically,
  pgCtlStart,
  readPostmasterPid,
  readyPostgres,
  redact,
  writeClusterConfig,
  type ClusterServer,
} from './pg-cluster-tools.ts';
import { exists, findCommand, run, type Log } from '../../infra/process/process-tools.ts';
import { aptInstall } from '../../infra/process/system-setup.ts';
import { freePort } from '../../infra/process/service-tools.ts';

// Kept for importers of this module; they live in test-databases.ts.
export { createTestDatabase, dropTestDatabase } from './test-databases.ts';

const PREFERRED_VERSION = '15';
const ROLE = 'memengine';
/** Linux limit on a Unix socket path (sun_path, including the terminating NUL). */
const MAX_SOCKET_PATH = 107;

export interface EnsureLocalPostgresOptions {
  /** The project root; a private cluster lives in `<projectRoot>/.data`. */
  projectRoot: string;
  /** Receives progress and status lines. */
  log?: (msg: string) => void;
  /** Environment to read `TEST_PG_ADMIN_URL` and `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** A PostgreSQL server that accepts connections on loopback. */
export interface LocalPostgres {
  /** URL of a role that may create databases, on the `postgres` database. */
  adminUrl: string;
  /** True when this call started the server, so `stop()` will stop it. */
  startedByUs: boolean;
  /**
   * Stops the server when this call started it and no other client is still
   * connected (another test process may share it); otherwise does nothing.
   */
  stop(): Promise<void>;
}

/**
 * Provides a real PostgreSQL server for tests, starting one when needed.
 *
 * - `TEST_PG_ADMIN_URL` set: uses that server as is.
 * - Running as root (CI): installs the `postgresql` package when
 *   `pg_ctlcluster` is missing, starts the distribution's cluster (15/main
 *   when present) and creates or updates the login role `memengine`
 *   (CREATEDB) whose password is derived from the machine id.
 * - Otherwise: initialises a private cluster in `<projectRoot>/.data/pg15`
 *   (trust authentication, loopback only, socket inside `.data`) and runs it
 *   with `pg_ctl` on a free port, reusing it when it is already running.
 *
 * Resolves once the server accepts connections (up to 30 s).
 */
export async function ensureLocalPostgres(
  options: EnsureLocalPostgresOptions,
): Promise<LocalPostgres> {
  const { log = () => {}, env = process.env } = options;
  const projectRoot = path.resolve(options.projectRoot);
  const fromEnv = env.TEST_PG_ADMIN_URL?.trim();
  if (fromEnv) {
    log('using PostgreSQL from TEST_PG_ADMIN_URL');
    return externalPostgres(fromEnv, log);
  }
  const started = Date.now();
  const server =
    process.getuid?.() === 0
      ? await ensureSystemCluster(env, log)
      : await ensurePrivateCluster(projectRoot, env, log);
  return readyPostgres(server, {
    name: 'PostgreSQL',
    readyMessage: `PostgreSQL ready at ${redact(server.adminUrl)}`,
    started,
    log,
  });
}

async function ensureSystemCluster(env: NodeJS.ProcessEnv, log: Log): Promise<ClusterServer> {
  if (!(await findCommand('pg_ctlcluster', env))) {
    log('pg_ctlcluster not found: installing PostgreSQL with apt-get');
    await aptInstall(['postgresql'], { env, log, timeoutMs: 600_000, update: 'first' });
  }
  let cluster = await findCluster(env);
  let startedByUs = false;
  if (cluster.status !== 'online') {
    log(`starting PostgreSQL cluster ${cluster.version}/${cluster.name}`);
    try {
      await run('pg_ctlcluster', [cluster.version, cluster.name, 'start'], { env });
      startedByUs = true;
    } catch (error) {
      // Another process may have started it in the meantime.
      cluster = await findCluster(env);
      if (cluster.status !== 'online') throw error;
    }
  }

  const password = await adminPassword();
  // The role is created or updated on every run so the stored password always matches.
  const sql = `DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN
    ALTER ROLE ${ROLE} WITH LOGIN CREATEDB PASSWORD '${password}';
  ELSE
    CREATE ROLE ${ROLE} WITH LOGIN CREATEDB PASSWORD '${password}';
  END IF;
END $$;`;
  const psql = `psql -X -q -v ON_ERROR_STOP=1 -p ${cluster.port} -d postgres`;
  await run('su', ['postgres', '-s', '/bin/sh', '-c', psql], { env, input: sql });

  const { version, name } = cluster;
  return {
    adminUrl: `postgres://${ROLE}:${password}@127.0.0.1:${cluster.port}/postgres`,
    startedByUs,
    stopServer: () => run('pg_ctlcluster', [version, name, 'stop'], { env }),
  };
}

interface Cluster {
  version: string;
  name: string;
  port: number;
  status: string;
}

async function findCluster(env: NodeJS.ProcessEnv): Promise<Cluster> {
  const { stdout } = await run('pg_lsclusters', ['--no-header'], { env });
  const clusters = stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 4)
    .map(([version = '', name = '', port = '', status = '']) => ({
      version,
      name,
      port: Number(port),
      status,
    }));
  const cluster =
    clusters.find((c) => c.version === PREFERRED_VERSION && c.name === 'main') ?? clusters[0];
  if (!cluster) {
    throw new Error('no PostgreSQL cluster exists; create one with `pg_createcluster <ver> main`');
  }
  return cluster;
}

/**
 * The test role's password is derived from the machine id, not stored per
 * checkout: the system cluster is shared by every checkout on the machine, and
 * a per-checkout secret would let one checkout's run lock out another's.
 */
async function adminPassword(): Promise<string> {
  let machine = os.hostname();
  for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      machine = (await fs.readFile(file, 'utf8')).trim() || machine;
      break;
    } catch {
      // Try the next source; the hostname is the last resort.
    }
  }
  return createHash('sha256').update(`memengine-test-role:${machine}`).digest('hex').slice(0, 40);
}

async function ensurePrivateCluster(
  projectRoot: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<ClusterServer> {
  const { version, binDir } = await findServerBinaries();
  const dataRoot = path.join(projectRoot, '.data');
  const dataDir = path.join(dataRoot, `pg${version}`);
  const socketDir = path.join(dataRoot, `pg${version}-socket`);
  const logFile = path.join(dataRoot, `pg${version}.log`);
  const pgCtl = path.join(binDir, 'pg_ctl');

  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    await initCluster(binDir, dataDir, env, log);
  }

  let startedByUs = false;
  let port = await runningPort(pgCtl, dataDir, env);
  if (port === undefined) {
    port = await freePort();
    await fs.mkdir(socketDir, { recursive: true, mode: 0o700 });
    // Unix sockets have a short path limit; TCP on loopback is all the tests need.
    const socket = `${socketDir}/.s.PGSQL.${port}`.length <= MAX_SOCKET_PATH ? socketDir : '';
    await fs.writeFile(
      path.join(dataDir, 'memengine-runtime.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${socket.replaceAll("'", "''")}'`,
        '',
      ].join('\n'),
    );
    log(`starting private PostgreSQL ${version} cluster in ${dataDir} on port ${port}`);
    try {
      await pgCtlStart((command, args) => run(command, args, { env }), pgCtl, dataDir, logFile, 30);
      startedByUs = true;
    } catch (error) {
      // Another process may have started the same cluster meanwhile.
      port = await runningPort(pgCtl, dataDir, env);
      if (port === undefined) throw error;
    }
  }
  return {
    adminUrl: `postgres://${ROLE}@127.0.0.1:${port}/postgres`,
    startedByUs,
    stopServer: () => run(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { env }),
  };
}

async function findServerBinaries(): Promise<{ version: string; binDir: string }> {
  const root = '/usr/lib/postgresql';
  const versions = await fs.readdir(root).catch(() => [] as string[]);
  const ordered = [
    PREFERRED_VERSION,
    ...versions.filter((v) => v !== PREFERRED_VERSION).sort((a, b) => Number(b) - Number(a)),
  ];
  for (const version of ordered) {
    const binDir = path.join(root, version, 'bin');
    if (await exists(path.join(binDir, 'initdb'))) return { version, binDir };
  }
  throw new Error(
    `no PostgreSQL server binaries under ${root}/<version>/bin: install the postgresql package ` +
      '(needs root), or set TEST_PG_ADMIN_URL to a server where you may create databases',
  );
}

/** Initialises a private cluster; see {@link initClusterAtomically}. */
async function initCluster(
  binDir: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<void> {
  log(`initialising a private PostgreSQL cluster in ${dataDir}`);
  await initClusterAtomically(dataDir, async (scratchData) => {
    await run(
      path.join(binDir, 'initdb'),
      ['-D', scratchData, '-U', ROLE, '-A', 'trust', '-E', 'UTF8', '--no-locale'],
      { env, timeoutMs: 120_000 },
    );
    await writeClusterConfig(
      scratchData,
      [
        '# Written by tools/dev-services/local-postgres.ts: loopback only, no passwords (test data).',
        'local all all trust',
        'host all all 127.0.0.1/32 trust',
        'host all all ::1/128 trust',
      ],
      ["include_if_exists = 'memengine-runtime.conf'"],
    );
  });
}

/** The port of the cluster in `dataDir` when it is running, from its postmaster.pid. */
async function runningPort(
  pgCtl: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<number | undefined> {
  try {
    await run(pgCtl, ['-D', dataDir, 'status'], { env });
  } catch {
    return undefined;
  }
  return (await readPostmasterPid(dataDir))?.port;
}
