// Where a benchmark run lives and the services it starts beside the product: a
// run directory, a Temporal dev server and a PostgreSQL database of its own, all
// removed at clean-up, and kept off the product's core when `taskset` can pin.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, dropTestDatabase } from '../../tools/dev-services/local-postgres.ts';
import { withClient } from '../../tools/dev-services/pg-cluster-tools.ts';
import { ensurePgvectorServer } from '../../tools/dev-services/pgvector-server.ts';
import { ensureTemporalCli } from '../../infra/temporal/temporal-cli.ts';
import { freePort, startTemporalDevServer } from '../../infra/temporal/temporal-dev-server.ts';
import { checkInterrupted, cleanups, forceKill, log } from './lifecycle.ts';

/** The checkout the benchmarks run from (where `.tools`, `.data` and `scripts/start.ts` are). */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** True when `taskset` can pin processes to a core here. */
export function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

/**
 * A fresh run directory (removed at clean-up) with the stack's data directory
 * and log in it; pins this process to core 1 when the product will run pinned to core 0.
 */
export function prepareRun(prefix: string, options: { allowPin?: boolean } = {}) {
  const pin = (options.allowPin ?? true) && hasTaskset() && os.cpus().length > 1;
  if (pin) spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  // Run as root, the product's own PostgreSQL runs as a system user that must reach DATA_DIR.
  fs.chmodSync(runDir, 0o711);
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
export async function startBenchTemporal(runDir: string, pin: boolean) {
  const cliPath = await ensureTemporalCli({ projectRoot: PROJECT_ROOT, log });
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
export async function startBenchPostgres(pin: boolean): Promise<string> {
  const server = await ensurePgvectorServer({ projectRoot: PROJECT_ROOT, log });
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
