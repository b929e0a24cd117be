import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { acquireLock } from '../process/lock-file.ts';
import { findCommand, isExecutableFile, runBuild, type Log } from '../process/process-tools.ts';

const execFileAsync = promisify(execFile);

/** The Temporal CLI release the project builds; later releases cannot be `go install`ed. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
/** The server version bundled in CLI v1.5.1, a fallback proof of version for unstamped builds. */
const BUNDLED_SERVER_VERSION = '1.29.1';
const CLI_MODULE = 'github.com/temporalio/cli';
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** A lock older than this outlives any build, so its holder is gone. */
const LOCK_STALE_MS = BUILD_TIMEOUT_MS + 60_000;

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
  const release = await acquireLock(path.join(toolsDir, 'temporal-cli.lock'), {
    activity: 'building the Temporal CLI',
    waitMs: LOCK_STALE_MS,
    staleAfterMs: LOCK_STALE_MS,
    giveUpAdvice: 'remove it if no build is running',
    log,
  });
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

function findGo(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  // Go's official tarball installs here, often without touching PATH.
  return findCommand('go', env, ['/usr/local/go/bin', path.join(os.homedir(), 'go', 'bin')]);
}

async function buildCli(
  toolsDir: string,
  binary: string,
  env: NodeJS.ProcessEnv,
  log: Log,
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
  const started = Date.now();
  log(`building Temporal CLI v${TEMPORAL_CLI_VERSION} with ${go} (output: ${logFile})`);
  try {
    await runBuild({
      command: go,
      args: [
        'install',
        '-v',
        // Stamps the version so `temporal --version` reports it instead of 0.0.0-DEV.
        `-ldflags=-X ${CLI_MODULE}/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
        `${CLI_MODULE}/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
      ],
      env,
      extraEnv: { GOBIN: gobin },
      logFile,
      timeoutMs: BUILD_TIMEOUT_MS,
      failure: 'building the Temporal CLI failed: go install',
      tailLines: 25,
      onProgress: (seconds) => log(`building Temporal CLI v${TEMPORAL_CLI_VERSION}… ${seconds} s`),
    });
    await fs.mkdir(path.dirname(binary), { recursive: true });
    await fs.rename(path.join(gobin, 'temporal'), binary);
    log(
      `built Temporal CLI v${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - started) / 1000)} s: ${binary}`,
    );
  } finally {
    await fs.rm(gobin, { recursive: true, force: true });
  }
}
