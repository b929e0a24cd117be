import { execFile, spawn } from 'node:child_process';
import { constants, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

// Helpers shared by everything that installs and runs local services (the
// Temporal CLI and dev server here, the launchers in tools/dev-services):
// running commands, finding binaries, and reading their logs. What needs root
// (apt packages, system users) is in system-setup.ts.

const execFileAsync = promisify(execFile);

/** How often long waits and builds report that they are still going. */
export const PROGRESS_EVERY_MS = 10_000;

/** Receives progress and status lines. */
export type Log = (msg: string) => void;

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `file` exists, whatever it is. */
export async function exists(file: string): Promise<boolean> {
  return fs.access(file, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/** True when `file` is a regular file this process may execute. */
export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The path of the first executable `command` in the `PATH` of `env`, then in
 * `extraDirs`; undefined when there is none.
 */
export async function findCommand(
  command: string,
  env: NodeJS.ProcessEnv,
  extraDirs: readonly string[] = [],
): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** True while process `pid` exists, including another user's process. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The last `lines` lines of `file`, for error messages; only what was written
 * from byte `fromByte` on, so a log shared by several runs quotes this run.
 * `(no output)` when there is nothing to quote.
 */
export async function tail(file: string, lines: number, fromByte = 0): Promise<string> {
  try {
    const text = (await fs.readFile(file)).subarray(fromByte).toString('utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(no output)';
  } catch {
    return '(no output)';
  }
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's stdin, which is closed in any case. */
  input?: string;
  /** The command is killed after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Runs a command to completion and returns its output. Fails with the
 * command line and its stderr (or stdout) when it exits non-zero or times out;
 * the exit status stays on `cause.code`.
 */
export async function run(
  command: string,
  args: string[],
  { env, cwd, input, timeoutMs = 60_000 }: RunOptions,
): Promise<{ stdout: string; stderr: string }> {
  const running = execFileAsync(command, args, {
    env,
    cwd,
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  // A command that exits without reading its input must fail by its exit status, not by EPIPE.
  running.child.stdin?.on('error', () => {});
  running.child.stdin?.end(input);
  try {
    return await running;
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${(stderr || stdout).trim() || errorMessage(error)}`,
      { cause: error },
    );
  }
}

export interface BuildOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Variables set for this command only; the log's first line shows them. */
  extraEnv?: Record<string, string>;
  /** Receives the command line and all output; truncated first. */
  logFile: string;
  /** The command is killed after this long. */
  timeoutMs: number;
  /** Start of the error when the command fails: `building X failed: go install`. */
  failure: string;
  /** How many lines of the log that error quotes. */
  tailLines: number;
  /** Called every ten seconds with the seconds since the start. */
  onProgress: (seconds: number) => void;
  /** Sees every chunk of output. */
  onOutput?: (chunk: string) => void;
}

/**
 * Runs a long build command with its output in a log file, reporting progress
 * every ten seconds; fails with the tail of the log when it does not exit 0.
 */
export async function runBuild(options: BuildOptions): Promise<void> {
  const { command, args, logFile, extraEnv = {} } = options;
  const output = createWriteStream(logFile);
  const closeOutput = () => new Promise((resolve) => output.end(resolve));
  const started = Date.now();
  const progress = setInterval(
    () => options.onProgress(Math.round((Date.now() - started) / 1000)),
    PROGRESS_EVERY_MS,
  );
  try {
    const assignments = Object.entries(extraEnv).map(([key, value]) => `${key}=${value} `);
    output.write(`$ ${assignments.join('')}${command} ${args.join(' ')}\n`);
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        const child = spawn(command, args, {
          env: { ...options.env, ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
        const onData = (chunk: Buffer) => {
          options.onOutput?.(chunk.toString('utf8'));
          output.write(chunk);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal });
        });
      },
    );
    if (result.code !== 0) {
      await closeOutput();
      const reason = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`;
      throw new Error(
        `${options.failure} ${reason}; last lines of ${logFile}:\n` +
          (await tail(logFile, options.tailLines)),
      );
    }
  } finally {
    clearInterval(progress);
    if (!output.closed) await closeOutput();
  }
}

/**
 * Removes the entries of `dir` whose name carries (as the first group of
 * `pattern`) the pid of a process that is gone: what a killed run left behind.
 */
export async function removeLeftovers(dir: string, pattern: RegExp, log: Log): Promise<void> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = pattern.exec(entry)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    log(`removing ${path.join(dir, entry)} left by process ${pid}`);
    await fs.rm(path.join(dir, entry), { recursive: true, force: true });
  }
}
