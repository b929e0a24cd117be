// The product under measurement as a child process: started on a free port,
// watched for its memory peak (by a sampler process of its own), and stopped by the
// benchmark or at clean-up.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { freePort } from '../../infra/temporal/temporal-dev-server.ts';
import { apiClient } from './http.ts';
import { checkInterrupted, cleanups, forceKill, log, sleep } from './lifecycle.ts';
import type { PeakFigures } from './process-tree.ts';
import { PROJECT_ROOT } from './run-setup.ts';
import { startTreeSampler, type TreeSampler } from './tree-sampler.ts';

/** A running product child: where it listens, its memory peak so far, and how to stop it. */
export interface ProductChild {
  url: string;
  pid: number;
  pinned: boolean;
  /** The child process alone (`rssKb`, `hwmKb`) and its whole process tree (`tree`). */
  peak(): Promise<PeakFigures>;
  /** The child's process tree, sampled every 500 ms by a process of its own. */
  tree: TreeSampler;
  stop(): Promise<void>;
}

// What the product reads to choose its layout: never inherited from the benchmark's shell.
const LAYOUT_ENV = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'STORE', 'PROCESSES', 'API_PROCESSES', 'WORKER_PROCESSES']; // prettier-ignore

/**
 * The whole product (`scripts/start.ts`) as a child process on a free loopback
 * port against `temporalAddress` (or, without one, on the Temporal dev server the product
 * starts itself on `temporalPorts`), with no model unless `env` names one; stopped by
 * `stop()` or at clean-up, with any descendant that outlives it. Its RSS, and its whole
 * process tree's, is sampled every 500 ms for `peak()` by a sampler process
 * (tree-sampler.ts), so /proc is never read on this process's event loop.
 * `BENCH_STACK_NODE_ARGS` adds Node options (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`;
 * Node refuses those in NODE_OPTIONS). Resolves once `/readyz` answers 200; rejects if
 * the child exits first. A start that failed because a port it was given was taken
 * before it listened is tried again on new ports (twice at most).
 */
export async function startProductChild(opts: ProductChildOptions): Promise<ProductChild> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (error) {
      // Ports come free from the range the product's own outgoing connections also draw their
      // local ports from, so one can be taken between choosing it and listening on it.
      if (!(error instanceof PortTaken) || attempt >= 3) throw error;
      log(`a port given to the product was taken before it listened; starting it again`);
    }
  }
}

/** A start-up that failed on a port in use (EADDRINUSE in the product's log). */
class PortTaken extends Error {}

interface ProductChildOptions {
  dataDir: string;
  temporalAddress: string | undefined;
  /** The ports of the product's own Temporal dev server when `temporalAddress` is unset. */
  temporalPorts?: { port: number; uiPort: number };
  adminKey: string;
  logFile: string;
  pin: boolean;
  env?: Record<string, string>;
}

async function startOnce(opts: ProductChildOptions): Promise<ProductChild> {
  checkInterrupted();
  const port = await freePort();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !LAYOUT_ENV.includes(k))); // prettier-ignore
  const temporal = opts.temporalAddress
    ? { TEMPORAL_ADDRESS: opts.temporalAddress }
    : {
        TEMPORAL_PORT: String(opts.temporalPorts?.port ?? (await freePort())),
        TEMPORAL_UI_PORT: String(opts.temporalPorts?.uiPort ?? (await freePort())),
      };
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PORT: String(port),
    HOST: '127.0.0.1',
    ...temporal,
    DATA_DIR: opts.dataDir,
    ADMIN_API_KEY: opts.adminKey,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    // An empty variable counts as unset: local fallbacks serve unless `env` says otherwise.
    GEMINI_API_KEY: '',
    GEMINI_BASE_URL: '',
    ...opts.env,
  };
  // The V8 heap limit `npm start` gives the product (scripts/bootstrap.mjs: NODE_HEAP_MB, else
  // 1,024 MB): it also sets how far the heap grows between collections, so a product
  // started without it would hold a different amount of memory than the one users run.
  const heapMb = env.NODE_HEAP_MB?.trim() || '1024';
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --max-old-space-size=${heapMb}`.trim();
  const extra = (process.env.BENCH_STACK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...extra, '--import', 'tsx', 'scripts/start.ts'];
  const [command, args] = opts.pin
    ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const pid = child.pid!;
  forceKill.pids.add(pid);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));

  // Set once the sampler runs; a clean-up before then has no tree to read.
  const watch: { tree?: TreeSampler } = {};
  const terminate = async () => {
    forceKill.pids.delete(pid);
    // A last sample while the tree is whole: the pids to stop if any outlives the product.
    const { tree } = watch;
    const before = (await tree?.sample().catch(() => []))?.map((p) => p.pid) ?? [];
    if (!exited) {
      child.kill('SIGTERM');
      const done = await Promise.race([exit.then(() => true), sleep(30_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exit;
      }
    }
    const seen = (await tree?.seen().catch(() => before)) ?? before;
    await tree?.stop();
    await stopSurvivors([...new Set([...before, ...seen])].filter((p) => p !== pid));
  };
  const cleanupEntry = { name: `product child ${pid}`, run: terminate };
  cleanups.push(cleanupEntry);
  const sampler = await startTreeSampler({ root: pid, projectRoot: PROJECT_ROOT, logFile: opts.logFile }); // prettier-ignore
  watch.tree = sampler;

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, opts.logFile, () => exited);
  } catch (error) {
    if (error instanceof PortTaken) {
      cleanups.splice(cleanups.indexOf(cleanupEntry), 1);
      await terminate();
    }
    throw error;
  }
  return {
    url,
    pid,
    pinned: opts.pin,
    tree: sampler,
    peak: () => sampler.peak(),
    async stop() {
      const i = cleanups.indexOf(cleanupEntry);
      if (i >= 0) cleanups.splice(i, 1);
      await terminate();
    },
  };
}

/**
 * Descendants the product started (its database, Temporal, API and worker processes)
 * that are still there after it exited: asked to stop, then killed (seconds after they
 * were last seen, so a reused pid is not a concern on Linux's pid ranges).
 */
async function stopSurvivors(pids: number[]) {
  const alive = (p: number) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  const orphans = () => pids.filter(alive);
  const signal = (p: number, s: NodeJS.Signals) => alive(p) && process.kill(p, s);
  for (const p of orphans()) signal(p, 'SIGTERM');
  for (let i = 0; i < 40 && orphans().length > 0; i++) await sleep(250);
  for (const p of orphans()) signal(p, 'SIGKILL');
}

/** Polls `/readyz` until it answers 200; throws with the log's tail if the child exits first. */
async function waitReady(url: string, logFile: string, exited: () => boolean) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    checkInterrupted();
    if (exited()) {
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
      const message = `the product exited during start-up; log tail:\n${tail}`;
      throw /EADDRINUSE/.test(tail) ? new PortTaken(message) : new Error(message);
    }
    const ready = await apiClient(url, {})
      .ready({ timeoutMs: 3000 })
      .catch(() => null);
    if (ready?.status === 'ready') return;
    if (Date.now() > deadline) throw new Error(`the product was not ready within 180 s (${url})`);
    await sleep(250);
  }
}
