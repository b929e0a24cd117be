import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTemporalIndexingQueue } from '../../infra/temporal/temporal-indexing-queue.ts';
import { ADMIN_KEY, call, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';

/**
 * A batch save is indexed by the user's one indexing run, in batches (one
 * embedding call and one upsert per 32 memories) on the real dev server and
 * worker, each memory exactly once; a forced request repairs a vector a
 * slower pass overwrote.
 */
describe('batched indexing over PostgreSQL 18 with pgvector', () => {
  let engine: TestEngine;
  let api: TestApi;
  let db: pg.Client;
  let user: { user_id: string; api_key: string };

  before(async () => {
    engine = await createTestEngine('postgres');
    api = await startTestApi(engine);
    db = new pg.Client({ connectionString: requireTestEnv('TEST_PGVECTOR_URL') });
    await db.connect();
    user = (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
  });
  after(async () => {
    await db.end();
    await api.stop();
    await engine.close();
  });

  const indexCounts = async () =>
    (
      await db.query<{ id: string; index_state: string; index_count: number }>(
        'SELECT id, index_state, index_count FROM memories WHERE user_id = $1',
        [user.user_id],
      )
    ).rows;

  it("indexes a batch save in one run (the user's shard's), each memory exactly once", async () => {
    const contents = Array.from({ length: 40 }, (_, i) => `Batch note ${i} about topic ${i * 7}`);
    const saved = await call(api.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { memories: contents.map((content) => ({ content, tags: ['batch'] })) },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await eventually('all 40 indexed', async () =>
      (await indexCounts()).every((r) => r.index_state === 'indexed'),
    );
    const rows = await indexCounts();
    assert.equal(rows.length, 40);
    for (const row of rows) assert.equal(row.index_count, 1, `memory ${row.id}`);

    const runs = [];
    for await (const run of api.client.workflow.list({
      query: `TaskQueue = '${api.taskQueue}'`,
    })) {
      runs.push(run.type);
    }
    assert.deepEqual(runs, ['indexShardWorkflow'], "the user's shard's run, no per-memory runs");
    assert.equal(await engine.vectors.count(user.user_id), 40);
  });

  it('re-embeds on a forced request even when the memory is marked indexed', async () => {
    const saved = await call(api.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { content: 'The harbour at dawn smells of salt and diesel' },
    });
    const id = saved.body.id as string;
    await eventually('indexed', async () =>
      (await indexCounts()).some((r) => r.id === id && r.index_state === 'indexed'),
    );
    const [right] = await engine.embedder.embed(['The harbour at dawn smells of salt and diesel']);
    const [wrong] = await engine.embedder.embed(['Quarterly tax forms and receipts']);
    // What a slower batch pass with an older revision would leave behind.
    await engine.vectors.upsert([{ id, userId: user.user_id, vector: wrong!, tags: [] }]);
    const nearest = async (vector: number[]) =>
      (await engine.vectors.search({ userId: user.user_id, vector, limit: 1 }))[0];
    assert.ok((await nearest(wrong!))!.score > 0.999);

    const queue = createTemporalIndexingQueue(api.client, api.taskQueue);
    await queue.request([{ userId: user.user_id, memoryId: id }], { force: true });
    await eventually('the vector matches the content again', async () => {
      const hit = await nearest(right!);
      return hit?.id === id && hit.score > 0.999;
    });
    const row = (await indexCounts()).find((r) => r.id === id)!;
    assert.equal(row.index_count, 1, 'recorded once');
  });
});
