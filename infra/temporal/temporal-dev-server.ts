import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MEMORY_SEARCH_ATTRIBUTES } from './search-attributes.ts';
import { errorMessage, tail } from '../process/process-tools.ts';
import {
  acceptsConnections,
  freePort,
  LOOPBACK as HOST,
  startServiceProcess,
  waitForService,
  waitUntil,
} from '../process/service-tools.ts';

export { freePort };

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const PROBE_DEADLINE_MS = 2_000;

/**
 * SQLite settings of a dev server that keeps its history in a file. By default
 * SQLite commits through a rollback journal with `synchronous=FULL`: every
 * commit creates, writes, syncs and deletes a journal file and syncs the
 * database, and every signal, workflow task and activity is a commit or more.
 * With a write-ahead log and `synchronous=NORMAL` a commit is one append to
 * the log. Under the default layout's benchmark (100 sessions, 200 users) the
 * dev server took 14 % of a core instead of 23–28 %, and the machine 65 %
 * instead of 78–87 %. What it gives up: a power loss or an operating-system
 * crash (not a crash of the server or of the product) may lose the last
 * commits, never the database. Nothing acknowledged lives only there: memories
 * are committed to the relational store first, and the index reconciler and
 * the narrative feeder ask again for what such a loss would drop.
 */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'] as const;

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
  /**
   * The server's nice value (default 0). A product that runs its own dev
   * server beside its API gives it a higher one, so on a busy machine the
   * workflow engine (background work) yields the CPU to requests.
   */
  niceness?: number;
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
  /** Resolves with how the server ended (`killed by SIGKILL`, `code 1`, …). */
  exited: Promise<string>;
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
    await fs.mkdir(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
    for (const pragma of DEV_SERVER_SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  args.push('--namespace', namespace, '--log-level', 'warn');
  // Registered at launch, so the Web UI can filter the product's workflows by user and kind.
  for (const { name, type } of MEMORY_SEARCH_ATTRIBUTES)
    args.push('--search-attribute', `${name}=${type}`);

  const started = Date.now();
  log(`starting Temporal dev server on ${address} (UI ${uiUrl}, log ${logFile})`);
  const server = await startServiceProcess({
    command: cliPath,
    args,
    logFile,
    // Earlier runs may have written to the same file: failures quote only this run's output.
    logFlags: 'a',
    stopGraceMs: STOP_GRACE_MS,
    afterStop: (how) => {
      if (how !== undefined) log(`stopped Temporal dev server on ${address}`);
    },
  });
  const lastLines = () => tail(logFile, 20, server.logStart);
  if (options.niceness && server.child.pid) {
    try {
      os.setPriority(server.child.pid, options.niceness);
    } catch (error) {
      log(`could not lower the dev server's priority: ${errorMessage(error)}`);
    }
  }

  await waitForService(server, {
    ready: (signal) =>
      waitUntilReady(
        address,
        uiUrl,
        namespace,
        options.readyTimeoutMs ?? READY_TIMEOUT_MS,
        signal,
      ).catch(async (error: unknown) => {
        throw new Error(`${errorMessage(error)}; last lines of ${logFile}:\n${await lastLines()}`);
      }),
    exitedError: async (how) =>
      new Error(
        `Temporal dev server on ${address} exited before it was ready (${how}); ` +
          `last lines of ${logFile}:\n${await lastLines()}`,
      ),
  });
  log(`Temporal dev server ready on ${address} in ${Date.now() - started} ms`);
  return {
    address,
    uiUrl,
    pid: server.child.pid ?? -1,
    logFile,
    exited: server.exited,
    stop: server.stop,
  };
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
  signal: AbortSignal,
): Promise<void> {
  let connection: Connection | undefined;
  try {
    await waitUntil(
      async () => {
        connection ??= await Connection.connect({ address, connectTimeout: PROBE_DEADLINE_MS });
        const conn = connection;
        await conn.withDeadline(Date.now() + PROBE_DEADLINE_MS, () =>
          conn.workflowService.describeNamespace({ namespace }),
        );
        const response = await fetch(uiUrl, { signal: AbortSignal.timeout(PROBE_DEADLINE_MS) });
        await response.body?.cancel();
        if (response.status !== 200) {
          throw new Error(`Web UI ${uiUrl} answered HTTP ${response.status}`);
        }
      },
      {
        timeoutMs,
        intervalMs: 200,
        signal,
        timeoutMessage: (lastError) =>
          `Temporal dev server on ${address} was not ready after ${Math.round(timeoutMs / 1000)} s: ` +
          lastError,
      },
    );
  } finally {
    await connection?.close().catch(() => {});
  }
}
