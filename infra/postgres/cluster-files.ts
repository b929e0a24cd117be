import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { exists, type Log } from '../process/process-tools.ts';
import { SERVER_USER, type ServerRunner } from './server-user.ts';

// The files of a PostgreSQL cluster this project creates: initialising one
// with a generated superuser password, and reading its postmaster.pid.

/** The superuser's password, kept inside the cluster (mode 0600) so the two never disagree. */
const PASSWORD_FILE = 'memengine-admin-password';

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

export interface PasswordClusterOptions {
  /** The directory of initdb, postgres and pg_ctl. */
  binDir: string;
  runner: ServerRunner;
  /** Names the cluster in log lines: `PostgreSQL 18`. */
  name: string;
  /** Says in pg_hba.conf which file wrote it. */
  writtenBy: string;
  /** Lines appended to postgresql.conf after the loopback-only settings. */
  settings: string[];
  log: Log;
}

/**
 * Initialises the cluster `dataDir` (atomically, as the server's user) with
 * the superuser {@link SERVER_USER} and a generated password, password logins
 * over loopback TCP only and no Unix socket.
 */
export async function initPasswordCluster(
  dataDir: string,
  options: PasswordClusterOptions,
): Promise<void> {
  const { binDir, runner, log } = options;
  log(`initialising a ${options.name} cluster in ${dataDir}`);
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
        `# Written by ${options.writtenBy}: password logins over loopback TCP only.`,
        'host all all 127.0.0.1/32 scram-sha-256',
        'host all all ::1/128 scram-sha-256',
      ],
      ["listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", ...options.settings],
    );
    await fs.rename(pwFile, path.join(scratchData, PASSWORD_FILE));
  });
  log(`initialised the cluster in ${Date.now() - started} ms`);
}

/** Replaces the cluster's pg_hba.conf with `hba` and appends `settings` to its postgresql.conf. */
export async function writeClusterConfig(
  dataDir: string,
  hba: string[],
  settings: string[],
): Promise<void> {
  // Writing to files initdb created keeps their owner, so a server run as another user can still read them.
  await fs.writeFile(path.join(dataDir, 'pg_hba.conf'), [...hba, ''].join('\n'));
  await fs.appendFile(path.join(dataDir, 'postgresql.conf'), ['', ...settings, ''].join('\n'));
}

/** The superuser password {@link initPasswordCluster} generated for the cluster `dataDir`. */
export async function readClusterPassword(dataDir: string): Promise<string> {
  return (await fs.readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim();
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
 * The postmaster.pid of the server running on `dataDir`, checked against the
 * process it names. A pid file whose process is gone, or is not a postmaster
 * of this directory (a killed run's pid reused by another process), is
 * removed, because PostgreSQL would otherwise refuse to start while that pid
 * is alive; undefined then.
 */
export async function runningPostmaster(
  dataDir: string,
  log: Log,
): Promise<{ pid: number; port: number | undefined } | undefined> {
  const recorded = await readPostmasterPid(dataDir);
  if (recorded === undefined) return undefined;
  const { pid, port } = recorded;
  if (pid !== undefined && (await isPostmasterOf(pid, dataDir))) return { pid, port };
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
