/**
 * Whether one user's expensive requests slow another's (`npm run bench:isolation`),
 * on the product as `npm start` runs it (its own PostgreSQL 18 and Temporal dev
 * server, one process, unpinned):
 *
 * 1. a heavy user imports `memories` lines (the import benchmark's corpus) and the
 *    bench waits until they are indexed; a light user saves 50 memories;
 * 2. the heavy user's own search, 10 in a row, alone;
 * 3. the light user searches every 100 ms for 20 s, alone;
 * 4. the same for 30 s while the heavy user searches at `rate`/s, open loop (each
 *    request sent on time whether or not the last was answered), as a runaway
 *    client within the rate limit would.
 *
 * The product's per-user turns (`USER_CONCURRENCY`) are what keeps step 4 near step
 * 3; `--env USER_CONCURRENCY=10000` shows the product without them. Writes
 * `<out>/isolation-<timestamp>.{md,json}`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MemoryEngineClient } from '../client/src/index.ts';
import { cleanup, createUser, log as kitLog, prepareRun, sleep } from './bench-kit.ts';
import { fileChunks } from './import-bench.ts';
import { writeCorpus } from './import/corpus.ts';
import { startOwnStackProduct } from './kit/own-stack-product.ts';
import { machineInfo, reportBase, REPORTS_DIR, summarizeMs, writeReport } from './kit/report-files.ts'; // prettier-ignore

export interface IsolationBenchOptions {
  /** The heavy user's memories (default 200,000). */
  memories: number;
  /** The heavy user's searches a second (default 20, the default rate limit). */
  rate: number;
  outDir?: string;
  /** Passed to the product (e.g. `EMBEDDER=hashing` to index quickly). */
  env?: Record<string, string>;
  command?: string;
  log?: (message: string) => void;
}

const LIGHT_QUERIES = ['what does she like to cook', 'when did we go hiking', 'favourite book'];
const HEAVY_QUERIES = ['garden', 'weather today', 'the new recipe', 'a walk with friends'];

const clientOf = (url: string, key: string) =>
  new MemoryEngineClient({ baseUrl: url, apiKey: key, retry: { maxAttempts: 1 } });

/** The light user's searches, one every 100 ms after the last answer, for `seconds`. */
async function lightSearches(client: MemoryEngineClient, seconds: number) {
  const latencies: number[] = [];
  const failures: string[] = [];
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const started = performance.now();
    try {
      await client.search({ query: LIGHT_QUERIES[i % LIGHT_QUERIES.length]! });
      latencies.push(performance.now() - started);
    } catch (error) {
      failures.push(String((error as Error).message).slice(0, 200));
    }
    await sleep(100);
  }
  return { searches: summarizeMs(latencies), failed: failures.length, failures: failures.slice(0, 5) }; // prettier-ignore
}

/** The heavy user's searches at `rate`/s, open loop, for `seconds`: statuses and latencies. */
async function heavySearches(url: string, key: string, rate: number, seconds: number) {
  const answered: number[] = [];
  const statuses: Record<string, number> = {};
  const calls: Promise<void>[] = [];
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const query = `${HEAVY_QUERIES[i % HEAVY_QUERIES.length]} ${i}`;
    calls.push(
      (async () => {
        const started = performance.now();
        const res = await fetch(`${url}/v1/search`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query, limit: 50 }),
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.ok) answered.push(performance.now() - started);
      })().catch(() => {
        statuses.network = (statuses.network ?? 0) + 1;
      }),
    );
    await sleep(1000 / rate);
  }
  await Promise.all(calls);
  return { statuses, answered: summarizeMs(answered) };
}

