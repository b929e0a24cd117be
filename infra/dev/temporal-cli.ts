import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The Temporal CLI release the project builds; later releases cannot be `go install`ed. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
/** The server version bundled in CLI v1.5.1, a fallback proof of version for unstamped builds. */
const BUNDLED_SERVER_VERSION = '1.29.1';
const CLI_MODULE = 'github.com/temporalio/cli';
const PROGRESS_EVERY_MS = 10_000;
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** A lock older than this outlives any build, so its holder is gone. */
const LOCK_STALE_MS = BUILD_TIMEOUT_MS + 60_000;
/** A lock file still empty after this long was left by a process that died while writing it. */
const UNREADABLE_LOCK_STALE_MS = 10_000;

export interface EnsureTemporalCliOptions {
  /** The project root; tools go to `<projectRoot>/.tools`. */
  projectRoot: string;
  /** Receives progress and status lines. */
  log?: (msg: string) => void;
  /** Environment to read `TEMPORAL_CLI_PATH`, `PATH` and Go settings from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Returns the path of a Temporal CLI binary, building it when needed.
 *
 * Order: `TEMPORAL_CLI_PATH` when it names an executable file; else
 * `<projectRoot>/.tools/bin/temporal` when it is CLI v1.5.1; else
 * `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into
 * `<projectRoot>/.tools/bin` (about two minutes with a cold Go module cache),
 * logging progress every ten seconds and Go's output to
 * `<projectRoot>/.tools/temporal-cli-build.log`. A lock file under `.tools`
 * keeps concurrent processes from building at the same time.
 */
export async function ensureTemporalCli(options: EnsureTemporalCliOptions): Promise<string> {
  const { projectRoot, log = () => {}, env = process.env } = options;
  const fromEnv = env.TEMPORAL_CLI_PATH?.trim();
  if (fromEnv) {
    if (await isExecutableFile(fromEnv)) {
      log(`using Temporal CLI from TEMPORAL_CLI_PATH: ${fromEnv}`);
      return fromEnv;
    }
    log(`ignoring TEMPORAL_CLI_PATH=${fromEnv}: not an executable file`);
  }

  const toolsDir = path.join(path.resolve(projectRoot), '.tools');
  const binary = path.join(toolsDir, 'bin', 'temporal');
  if (await isPinnedCli(binary, env)) {
    log(`using Temporal CLI v${TEMPORAL_CLI_VERSION} at ${binary}`);
    return binary;
  }

  await fs.mkdir(toolsDir, { recursive: true });
  const release = await acquireLock(path.join(toolsDir, 'temporal-cli.lock'), log);
  try {
    // Another process may have finished the build while this one waited for the lock.
    if (await isPinnedCli(binary, env)) {
      log(`using Temporal CLI v${TEMPORAL_CLI_VERSION} at ${binary}`);
      return binary;
    }
    await buildCli(toolsDir, binary, env, log);
  } finally {
    await release();
  }
  if (!(await isPinnedCli(binary, env))) {
    throw new Error(`built ${binary} but it does not report Temporal CLI v${TEMPORAL_CLI_VERSION}`);
  }
  return binary;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * True when `binary` is CLI v1.5.1. A plain `go install` leaves the CLI's
 * version string at `0.0.0-DEV`, so such builds are identified by their Go
 * build info (or, without Go, by the server version v1.5.1 bundles).
 */
async function isPinnedCli(binary: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!(await isExecutableFile(binary))) return false;
  let versionLine: string;
  try {
    versionLine = (await execFileAsync(binary, ['--version'], { env, timeout: 60_000 })).stdout;
  } catch {
    return false;
  }
  const match = /temporal version (\S+)/.exec(versionLine);
  if (match?.[1] === TEMPORAL_CLI_VERSION) return true;
  if (match?.[1] !== '0.0.0-DEV') return false;
  const go = await findGo(env);
  if (go) {
    try {
      const { stdout } = await execFileAsync(go, ['version', '-m', binary], { env });
      return new RegExp(`^\\s*mod\\s+${CLI_MODULE}\\s+v${TEMPORAL_CLI_VERSION}\\s`, 'm').test(
        stdout,
      );
    } catch {
      return false;
    }
  }
  return versionLine.includes(`Server ${BUNDLED_SERVER_VERSION}`);
}

async function findGo(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  // Go's official tarball installs here, often without touching PATH.
  dirs.push('/usr/local/go/bin', path.join(os.homedir(), 'go', 'bin'));
  for (const dir of dirs) {
    const candidate = path.join(dir, 'go');
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function buildCli(
  toolsDir: string,
  binary: string,
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<void> {
  const go = await findGo(env);
  if (!go) {
    throw new Error(
      'cannot build the Temporal CLI: no Go toolchain (go ≥ 1.25) on PATH or in /usr/local/go/bin; ' +
        'install Go or set TEMPORAL_CLI_PATH to an existing temporal binary',
    );
  }
  const logFile = path.join(toolsDir, 'temporal-cli-build.log');
  // Build into a private directory and rename, so no one ever runs a half-written binary.
  const gobin = await fs.mkdtemp(path.join(toolsDir, 'temporal-cli-build-'));
  const args = [
    'install',
    '-v',
    // Stamps the version so `temporal --version` reports it instead of 0.0.0-DEV.
    `-ldflags=-X ${CLI_MODULE}/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
    `${CLI_MODULE}/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
  ];
  const output = await fs.open(logFile, 'w');
  const started = Date.now();
  log(`building Temporal CLI v${TEMPORAL_CLI_VERSION} with ${go} (output: ${logFile})`);
  const progress = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`building Temporal CLI v${TEMPORAL_CLI_VERSION}… ${seconds} s`);
  }, PROGRESS_EVERY_MS);
  try {
    await output.write(`$ GOBIN=${gobin} ${go} ${args.join(' ')}\n`);
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        const child = spawn(go, args, {
          env: { ...env, GOBIN: gobin },
          stdio: ['ignore', output.fd, output.fd],
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal });
        });
      },
    );
    if (result.code !== 0) {
      const reason = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`;
      throw new Error(
        `building the Temporal CLI failed: go install ${reason}; last lines of ${logFile}:\n` +
          (await tail(logFile, 25)),
      );
    }
    await fs.mkdir(path.dirname(binary), { recursive: true });
    await fs.rename(path.join(gobin, 'temporal'), binary);
    log(
      `built Temporal CLI v${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - started) / 1000)} s: ${binary}`,
    );
  } finally {
    clearInterval(progress);
    await output.close();
    await fs.rm(gobin, { recursive: true, force: true });
  }
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: number;
}

/**
 * Takes an exclusive lock file, waiting while a live process holds it and
 * removing it when its holder is gone. Returns the release function.
 */
async function acquireLock(
  lockFile: string,
  log: (msg: string) => void,
): Promise<() => Promise<void>> {
  const waitingSince = Date.now();
  let lastReport = waitingSince;
  for (;;) {
    try {
      const handle = await fs.open(lockFile, 'wx');
      const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), startedAt: Date.now() };
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
      return () => fs.rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const staleness = await lockStaleness(lockFile);
    if (staleness) {
      log(`removing stale lock ${lockFile} (${staleness})`);
      await fs.rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() - waitingSince > LOCK_STALE_MS) {
      throw new Error(`gave up waiting for ${lockFile}; remove it if no build is running`);
    }
    if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
      lastReport = Date.now();
      const seconds = Math.round((lastReport - waitingSince) / 1000);
      log(`waiting for another process building the Temporal CLI (${lockFile})… ${seconds} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Why the lock is stale, or undefined while its holder may still be working. */
async function lockStaleness(lockFile: string): Promise<string | undefined> {
  let text: string;
  let ageMs: number;
  try {
    ageMs = Date.now() - (await fs.stat(lockFile)).mtimeMs;
    text = await fs.readFile(lockFile, 'utf8');
  } catch {
    return undefined; // released meanwhile: the next attempt takes it
  }
  let owner: Partial<LockOwner> = {};
  try {
    owner = JSON.parse(text) as Partial<LockOwner>;
  } catch {
    return ageMs > UNREADABLE_LOCK_STALE_MS ? 'unreadable and old' : undefined;
  }
  if (ageMs > LOCK_STALE_MS) return `older than ${Math.round(LOCK_STALE_MS / 60_000)} min`;
  if (owner.hostname === os.hostname() && typeof owner.pid === 'number' && !isAlive(owner.pid)) {
    return `process ${owner.pid} is gone`;
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
