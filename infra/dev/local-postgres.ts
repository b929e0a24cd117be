import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

const PREFERRED_VERSION = '15';
const ROLE = 'memengine';
const CONNECT_TIMEOUT_MS = 30_000;
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
    await waitForConnection(fromEnv, log);
    return { adminUrl: fromEnv, startedByUs: false, stop: async () => {} };
  }
  const started = Date.now();
  const server =
    process.getuid?.() === 0
      ? await ensureSystemCluster(env, log)
      : await ensurePrivateCluster(projectRoot, env, log);
  await waitForConnection(server.adminUrl, log);
  log(
    `PostgreSQL ready at ${redact(server.adminUrl)} in ${Date.now() - started} ms` +
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
          log(`leaving PostgreSQL running: ${others} other client connection(s) still open`);
          return;
        }
        await server.stopServer();
        log('stopped PostgreSQL');
      })();
      return stopping;
    },
  };
}

/**
 * Creates an empty database `name` (replacing a leftover one of that name)
 * and returns its URL, which uses the admin URL's credentials.
 * `name` must be a plain lower-case identifier.
 */
export async function createTestDatabase(adminUrl: string, name: string): Promise<string> {
  const ident = quoteDatabaseName(name);
  await withClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${ident}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name`, closing its open connections; does nothing when it does not exist. */
export async function dropTestDatabase(adminUrl: string, name: string): Promise<void> {
  const ident = quoteDatabaseName(name);
  await withClient(adminUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`),
  );
}

interface RunningServer {
  adminUrl: string;
  startedByUs: boolean;
  stopServer(): Promise<void>;
}

async function ensureSystemCluster(
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<RunningServer> {
  if (!(await onPath('pg_ctlcluster', env))) {
    log('pg_ctlcluster not found: installing PostgreSQL with apt-get');
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update'], { env: aptEnv, timeoutMs: 300_000 });
    await run('apt-get', ['install', '-y', 'postgresql'], { env: aptEnv, timeoutMs: 600_000 });
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
    stopServer: () => run('pg_ctlcluster', [version, name, 'stop'], { env }).then(() => {}),
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
  log: (msg: string) => void,
): Promise<RunningServer> {
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
    await fs.mkdir(socketDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
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
      await run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '30', 'start'], { env });
      startedByUs = true;
    } catch (error) {
      // Another process may have started the same cluster meanwhile.
      port = await runningPort(pgCtl, dataDir, env);
      if (port === undefined) {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\nlast lines of ${logFile}:\n` +
            (await tail(logFile, 20)),
        );
      }
    }
  }
  return {
    adminUrl: `postgres://${ROLE}@127.0.0.1:${port}/postgres`,
    startedByUs,
    stopServer: () =>
      run(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { env }).then(() => {}),
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

/**
 * Runs initdb in a scratch directory and renames it into place, so a process
 * that dies half-way, or two processes initialising at once, leave no broken
 * cluster behind.
 */
async function initCluster(
  binDir: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<void> {
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  const scratch = `${dataDir}.init-${process.pid}`;
  await fs.rm(scratch, { recursive: true, force: true });
  log(`initialising a private PostgreSQL cluster in ${dataDir}`);
  try {
    await run(
      path.join(binDir, 'initdb'),
      ['-D', scratch, '-U', ROLE, '-A', 'trust', '-E', 'UTF8', '--no-locale'],
      { env, timeoutMs: 120_000 },
    );
    await fs.writeFile(
      path.join(scratch, 'pg_hba.conf'),
      [
        '# Written by infra/dev/local-postgres.ts: loopback only, no passwords (test data).',
        'local all all trust',
        'host all all 127.0.0.1/32 trust',
        'host all all ::1/128 trust',
        '',
      ].join('\n'),
    );
    await fs.appendFile(
      path.join(scratch, 'postgresql.conf'),
      [
        '',
        '# Test cluster: durability is not worth the time it costs.',
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        "include_if_exists = 'memengine-runtime.conf'",
        '',
      ].join('\n'),
    );
    await fs.rename(scratch, dataDir);
  } catch (error) {
    await fs.rm(scratch, { recursive: true, force: true });
    if (await exists(path.join(dataDir, 'PG_VERSION'))) return;
    throw error;
  }
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
  const lines = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
  const port = Number(lines[3]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

async function waitForConnection(url: string, log: (msg: string) => void): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await withClient(url, (client) => client.query('SELECT 1'));
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `PostgreSQL at ${redact(url)} did not accept connections within ` +
            `${CONNECT_TIMEOUT_MS / 1000} s: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (attempt === 1) log(`waiting for PostgreSQL at ${redact(url)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
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

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
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

function quoteDatabaseName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`invalid test database name ${JSON.stringify(name)}: use [a-z_][a-z0-9_]*`);
  }
  return `"${name}"`;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file, constants.F_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(command: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      await fs.access(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

interface RunOptions {
  env: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** Runs a command, feeding it `input` on stdin, and fails with its stderr when it exits non-zero. */
async function run(
  command: string,
  args: string[],
  { env, input, timeoutMs = 60_000 }: RunOptions,
): Promise<{ stdout: string; stderr: string }> {
  const running = execFileAsync(command, args, { env, timeout: timeoutMs });
  running.child.stdin?.end(input);
  try {
    return await running;
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${(stderr || stdout).trim() || String(error)}`,
      { cause: error },
    );
  }
}
