import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { errorMessage, sleep } from './process-tools.ts';

// Helpers for long-running local services (the Temporal dev server here, the
// launchers in tools/dev-services): loopback ports, readiness probes and child
// processes that never outlive this process.

/** Every local service listens on this address only. */
export const LOOPBACK = '127.0.0.1';

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on `port` of 127.0.0.1 within a second. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface WaitUntilOptions {
  /** When to give up, counted from the first attempt. */
  timeoutMs: number;
  /** Pause between attempts. */
  intervalMs: number;
  /** Ends the wait quietly: the call resolves without another attempt. */
  signal?: AbortSignal;
  /** Message of the error thrown at the deadline, given the last attempt's error message. */
  timeoutMessage: (lastError: string) => string;
  /** Errors that end the wait at once, rethrown as they are. */
  isFatal?: (error: unknown) => boolean;
  /** Called after each failed attempt that will be retried (1-based). */
  onRetry?: (attempt: number) => void;
}

/**
 * Calls `probe` until it resolves, pausing between attempts; once the
 * deadline has passed, the next failure becomes an error built with
 * `timeoutMessage`.
 */
export async function waitUntil(
  probe: () => Promise<unknown>,
  options: WaitUntilOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 1; !options.signal?.aborted; attempt++) {
    try {
      await probe();
      return;
    } catch (error) {
      if (options.isFatal?.(error)) throw error;
      if (Date.now() > deadline) throw new Error(options.timeoutMessage(errorMessage(error)));
      options.onRetry?.(attempt);
    }
    await sleep(options.intervalMs);
  }
}

export interface ServiceProcessOptions {
  command: string;
  args: string[];
  /** Names the program in "could not run <label>" (default: `command`). */
  label?: string;
  /** Environment of the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Receives the child's stdout and stderr; its directory is created when missing. */
  logFile: string;
  /** `'a'` appends to the log, `'w'` starts it afresh. */
  logFlags: 'a' | 'w';
  /**
   * `'pipe'` gives the child a stdin that stays open while this process lives,
   * so a child that watches it can exit when this process dies (default `'ignore'`).
   */
  stdin?: 'ignore' | 'pipe';
  /** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
  stopGraceMs: number;
  /**
   * Runs once inside `stop()`, with how the child ended, or undefined when it
   * had already ended before `stop()` was called.
   */
  afterStop?: (how: string | undefined) => Promise<void> | void;
}

/** A child process that this process started and owns. */
export interface ServiceProcess {
  child: ChildProcess;
  /** The log's size when the child started: what comes before belongs to earlier runs. */
  logStart: number;
  /** Resolves with how the child ended: `code 0`, `killed by SIGKILL` or `could not run …`. */
  exited: Promise<string>;
  /** Stops the child (SIGTERM, then SIGKILL after the grace) and waits; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a long-running child with its output in a log file, in a process
 * group of its own (a terminal's signals are for this process to relay in
 * order). The child is killed with SIGKILL if this process exits without
 * calling `stop()`, so no orphan server is left behind.
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const { command, args, logFile, label = command } = options;
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  const out = await fs.open(logFile, options.logFlags);
  let child: ChildProcess;
  let logStart: number;
  let exited: Promise<string>;
  try {
    logStart = (await out.stat()).size;
    child = spawn(command, args, {
      env: options.env,
      stdio: [options.stdin ?? 'ignore', out.fd, out.fd],
      // A process group of its own: Ctrl-C in a terminal reaches only this process, which
      // stops the child last, after the workers that talk to it have drained.
      detached: true,
    });
    // Listen before awaiting anything: a failed spawn reports 'error' on the next tick.
    exited = new Promise<string>((resolve) => {
      child.once('error', (error) => resolve(`could not run ${label}: ${error.message}`));
      child.once('exit', (code, signal) =>
        resolve(signal ? `killed by ${signal}` : `code ${code}`),
      );
    });
    // A child that watches its stdin only waits for it to close; a write error just means it is gone.
    child.stdin?.on('error', () => {});
  } finally {
    await out.close();
  }
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  // A child that ended on its own needs no killing: a supervisor restarting it must not pile up listeners.
  void exited.then(() => process.removeListener('exit', killOnExit));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      let how: string | undefined;
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), options.stopGraceMs);
        how = await exited;
        clearTimeout(timer);
      }
      await options.afterStop?.(how);
    })();
    return stopping;
  };
  return { child, logStart, exited, stop };
}

export interface WaitForServiceOptions {
  /** Resolves once the service answers; stops probing when `signal` aborts. */
  ready: (signal: AbortSignal) => Promise<void>;
  /** The error when the child exits before it is ready, given how it ended. */
  exitedError: (how: string) => Promise<Error> | Error;
  /**
   * Runs on failure before the child is stopped (while its files are still
   * there) and returns the error to throw instead (default: the failure itself).
   */
  describeFailure?: (error: unknown) => Promise<unknown>;
}

/**
 * Waits until `server` is ready, or fails as soon as it exits first. On any
 * failure the probe is ended and the child stopped before the error is thrown,
 * so a launcher that failed to start leaves no process behind.
 */
export async function waitForService(
  server: ServiceProcess,
  options: WaitForServiceOptions,
): Promise<void> {
  const abort = new AbortController();
  try {
    await Promise.race([
      options.ready(abort.signal),
      server.exited.then(async (how) => {
        // A child stopped after it was ready (or after a failure) is no failure to report.
        if (!abort.signal.aborted) throw await options.exitedError(how);
      }),
    ]);
  } catch (error) {
    abort.abort();
    const failure = options.describeFailure ? await options.describeFailure(error) : error;
    await server.stop();
    throw failure;
  } finally {
    abort.abort();
  }
}
