import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const PROBE_DEADLINE_MS = 2_000;

export interface TemporalDevServerOptions {
  /** Path of the Temporal CLI binary (see `ensureTemporalCli`). */
  cliPath: string;
  /** Frontend gRPC port on 127.0.0.1. */
  port: number;
  /** Web UI port on 127.0.0.1. */
  uiPort: number;
  /** SQLite file that keeps state across restarts; in memory when omitted. */
  dbFile?: string;
  /** Namespace created at launch and awaited before the server counts as ready. */
  namespace?: string;
  /** File that receives the server's output (default: a file in the OS temp directory). */
  logFile?: string;
  /** Receives progress and status lines. */
  log?: (msg: string) => void;
  /** How long to wait for the frontend and the UI to answer (default 60 s). */
  readyTimeoutMs?: number;
}

/** A running `temporal server start-dev` process that this process started. */
export interface TemporalDevServer {
  /** Frontend address for `Connection.connect`, `host:port`. */
  address: string;
  /** Base URL of the Web UI. */
  uiUrl: string;
  pid: number;
  /** Where the server's output goes. */
  logFile: string;
  /** Stops the server (SIGTERM, then SIGKILL after 15 s); safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts a Temporal dev server on loopback and resolves once its frontend
 * describes `namespace` and its Web UI answers HTTP 200 (the UI is embedded in
 * the binary, so it works offline). Refuses ports that are already in use,
 * naming them, rather than reusing a server it did not start; fails with the
 * tail of the server log when the process exits before it is ready.
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions,
): Promise<TemporalDevServer> {
  const { cliPath, port, uiPort, dbFile, namespace = 'default', log = () => {} } = options;
  const address = `${HOST}:${port}`;
  const uiUrl = `http://${HOST}:${uiPort}`;
  const logFile =
    options.logFile ?? path.join(os.tmpdir(), `temporal-dev-${port}-${process.pid}.log`);

  await assertPortFree(port, 'Temporal frontend', address);
  await assertPortFree(uiPort, 'Temporal Web UI', address);

  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port)];
  args.push('--ui-port', String(uiPort));
  if (dbFile) {
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
  }
  args.push('--namespace', namespace, '--log-level', 'warn');

  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  // Earlier runs may have written to the same file: failures quote only this run's output.
  const logStart = fs.fstatSync(out).size;
  const started = Date.now();
  log(`starting Temporal dev server on ${address} (UI ${uiUrl}, log ${logFile})`);
  let child: ChildProcess;
  try {
    child = spawn(cliPath, args, { stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not run ${cliPath}: ${error.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `code ${code}`));
  });
  // Never leave an orphan server behind when this process ends without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      log(`stopped Temporal dev server on ${address}`);
    })();
    return stopping;
  };

  const abort = new AbortController();
  try {
    await Promise.race([
      waitUntilReady(
        address,
        uiUrl,
        namespace,
        options.readyTimeoutMs ?? READY_TIMEOUT_MS,
        abort,
      ).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`${reason}; last lines of ${logFile}:\n${tail(logFile, logStart, 20)}`);
      }),
      exited.then((how) => {
        throw new Error(
          `Temporal dev server on ${address} exited before it was ready (${how}); ` +
            `last lines of ${logFile}:\n${tail(logFile, logStart, 20)}`,
        );
      }),
    ]);
  } catch (error) {
    abort.abort();
    await stop();
    throw error;
  }
  log(`Temporal dev server ready on ${address} in ${Date.now() - started} ms`);
  return { address, uiUrl, pid: child.pid ?? -1, logFile, stop };
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function assertPortFree(port: number, role: string, frontend: string): Promise<void> {
  if (!(await acceptsConnections(port))) return;
  const temporal = await answersAsTemporal(`${HOST}:${port}`);
  const what = temporal ? 'a Temporal server this process did not start' : 'another program';
  throw new Error(
    `cannot start the Temporal dev server on ${frontend}: port ${port} (${role}) on ${HOST} ` +
      `is already served by ${what}; stop it or choose another port`,
  );
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
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

async function answersAsTemporal(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: PROBE_DEADLINE_MS });
    const conn = connection;
    await conn.withDeadline(Date.now() + PROBE_DEADLINE_MS, () =>
      conn.workflowService.getSystemInfo({}),
    );
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

async function waitUntilReady(
  address: string,
  uiUrl: string,
  namespace: string,
  timeoutMs: number,
  abort: AbortController,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let connection: Connection | undefined;
  let lastError: unknown;
  try {
    while (!abort.signal.aborted) {
      try {
        connection ??= await Connection.connect({ address, connectTimeout: PROBE_DEADLINE_MS });
        const conn = connection;
        await conn.withDeadline(Date.now() + PROBE_DEADLINE_MS, () =>
          conn.workflowService.describeNamespace({ namespace }),
        );
        const response = await fetch(uiUrl, { signal: AbortSignal.timeout(PROBE_DEADLINE_MS) });
        await response.body?.cancel();
        if (response.status === 200) return;
        lastError = new Error(`Web UI ${uiUrl} answered HTTP ${response.status}`);
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Temporal dev server on ${address} was not ready after ${Math.round(timeoutMs / 1000)} s: ` +
            (lastError instanceof Error ? lastError.message : String(lastError)),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await connection?.close().catch(() => {});
  }
}

function tail(file: string, fromByte: number, lines: number): string {
  try {
    const text = fs.readFileSync(file).subarray(fromByte).toString('utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(no output)';
  } catch {
    return '(no output)';
  }
}
