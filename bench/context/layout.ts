// Which layout the context benchmark measures (`--store`): what `npm start` runs
// (the product starting its own Temporal and PostgreSQL, unpinned), the production
// layout (the bench's own PostgreSQL 18 and Temporal, the product pinned to core 0),
// or PGlite in the product with its own Temporal; and the sentence the report says.
import { spawnSync } from 'node:child_process';
import { freePort } from '../../infra/temporal/temporal-dev-server.ts';
import {
  log,
  startBenchPostgres,
  startBenchTemporal,
  type ProcessKind,
  type ProductChild,
  type TreePeak,
} from '../bench-kit.ts';
import { processEnv, type Options } from './options.ts';
import type { StackOptions } from './stack.ts';

export interface Layout {
  stackOptions: StackOptions;
  /** Where the bench reaches Temporal (its own, or the product's on a known port). */
  temporalAddress: string;
}

/** Starts what the layout needs beside the product and says how to start the product. */
export async function startLayout(
  o: Options,
  run: { pin: boolean; runDir: string; dataDir: string; stackLog: string },
  common: { geminiUrl: string; adminKey: string },
): Promise<Layout> {
  const temporalPorts = { port: await freePort(), uiPort: await freePort() };
  const base = { dataDir: run.dataDir, logFile: run.stackLog, temporalPorts, ...common };
  const layoutEnv = processEnv(o.processes, o.workers);
  if (o.store === 'postgres') {
    const temporal = await startBenchTemporal(run.runDir, run.pin);
    const databaseUrl = await startBenchPostgres(run.pin);
    return {
      temporalAddress: temporal.address,
      stackOptions: { ...base, temporalAddress: temporal.address, databaseUrl, pin: run.pin, layoutEnv }, // prettier-ignore
    };
  }
  // `npm start` as a user runs it: no DATABASE_URL, no TEMPORAL_ADDRESS, nothing pinned.
  // Without a Gemini key `npm start` embeds with the local model: measure its CPU, not the
  // emulator's embeddings (the emulator still stands in for the planning model).
  const store: Record<string, string> = {
    EMBEDDER: 'local',
    ...(o.store === 'pglite' ? { STORE: 'pglite' } : {}),
  };
  return {
    temporalAddress: `127.0.0.1:${temporalPorts.port}`,
    stackOptions: { ...base, temporalAddress: undefined, databaseUrl: undefined, pin: false, layoutEnv: { ...store, ...layoutEnv } }, // prettier-ignore
  };
}

/** The API processes of a running product: Node cluster workers in its tree (or the root alone). */
export async function apiPids(stack: ProductChild): Promise<number[]> {
  const tree = await stack.tree.sample();
  const api = tree.filter((p) => p.role === 'api').map((p) => p.pid);
  return api.length > 0 ? api : [stack.pid];
}

/** Pins each API process to its own core (`taskset -pc <core> <pid>`), all its threads. */
export async function pinApiProcesses(
  stack: ProductChild,
): Promise<{ pid: number; core: number }[]> {
  return (await apiPids(stack)).map((pid, i) => {
    spawnSync('taskset', ['-apc', String(i), String(pid)], { stdio: 'ignore' });
    log(`pinned API process ${pid} to core ${i}`);
    return { pid, core: i };
  });
}

const mb = (kb: number) => Math.round(kb / 1024);

/** Peak RSS of the product's process tree in MB, in total and by kind of process. */
export function treeFigures(peak: TreePeak) {
  const byKind = Object.fromEntries(
    (Object.keys(peak.byKind) as ProcessKind[])
      .filter((k) => peak.byKind[k].peakKb > 0)
      .map((k) => [
        k,
        { atPeakMb: mb(peak.byKind[k].atPeakKb), peakMb: mb(peak.byKind[k].peakKb) },
      ]),
  );
  return { totalMb: mb(peak.totalKb), pssMb: mb(peak.totalPssKb), byKind, processes: peak.counts };
}

export type TreeFigures = ReturnType<typeof treeFigures>;

/** The layout in words: which processes, which cores, where the store runs. */
export function describeLayout(o: Options, pinned: boolean, seen: TreeFigures | undefined): string {
  const split = o.scaleOut
    ? ' (while seeding) as one Node process running the API and the workers, then in the scale-out runs below with 1 and 2 API processes'
    : o.processes > 0 || o.workers > 0
      ? ` split into processes (PROCESSES=api,worker): ${Math.max(1, o.processes)} API process(es) on one port (Node cluster) and ${Math.max(1, o.workers)} worker process(es), children of the product's main process`
      : ' as one Node process running the API and the workers';
  const counts = seen ? ` Processes seen in the product's tree at most${o.scaleOut ? ' while seeding' : ''}: ${JSON.stringify(seen.processes)}.` : ''; // prettier-ignore
  if (o.store === 'postgres') {
    return (
      `Layout \`--store postgres\` (the production layout): the product${split}, started with DATABASE_URL and TEMPORAL_ADDRESS, ` +
      `${pinned ? 'pinned to core 0' : 'not pinned (no taskset or one core)'}; the bench's own PostgreSQL 18 with pgvector (relational store, vectors and graph) and Temporal dev server` +
      `${pinned ? ' on core 1 with this load generator and its helper processes (the Gemini emulator, the tree sampler)' : ''}, outside the product's process tree.${counts}`
    );
  }
  const pgInTree = (seen?.processes.postgres ?? 0) > 0;
  const store =
    o.store === 'pglite'
      ? 'STORE=pglite: the store is PGlite inside the product process'
      : pgInTree
        ? "the store is the product's own PostgreSQL 18 under DATA_DIR (postgres processes in its tree)"
        : 'no postgres process appeared in its tree, so this product version kept the store in process (PGlite)';
  return (
    `Layout \`--store ${o.store}\` (what \`npm start\` runs${o.store === 'pglite' ? ' with STORE=pglite' : ''}): the product${split}, ` +
    `started with no DATABASE_URL and no TEMPORAL_ADDRESS, so it starts its own Temporal dev server (TEMPORAL_PORT and TEMPORAL_UI_PORT on free ports); ${store}. ` +
    `Embeddings: the local model (EMBEDDER=local, as without a Gemini key); ${o.model === 'none' ? 'no model (`--model none`: heuristic plans, local extraction and portraits, as `npm start` ships without a key)' : 'planning, entity extraction and portraits: the Gemini emulator'}. ` +
    `Nothing is pinned: the product's whole tree, this load generator and its helper processes (the emulator, the tree sampler) share all cores.${counts}`
  );
}