export async function runIsolationBench(options: IsolationBenchOptions) {
  const log = options.log ?? kitLog;
  const startedAt = new Date();
  const base = reportBase('isolation', startedAt, path.resolve(options.outDir ?? REPORTS_DIR));
  const { runDir, dataDir, stackLog } = prepareRun('isolation-bench', { allowPin: false });
  try {
    const file = path.join(runDir, 'heavy.ndjson');
    await writeCorpus(file, options.memories);
    const env = { DATABASE_URL: '', ...options.env };
    const { product, adminKey } = await startOwnStackProduct({ dataDir, stackLog }, env, log);
    const [heavy, light] = [await createUser(product.url, adminKey), await createUser(product.url, adminKey)]; // prettier-ignore
    const heavyClient = clientOf(product.url, heavy.key);
    const lightClient = clientOf(product.url, light.key);
    for (let i = 0; i < 50; i++) {
      await lightClient.memories.save({ content: `Note ${i}: she likes to cook pasta and hike on weekends` }); // prettier-ignore
    }
    const importStarted = performance.now();
    let status = await heavyClient.importMemories(fileChunks(file));
    log(`heavy user: ${status.created} memories imported; indexing`);
    while (status.indexing.state !== 'done') {
      await sleep(2000);
      status = await heavyClient.imports.get(status.import_id);
    }
    const indexSeconds = (performance.now() - importStarted) / 1000;
    log(`indexed ${status.indexing.indexed} in ${indexSeconds.toFixed(0)} s`);
    await sleep(5000);

    const own: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      await heavyClient.search({ query: `${HEAVY_QUERIES[i % HEAVY_QUERIES.length]} ${i}`, limit: 50 }); // prettier-ignore
      own.push(performance.now() - started);
    }
    const alone = await lightSearches(lightClient, 20);
    log(`light user alone: p95 ${alone.searches.p95} ms`);
    const [heavyLoad, underLoad] = await Promise.all([
      heavySearches(product.url, heavy.key, options.rate, 30),
      lightSearches(lightClient, 30),
    ]);
    log(`light user beside the heavy one: p95 ${underLoad.searches.p95} ms, ${underLoad.failed} failed`); // prettier-ignore

    const report = {
      meta: {
        startedAt: startedAt.toISOString(),
        command: options.command ?? '',
        machine: machineInfo(),
        layout: 'npm start (embedded PostgreSQL 18 and Temporal dev server, one process, unpinned)',
        env,
        memories: options.memories,
        rate: options.rate,
      },
      heavy: { indexed: status.indexing.indexed, indexSeconds: Math.round(indexSeconds), ownSearch: summarizeMs(own), underLoad: heavyLoad }, // prettier-ignore
      light: { alone, underLoad },
    };
    writeReport(base, report, markdown(report));
    return { ...report, files: { json: `${base}.json`, markdown: `${base}.md` } };
  } finally {
    if (fs.existsSync(stackLog)) fs.copyFileSync(stackLog, `${base}.stack.log`);
    await cleanup();
  }
}

type Report = Omit<Awaited<ReturnType<typeof runIsolationBench>>, 'files'>;

function markdown(r: Report): string {
  const row = (
    name: string,
    s: { count: number; p50: number; p95: number; max: number },
    failed: string,
  ) =>
    // prettier-ignore
    `| ${name} | ${s.count} | ${s.p50} | ${s.p95} | ${s.max} | ${failed} |`;
  return [
    `# One user's load beside another's — ${r.meta.startedAt}`,
    '',
    `Command: \`${r.meta.command}\``,
    '',
    `Machine: ${r.meta.machine.cpus} × ${r.meta.machine.cpuModel}, ${r.meta.machine.memGb} GB, Node ${r.meta.machine.node}. ` +
      `Layout: ${r.meta.layout}. Product env: \`${JSON.stringify(r.meta.env)}\`.`,
    '',
    `The heavy user: ${r.heavy.indexed} memories indexed in ${r.heavy.indexSeconds} s; its own search alone ` +
      `p50 ${r.heavy.ownSearch.p50} ms, max ${r.heavy.ownSearch.max} ms (10 in a row). Then ${r.meta.rate} searches/s ` +
      `for 30 s, open loop: statuses ${JSON.stringify(r.heavy.underLoad.statuses)}, answered p50 ` +
      `${r.heavy.underLoad.answered.p50} ms, p95 ${r.heavy.underLoad.answered.p95} ms.`,
    '',
    'The light user (50 memories), one search every 100 ms after the last answer, ms:',
    '',
    '| phase | searches | p50 | p95 | max | failed |',
    '|---|---|---|---|---|---|',
    row('alone (20 s)', r.light.alone.searches, String(r.light.alone.failed)),
    row(
      'beside the heavy user (30 s)',
      r.light.underLoad.searches,
      String(r.light.underLoad.failed),
    ),
    '',
  ].join('\n');
}
