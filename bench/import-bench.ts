/**
 * Import and export benchmark (issue #17's targets), through the product's public API.
 *
 * Starts the product as `npm start` runs it (its own PostgreSQL 18 and Temporal dev server
 * under a fresh DATA_DIR, one process for the API and workers, nothing pinned), writes an
 * NDJSON file of N memories, and through the typed client:
 *
 * 1. imports it for one user as one streamed request: acknowledged lines/s (lines read over
 *    the time until the answer, every line then committed);
 * 2. follows the import's indexing run (`GET /v1/imports/:id`) until done: indexed
 *    memories/s from the start of the upload (end to end);
 * 3. samples the product process's RSS all along: its growth over the baseline taken just
 *    before the import (after a warm-up that loaded the model);
 * 4. meanwhile another user searches every 250 ms and saves every 2 s: their latencies;
 * 5. exports the user (streamed to a file): lines/s, and the count checked;
 * 6. imports the same file again (nothing created) and the export into a fresh user.
 *
 * Writes `<out>/import-<timestamp>.{md,json}`.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { MemoryEngineClient, type ImportResult } from '../client/src/index.ts';
import {
  cleanup,
  createUser,
  log as kitLog,
  machineInfo,
  prepareRun,
  reportBase,
  REPORTS_DIR,
  roundTo,
  sleep,
  summarizeMs,
  writeReport,
  type ProductChild,
} from './bench-kit.ts';
import { startBystander } from './import/bystander.ts';
import { startOwnStackProduct } from './kit/own-stack-product.ts';
import { writeCorpus } from './import/corpus.ts';
import { startMemorySampler } from './import/memory-sampler.ts';
import { importMarkdown, type ImportReport } from './import/report.ts';

export interface ImportBenchOptions {
  memories: number;
  outDir?: string;
  /** Passed to the product (e.g. to choose the embedder). */
  env?: Record<string, string>;
  command?: string;
  log?: (message: string) => void;
}

const streamingClient = (url: string, apiKey: string) =>
  new MemoryEngineClient({ baseUrl: url, apiKey, retry: { maxAttempts: 1 } });

export async function* fileChunks(file: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 18 }))
    yield chunk as Buffer;
}

/** Loads the model and warms the paths, so the baseline RSS is the product at work. */
async function warmUp(url: string, adminKey: string) {
  const user = await createUser(url, adminKey);
  const client = streamingClient(url, user.key);
  const saved = await client.memories.save({ content: 'A warm-up note about the garden' });
  while ((await client.memories.get(saved.id)).index_state === 'pending') await sleep(200);
  await client.search({ query: 'garden' });
  await client.importMemories('{"content":"a warm-up import line"}\n');
}

async function rssKb(product: ProductChild): Promise<number> {
  const sample = await product.tree.sample();
  return sample.find((p) => p.pid === product.pid)?.rssKb ?? 0;
}

/** Follows the import until its indexing is done, logging progress every 10 s. */
async function waitIndexed(
  client: MemoryEngineClient,
  first: ImportResult,
  log: (m: string) => void,
) {
  let status = first;
  let lastLog = 0;
  while (status.indexing.state !== 'done') {
    await sleep(1000);
    status = await client.imports.get(first.import_id);
    if (Date.now() - lastLog > 10_000) {
      log(
        `indexing: ${status.indexing.indexed}/${status.created} (${status.indexing.failed} failed)`,
      );
      lastLog = Date.now();
    }
  }
  return status;
}

async function measureImport(
  product: ProductChild,
  adminKey: string,
  file: string,
  log: (m: string) => void,
) {
  const user = await createUser(product.url, adminKey);
  const bystanderUser = await createUser(product.url, adminKey);
  const client = streamingClient(product.url, user.key);
  const baselineKb = await rssKb(product);
  await product.tree.resetPeak();
  const sampler = startMemorySampler(product.url);
  const bystander = startBystander(streamingClient(product.url, bystanderUser.key));
  const started = performance.now();
  const acked = await client.importMemories(fileChunks(file));
  const ackSeconds = (performance.now() - started) / 1000;
  log(`acknowledged ${acked.read} lines in ${ackSeconds.toFixed(1)} s: ${acked.created} created`);
  const indexed = await waitIndexed(client, acked, log);
  const indexSeconds = (performance.now() - started) / 1000;
  const others = await bystander.stop();
  const peak = await product.peak();
  const heap = await sampler.stop();
  return { user, client, acked, indexed, ackSeconds, indexSeconds, baselineKb, peak, heap, others };
}

