// What the benchmarks share: timing helpers, a JSON HTTP client, and the clean-up
// registry with its Ctrl-C handling (installed on import), so everything a benchmark
// started is stopped however it ends.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTemporalCli } from '../infra/dev/temporal-cli.ts';
import { freePort, startTemporalDevServer } from '../infra/dev/temporal-dev-server.ts';

export const REQUEST_TIMEOUT_MS = 30_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const log = (msg: string) =>
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** The nearest-rank percentile of an ascending list; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON bodies
export type Json = Record<string, any>;

/** One JSON request; the body is parsed when it is JSON, else kept (shortened) as `raw`. */
export async function http(
  base: string,
  method: string,
  route: string,
  options: { key?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: Json | undefined }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: Json | undefined;
  try {
    body = text ? (JSON.parse(text) as Json) : undefined;
  } catch {
    body = { raw: text.slice(0, 200) };
  }
  return { status: res.status, body };
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
export function prepareRun(prefix: string) {
  const pin = hasTaskset() && os.cpus().length > 1;
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
