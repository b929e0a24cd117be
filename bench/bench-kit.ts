// What the benchmarks share: timing helpers, a JSON HTTP client, and the clean-up
// registry with its Ctrl-C handling (installed on import), so everything a benchmark
// started is stopped however it ends.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import nodeHttp from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mapLimit } from '../core/concurrency/limits.ts';
import { percentile } from '../core/util/percentile.ts';
import { createTestDatabase, dropTestDatabase } from '../tools/dev-services/local-postgres.ts';
import { withClient } from '../tools/dev-services/pg-cluster-tools.ts';
import { ensurePgvectorServer } from '../tools/dev-services/pgvector-server.ts';
import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { freePort, startTemporalDevServer } from '../infra/temporal/temporal-dev-server.ts';

export { mapLimit, percentile };

export const REQUEST_TIMEOUT_MS = 30_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const log = (msg: string) =>
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON bodies
export type Json = Record<string, any>;

// node:http with kept-alive connections, not fetch: the load generator shares a core with
// the database, and fetch costs it several times the CPU per request.
const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1024 });

/** One JSON request; the body is parsed when it is JSON, else kept (shortened) as `raw`. */
export function http(
  base: string,
  method: string,
  route: string,
  options: { key?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: Json | undefined }> {
  const payload = options.body !== undefined ? JSON.stringify(options.body) : undefined;
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(
      new URL(route, base),
      {
        method,
        agent,
        headers: {
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
          ...(payload !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Json | undefined;
          try {
            body = text ? (JSON.parse(text) as Json) : undefined;
          } catch {
            body = { raw: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${route}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on('error', fail);
    req.end(payload);
  });
}

/** True when `taskset` can pin processes to a core here. */
export function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

/** What `cleanup()` stops, last registered first. */
export const cleanups: { name: string; run: () => Promise<void> }[] = [];
/** Processes and directories to remove synchronously if a second Ctrl-C forces an exit. */
export const forceKill = { pids: new Set<number>(), dirs: new Set<string>() };

let cleaningUp: Promise<void> | undefined;
export function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const { name, run } of cleanups.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        console.error(`cleanup ${name} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaningUp;
}

let interrupted = false;
let interruptedAt = 0;
export const isInterrupted = () => interrupted;
export const checkInterrupted = () => {
  if (interrupted) throw new Error('interrupted');
};

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // Ctrl-C reaches this process twice (the terminal and tsx's relay): only a later
      // signal forces the exit.
      if (Date.now() - interruptedAt < 3000) return;
      for (const pid of forceKill.pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const dir of forceKill.dirs) fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    }
    interrupted = true;
    interruptedAt = Date.now();
    log(`${signal}: stopping everything this benchmark started (again to force)`);
    void cleanup().finally(() => process.exit(130));
  });
}

/**
 * A fresh run directory (removed at clean-up) with the stack's data directory
 * and log in it; pins this process to core 1 when the product will run pinned to core 0.
 */
export function prepareRun(prefix: string, options: { allowPin?: boolean } = {}) {
  const pin = (options.allowPin ?? true) && hasTaskset() && os.cpus().length > 1;
  if (pin) spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  forceKill.dirs.add(runDir);
  cleanups.push({
    name: 'run directory',
    run: async () => fs.rmSync(runDir, { recursive: true, force: true }),
  });
  const run = {
    pin,
    runDir,
    dataDir: path.join(runDir, 'data'),
    stackLog: path.join(runDir, 'stack.log'),
  };
  log(`run directory ${runDir}; stack log ${run.stackLog}`);
  return run;
}

/** A Temporal dev server on free ports for this run, stopped at clean-up, off the product's core. */
export async function startBenchTemporal(projectRoot: string, runDir: string, pin: boolean) {
  const cliPath = await ensureTemporalCli({ projectRoot, log });
  checkInterrupted();
  const temporal = await startTemporalDevServer({
    cliPath,
    port: await freePort(),
    uiPort: await freePort(),
    logFile: path.join(runDir, 'temporal.log'),
    log,
  });
  cleanups.push({ name: 'temporal dev server', run: () => temporal.stop() });
  forceKill.pids.add(temporal.pid);
  if (pin) spawnSync('taskset', ['-pc', '1', String(temporal.pid)], { stdio: 'ignore' });
  log(`Temporal dev server on ${temporal.address}`);
  return temporal;
}

/**
 * The production layout's relational store and vector index: the project's
 * PostgreSQL 18 with pgvector (installed and started like in `npm test`), a
 * fresh database for this run, dropped at clean-up. With `pin` the server
 * (and every backend it forks) runs on core 1, off the product's core, as a
 * managed database would. Returns the `DATABASE_URL` for the product.
 */
export async function startBenchPostgres(projectRoot: string, pin: boolean): Promise<string> {
  const server = await ensurePgvectorServer({ projectRoot, log });
  cleanups.push({ name: 'PostgreSQL 18', run: () => server.stop() });
  checkInterrupted();
  const name = `bench_${process.pid}_${Date.now().toString(36)}`;
  const url = await createTestDatabase(server.adminUrl, name);
  cleanups.push({ name: `database ${name}`, run: () => dropTestDatabase(server.adminUrl, name) });
  if (pin) {
    // The postmaster is the parent of this connection's backend; backends fork from it.
    const postmaster = await withClient(server.adminUrl, async (client) => {
      const r = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Read while the connection (so its backend) is still open.
      const stat = fs.readFileSync(`/proc/${r.rows[0]!.pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    });
    spawnSync('taskset', ['-apc', '1', String(postmaster)], { stdio: 'ignore' });
  }
  log(`PostgreSQL 18 with pgvector: database ${name}${pin ? ' (server on core 1)' : ''}`);
  return url;
}

/** Latency figures (ms, two decimals) of a list of samples; NaN fields when empty. */
export function summarizeMs(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    count: sorted.length,
    p50: r(percentile(sorted, 0.5)),
    p95: r(percentile(sorted, 0.95)),
    p99: r(percentile(sorted, 0.99)),
    mean: r(sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1)),
    max: r(sorted[sorted.length - 1] ?? NaN),
  };
}

/** Resident and peak resident memory of a process, from /proc; null once it is gone. */
export function readProcStatus(pid: number): { rssKb: number; hwmKb: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** A running product child: where it listens, its memory peak so far, and how to stop it. */
export interface ProductChild {
  url: string;
  pid: number;
  pinned: boolean;
  peak(): { rssKb: number; hwmKb: number };
  stop(): Promise<void>;
}

/**
 * The whole product (`scripts/start.ts`) as a child process on a free loopback
 * port against `temporalAddress`, with no model unless `env` names one; stopped by
 * `stop()` or at clean-up. Its RSS is sampled every 500 ms for `peak()`.
 * `BENCH_STACK_NODE_ARGS` adds Node options (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`;
 * Node refuses those in NODE_OPTIONS). Resolves once `/readyz` answers 200; rejects if
 * the child exits first.
 */
export async function startProductChild(opts: {
  dataDir: string;
  temporalAddress: string;
  adminKey: string;
  logFile: string;
  pin: boolean;
  env?: Record<string, string>;
}): Promise<ProductChild> {
  checkInterrupted();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    TEMPORAL_ADDRESS: opts.temporalAddress,
    DATA_DIR: opts.dataDir,
    ADMIN_API_KEY: opts.adminKey,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    // An empty variable counts as unset: local fallbacks serve unless `env` says otherwise.
    GEMINI_API_KEY: '',
    GEMINI_BASE_URL: '',
    ...opts.env,
  };
  const extra = (process.env.BENCH_STACK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...extra, '--import', 'tsx', 'scripts/start.ts'];
  const [command, args] = opts.pin
    ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(command, args, {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const pid = child.pid!;
  forceKill.pids.add(pid);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));

  let peakRss = 0;
  let hwm = 0;
  const sample = () => {
    const s = readProcStatus(pid);
    if (s) {
      peakRss = Math.max(peakRss, s.rssKb);
      hwm = Math.max(hwm, s.hwmKb);
    }
  };
  const sampler = setInterval(sample, 500);

  const terminate = async () => {
    clearInterval(sampler);
    forceKill.pids.delete(pid);
    if (exited) return;
    sample();
    child.kill('SIGTERM');
    const done = await Promise.race([exit.then(() => true), sleep(30_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exit;
    }
  };
  const cleanupEntry = { name: `product child ${pid}`, run: terminate };
  cleanups.push(cleanupEntry);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    checkInterrupted();
    if (exited) {
      const tail = fs.readFileSync(opts.logFile, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`the product exited during start-up; log tail:\n${tail}`);
    }
    const ready = await http(url, 'GET', '/readyz', { timeoutMs: 3000 }).catch(() => null);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`the product was not ready within 180 s (${url})`);
    await sleep(250);
  }
  return {
    url,
    pid,
    pinned: opts.pin,
    peak: () => (sample(), { rssKb: peakRss, hwmKb: hwm }),
    async stop() {
      const i = cleanups.indexOf(cleanupEntry);
      if (i >= 0) cleanups.splice(i, 1);
      await terminate();
    },
  };
}

/** Counts a user's memories by index state (`GET /v1/memories`, page by page). */
export async function countIndexStates(url: string, key: string) {
  let cursor: string | null = null;
  let indexed = 0;
  let failed = 0;
  do {
    const route: string = `/v1/memories?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await http(url, 'GET', route, { key });
    if (res.status !== 200) throw new Error(`GET /v1/memories: ${res.status}`);
    for (const m of res.body!.items as { index_state: string }[]) {
      if (m.index_state === 'indexed') indexed++;
      if (m.index_state === 'failed') failed++;
    }
    cursor = res.body!.next_cursor as string | null;
  } while (cursor);
  return { indexed, failed };
}
