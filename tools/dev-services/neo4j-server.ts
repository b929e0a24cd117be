import fs from 'node:fs/promises';
import path from 'node:path';
import neo4j from 'neo4j-driver';
import { ensureNeo4jLauncher } from './neo4j-launcher.ts';
import { errorMessage, removeLeftovers, tail } from '../../infra/process/process-tools.ts';
import {
  freePort,
  LOOPBACK as HOST,
  startServiceProcess,
  waitForService,
  waitUntil,
} from '../../infra/process/service-tools.ts';

const LAUNCHER_CLASS = 'memengine.Neo4jLauncher';
/** The launcher runs with authentication disabled on loopback: these are accepted and ignored. */
const USERNAME = 'neo4j';
const PASSWORD = 'neo4j';
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 30_000;

export interface EnsureNeo4jOptions {
  /** The project root: the launcher is built into `<projectRoot>/.tools/neo4j`. */
  projectRoot: string;
  /** Receives progress and status lines. */
  log?: (msg: string) => void;
  /** Where instances keep their store and log (default `<projectRoot>/.data/neo4j`). */
  dataDir?: string;
  /** JVM maximum heap, as for `-Xmx` (default `512m`). */
  heap?: string;
  /** How long to wait for Bolt to answer (default 90 s). */
  readyTimeoutMs?: number;
  /** Environment to read `TEST_NEO4J_URL` and `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** A Neo4j server that accepts Bolt connections. */
export interface LocalNeo4j {
  /** `bolt://127.0.0.1:<port>`. */
  url: string;
  username: string;
  password: string;
  /** True when this call started the server, so `stop()` will stop it. */
  startedByUs: boolean;
  /** Stops the server this call started (SIGTERM, SIGKILL after 30 s); safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Provides a Neo4j Community 5.26 server for development and tests.
 *
 * - `TEST_NEO4J_URL` set: uses that server as is (with `TEST_NEO4J_USER` and
 *   `TEST_NEO4J_PASSWORD`).
 * - Otherwise: builds the in-process launcher in `tools/dev-services/neo4j` with Maven into
 *   `<projectRoot>/.tools/neo4j` when its sources changed since the last build
 *   (the first build downloads about 150 MB from Maven Central), then starts it
 *   with a capped heap on a free loopback port and resolves once Bolt answers.
 *
 * Authentication is disabled (loopback only, throwaway data), so any
 * credentials work. Every start begins with an empty database, kept in a
 * directory of its own under `dataDir` and removed again by `stop()`.
 */
export async function ensureNeo4j(options: EnsureNeo4jOptions): Promise<LocalNeo4j> {
  const { log = () => {}, env = process.env } = options;
  const fromEnv = env.TEST_NEO4J_URL?.trim();
  if (fromEnv) {
    const username = env.TEST_NEO4J_USER ?? USERNAME;
    const password = env.TEST_NEO4J_PASSWORD ?? PASSWORD;
    log(`using Neo4j from TEST_NEO4J_URL: ${fromEnv}`);
    await waitForBolt(fromEnv, username, password, 10_000, new AbortController().signal);
    return { url: fromEnv, username, password, startedByUs: false, stop: async () => {} };
  }

  const projectRoot = path.resolve(options.projectRoot);
  const { java, classpath } = await ensureNeo4jLauncher({ projectRoot, env, log });
  const dataDir = path.resolve(options.dataDir ?? path.join(projectRoot, '.data', 'neo4j'));
  // Instance directories whose Node process is gone were left by a run killed before stop().
  await removeLeftovers(dataDir, /^run-(\d+)-\d+(\.failed\.log)?$/, log);
  const port = await freePort();
  const instanceDir = path.join(dataDir, `run-${process.pid}-${port}`);
  await fs.rm(instanceDir, { recursive: true, force: true });
  await fs.mkdir(instanceDir, { recursive: true });
  const logFile = path.join(instanceDir, 'launcher.log');

  const url = `bolt://${HOST}:${port}`;
  const args = [
    `-Xmx${options.heap ?? '512m'}`,
    '-XX:+ExitOnOutOfMemoryError',
    '-cp',
    classpath,
    LAUNCHER_CLASS,
    String(port),
    path.join(instanceDir, 'store'),
    // The JVM stops when this process dies, even by SIGKILL: its stdin pipe closes.
    '--exit-on-stdin-eof',
  ];
  const started = Date.now();
  log(`starting Neo4j on ${url} (log ${logFile})`);
  const server = await startServiceProcess({
    command: java,
    args,
    label: 'java',
    env,
    logFile,
    logFlags: 'a',
    stdin: 'pipe',
    stopGraceMs: STOP_GRACE_MS,
    afterStop: async () => {
      await fs.rm(instanceDir, { recursive: true, force: true });
      log(`stopped Neo4j on ${url}`);
    },
  });

  await waitForService(server, {
    ready: (signal) =>
      waitForBolt(url, USERNAME, PASSWORD, options.readyTimeoutMs ?? READY_TIMEOUT_MS, signal),
    exitedError: (how) => new Error(`Neo4j exited before it was ready (${how})`),
    describeFailure: async (error) => {
      const lines = await tail(logFile, 30);
      // Keep the log for inspection: stop() would remove it with the instance directory.
      const kept = `${instanceDir}.failed.log`;
      await fs.copyFile(logFile, kept).catch(() => {});
      return new Error(`${errorMessage(error)}; last lines of ${kept}:\n${lines}`, {
        cause: error,
      });
    },
  });
  log(`Neo4j ready on ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { url, username: USERNAME, password: PASSWORD, startedByUs: true, stop: server.stop };
}

async function waitForBolt(
  url: string,
  username: string,
  password: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const driver = neo4j.driver(url, neo4j.auth.basic(username, password), {
    connectionTimeout: 2_000,
    maxConnectionPoolSize: 1,
  });
  try {
    await waitUntil(() => driver.verifyConnectivity(), {
      timeoutMs,
      intervalMs: 500,
      signal,
      timeoutMessage: (lastError) =>
        `Neo4j at ${url} did not answer within ${Math.round(timeoutMs / 1000)} s: ${lastError}`,
    });
  } finally {
    await driver.close();
  }
}