async function measureExport(client: MemoryEngineClient, file: string) {
  const started = performance.now();
  const out = fs.createWriteStream(file);
  let lines = 0;
  for await (const chunk of client.exportNdjson()) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return { lines, seconds: (performance.now() - started) / 1000 };
}

/** Runs the benchmark end to end and writes its report. */
export async function runImportBench(
  options: ImportBenchOptions,
): Promise<ImportReport & { files: { json: string; markdown: string } }> {
  const log = options.log ?? kitLog;
  const startedAt = new Date();
  const base = reportBase('import', startedAt, path.resolve(options.outDir ?? REPORTS_DIR));
  const { runDir, dataDir, stackLog } = prepareRun('import-bench', { allowPin: false });
  try {
    const file = path.join(runDir, 'import.ndjson');
    const bytes = await writeCorpus(file, options.memories);
    log(`wrote ${options.memories} lines (${(bytes / 2 ** 20).toFixed(1)} MB)`);
    const { product, adminKey } = await startOwnStackProduct(
      { dataDir, stackLog },
      {
        DATABASE_URL: '',
        ...options.env,
      },
      log,
    );
    await warmUp(product.url, adminKey);
    const run = await measureImport(product, adminKey, file, log);
    const exportFile = path.join(runDir, 'export.ndjson');
    const exported = await measureExport(run.client, exportFile);
    log(`exported ${exported.lines} lines in ${exported.seconds.toFixed(1)} s`);
    const rerunStarted = performance.now();
    const rerun = await run.client.importMemories(fileChunks(file));
    const rerunSeconds = (performance.now() - rerunStarted) / 1000;
    const fresh = await createUser(product.url, adminKey);
    const copyStarted = performance.now();
    const copied = await streamingClient(product.url, fresh.key).importMemories(
      fileChunks(exportFile),
    );
    const copySeconds = (performance.now() - copyStarted) / 1000;

    const report: ImportReport = {
      meta: {
        startedAt: startedAt.toISOString(),
        command: options.command ?? '',
        machine: machineInfo(),
        layout:
          'npm start (embedded PostgreSQL 18 and Temporal dev server, one process with a ' +
          '1,024 MB heap limit, unpinned)',
        memories: options.memories,
        fileMb: roundTo(bytes / 2 ** 20),
      },
      import: {
        read: run.acked.read,
        created: run.acked.created,
        refused: run.acked.refused,
        ackSeconds: roundTo(run.ackSeconds),
        ackedPerSecond: Math.round(run.acked.read / run.ackSeconds),
        indexed: run.indexed.indexing.indexed,
        indexFailed: run.indexed.indexing.failed,
        indexSeconds: roundTo(run.indexSeconds),
        indexedPerSecond: Math.round(run.indexed.indexing.indexed / run.indexSeconds),
        workflowId: run.indexed.indexing.workflow_id,
      },
      memory: {
        baselineRssMb: roundTo(run.baselineKb / 1024),
        peakRssMb: roundTo(run.peak.rssKb / 1024),
        growthMb: roundTo((run.peak.rssKb - run.baselineKb) / 1024),
        treePeakRssMb: roundTo(run.peak.tree.totalKb / 1024),
        process: run.heap,
      },
      export: {
        lines: exported.lines,
        seconds: roundTo(exported.seconds),
        linesPerSecond: Math.round(exported.lines / exported.seconds),
      },
      rerun: {
        created: rerun.created,
        duplicates: rerun.duplicates,
        seconds: roundTo(rerunSeconds),
      },
      roundTrip: {
        created: copied.created,
        refused: copied.refused,
        seconds: roundTo(copySeconds),
      },
      bystander: {
        searches: summarizeMs(run.others.searchesMs),
        saveToIndexed: summarizeMs(run.others.saveToIndexedMs),
        failures: run.others.failures.slice(0, 10),
      },
    };
    const markdown = importMarkdown(report);
    writeReport(base, report, markdown);
    return { ...report, files: { json: `${base}.json`, markdown: `${base}.md` } };
  } finally {
    if (fs.existsSync(stackLog)) fs.copyFileSync(stackLog, `${base}.stack.log`);
    await cleanup();
  }
}
