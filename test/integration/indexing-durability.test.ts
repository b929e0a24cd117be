import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AppError } from '../../core/errors.ts';
import type { VectorIndex } from '../../core/ports/vector-index.ts';
import { singleSpace } from '../../core/ports/vector-space.ts';
import { startGeminiEmulator, type GeminiEmulator } from '../../tools/gemini-emulator/emulator.ts';
import { exitOf } from '../support/child-process.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { startWorkerProcess, workerProcessEnv } from '../support/worker-process.ts';
import { requireTestEnv } from '../support/test-env.ts';

// Distinct vocabulary per memory, so each is the best match for its own words.
const WORDS = (
  'amber basil cedar dune ember fjord garnet harbor indigo juniper kelp lagoon maple nectar ' +
  'onyx pepper quartz raven saffron tundra umber violet willow xenon yarrow zephyr'
).split(' ');
const contentFor = (i: number) =>
  `Durable note ${i}: ${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]} ` +
  `${WORDS[(i * 11 + 5) % WORDS.length]} number ${i * 37 + 11}`;

describe('durable indexing when the worker process is killed during 50 parallel saves', () => {
  let engine: TestEngine;
  let api: TestApi;
  let dataDir: TempDir;
  const taskQueue = `test-durable-${randomUUID()}`;
  let workerEnv: Record<string, string>;

  before(async () => {
    engine = await createTestEngine('postgres');
    api = await startTestApi(engine, { worker: false, taskQueue });
    dataDir = await createTempDir('worker-');
    workerEnv = workerProcessEnv(taskQueue, dataDir.path);
  });
  after(async () => {
    await api.stop();
    await engine.close();
    await dataDir.remove();
  });

  it('indexes every acknowledged memory exactly once and finds each by its own words', async () => {
    const user = await createUser(api.url);
    let worker = await startWorkerProcess(workerEnv);
    let acknowledged = 0;
    const saves = Array.from({ length: 50 }, (_, i) =>
      call(api.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: { content: contentFor(i) },
      }).then((res) => {
        acknowledged++;
        // Kill the worker while the saves are still arriving and indexing is under way.
        if (acknowledged === 10) worker.kill('SIGKILL');
        return res;
      }),
    );
    const results = await Promise.all(saves);
    await exitOf(worker);
    assert.ok(results.every((r) => r.status === 201));
    const ids = results.map((r) => r.body.id as string);

    worker = await startWorkerProcess(workerEnv);
    try {
      const db = new pg.Client({ connectionString: requireTestEnv('TEST_PGVECTOR_URL') });
      await db.connect();
      try {
        await eventually('all 50 memories indexed after the worker restarted', async () => {
          const { rows } = await db.query(
            `SELECT count(*)::int AS n FROM memories WHERE user_id = $1 AND index_state = 'indexed'`,
            [user.user_id],
          );
          return rows[0].n === 50;
        });
        const { rows } = await db.query('SELECT id, index_count FROM memories WHERE user_id = $1', [
          user.user_id,
        ]);
        assert.equal(rows.length, 50);
        for (const row of rows)
          assert.equal(row.index_count, 1, `memory ${row.id} indexed ${row.index_count} times`);
      } finally {
        await db.end();
      }
      for (const [i, id] of ids.entries()) {
        const found = await call(api.url, 'POST', '/v1/search', {
          key: user.api_key,
          body: { query: contentFor(i), limit: 3 },
        });
        assert.equal(found.body.results[0]?.id, id, `memory ${i} is its own best match`);
      }
      assert.equal(await engine.vectors.count(user.user_id), 50);
    } finally {
      worker.kill('SIGTERM');
      await exitOf(worker);
    }
  });
});

/** The real index, made to fail like an unreachable server while `down` is set. */
function withOutage(inner: VectorIndex) {
  const state = { down: false, failures: 0 };
  const guard = <T>(work: () => Promise<T>) => {
    if (!state.down) return work();
    state.failures++;
    return Promise.reject(new AppError('dependency_unavailable', 'vector index unreachable'));
  };
  const index: VectorIndex = {
    kind: inner.kind,
    dimension: inner.dimension,
    upsert: (records) => guard(() => inner.upsert(records)),
    delete: (userId, ids) => guard(() => inner.delete(userId, ids)),
    search: (query) => guard(() => inner.search(query)),
    searchBatch: (queries) => guard(() => inner.searchBatch(queries)),
    listIds: (userId, options) => guard(() => inner.listIds(userId, options)),
    getVectors: (userId, ids) => guard(() => inner.getVectors(userId, ids)),
    count: (userId) => guard(() => inner.count(userId)),
    ping: () => guard(() => inner.ping()),
    close: () => inner.close(),
  };
  return { index, state };
}

describe('indexing while a dependency is down for a while', () => {
  let emulator: GeminiEmulator;
  let engine: TestEngine;
  let api: TestApi;
  let outage: ReturnType<typeof withOutage>;
  let user: { api_key: string };

  before(async () => {
    emulator = await startGeminiEmulator({ port: 0 });
    engine = await createTestEngine('pglite', {
      GEMINI_BASE_URL: emulator.url,
      GEMINI_EMBEDDING_DIMENSION: '64',
    });
    outage = withOutage(engine.vectors);
    api = await startTestApi(engine, {
      deps: { spaces: singleSpace(engine.embedder, outage.index) },
    });
    user = await createUser(api.url);
  });
  after(async () => {
    await api.stop();
    await engine.close();
    await emulator.close();
  });

  const stateOf = async (id: string) =>
    (await call(api.url, 'GET', `/v1/memories/${id}`, { key: user.api_key })).body.index_state;

  it('keeps a memory pending while the embedding model fails, and indexes it once the model is back', async () => {
    emulator.configure({ methods: { batchEmbedContents: { failures: { serverError: 1 } } } });
    const saved = await call(api.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { content: 'Saved while the model was failing' },
    });
    assert.equal(saved.status, 201);
    await eventually(
      'the model was tried and failed',
      async () => emulator.stats().batchEmbedContents.serverErrors >= 2,
    );
    assert.equal(await stateOf(saved.body.id), 'pending');
    emulator.configure({ methods: { batchEmbedContents: { failures: null } } });
    await eventually(
      'indexed after the model recovered',
      async () => (await stateOf(saved.body.id)) === 'indexed',
    );
  });

  it('keeps a memory pending while the vector index is down, and indexes it once it is back', async () => {
    outage.state.down = true;
    const saved = await call(api.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { content: 'Saved while the vector index was down' },
    });
    assert.equal(saved.status, 201);
    await eventually('the index was tried and failed', async () => outage.state.failures >= 2);
    assert.equal(await stateOf(saved.body.id), 'pending');
    outage.state.down = false;
    await eventually(
      'indexed after the index recovered',
      async () => (await stateOf(saved.body.id)) === 'indexed',
    );
    const found = await call(api.url, 'POST', '/v1/search', {
      key: user.api_key,
      body: { query: 'Saved while the vector index was down' },
    });
    assert.equal(found.body.results[0]?.id, saved.body.id);
  });
});
