import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConsolidator } from '../../core/consolidation/consolidator.ts';
import { requeueStaleIndexing } from '../../core/indexing/requeue.ts';
import type { RetrievalFilter } from '../../core/ports/retrieval-filter.ts';
import { createTemporalIndexingQueue } from '../../infra/temporal/temporal-indexing-queue.ts';
import { consolidationWorkflow } from '../../workflows/index.ts';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

type User = Awaited<ReturnType<typeof createUser>>;

const LISBON = 'I moved to Lisbon in 2021 and love the tram rides';

/** Every layout the run has: pgvector in PGlite and in PostgreSQL, Qdrant when one is given. */
const layouts: [string, 'pglite' | 'postgres', Record<string, string>][] = [
  ['pgvector on PGlite', 'pglite', {}],
  ['pgvector on PostgreSQL', 'postgres', {}],
  ...(process.env.QDRANT_URL
    ? [
        [
          'Qdrant',
          'postgres',
          {
            QDRANT_URL: process.env.QDRANT_URL,
            ...(process.env.QDRANT_API_KEY ? { QDRANT_API_KEY: process.env.QDRANT_API_KEY } : {}),
            QDRANT_COLLECTION: `consolidation_payload_${Date.now()}`,
          },
        ] as [string, 'postgres', Record<string, string>],
      ]
    : []),
];

/**
 * What consolidation and edits change in a memory's filterable fields (state,
 * tags, metadata) reaches its vector payload: a vector search filtered on the
 * new values finds exactly the memories that have them, on every vector index.
 */
for (const [name, kind, env] of layouts) {
  describe(`vector payloads after consolidation and edits (${name})`, () => {
    let engine: TestEngine;
    let api: TestApi;
    let user: User;

    before(async () => {
      engine = await createTestEngine(kind, { EMBEDDER: 'hashing', ...env });
      api = await startTestApi(engine);
      user = await createUser(api.url);
    });
    after(async () => {
      await api?.stop();
      await engine?.close();
    });

    const save = async (memories: object[]) => {
      const res = await call(api.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: { memories },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.ids as string[];
    };
    const allIndexed = () =>
      eventually('every memory indexed', async () => {
        const { items } = await engine.store.listMemories(user.user_id, { limit: 200 });
        return items.every((m) => m.indexState === 'indexed');
      });
    /** The ids the serving vector index finds under `filter`, sorted: the payload alone decides. */
    const vectorIds = async (filter: RetrievalFilter) => {
      const space = engine.spaces.serving()!;
      const [vector] = await space.embedder.embed(['moved to Lisbon, coffee, notes']);
      const hits = await space.index.search({
        userId: user.user_id,
        vector: vector!,
        limit: 50,
        filter,
      });
      return hits.map((h) => h.id).sort();
    };
    const sorted = (...ids: string[]) => [...ids].sort();

    it('a filtered vector search finds each memory by the state, tags and metadata consolidation gave it', async () => {
      // One by one, so the first duplicate is the oldest and survives.
      const [original] = await save([{ content: LISBON, tags: ['home'] }]);
      await sleep(5);
      const [duplicate] = await save([
        { content: 'I moved to Lisbon in 2021, and love the tram rides!', tags: ['travel'] },
      ]);
      const [outdated, oldCoffee, newCoffee, kept] = (await save([
        { content: 'Dentist appointment on Friday at 10', metadata: { expires_at: '2020-01-01' } },
        { content: 'Favourite coffee is a flat white', tags: ['key:coffee'] },
        { content: 'Favourite coffee is now a cortado', tags: ['key:coffee'] },
        { content: 'Notes from the piano lesson', metadata: { topic: 'music' } },
      ])) as [string, string, string, string];
      await allIndexed();
      assert.deepEqual(await vectorIds({ state: 'archived' }), [], 'nothing archived yet');

      const result = await api.client.workflow.execute(consolidationWorkflow, {
        taskQueue: api.taskQueue,
        workflowId: `consolidation-payload-${randomUUID()}`,
        args: [{ threshold: 0.95 }],
      });
      assert.equal(result.merged + result.expired + result.superseded, 3);
      await allIndexed();

      assert.deepEqual(
        await vectorIds({ state: 'archived' }),
        sorted(duplicate!, outdated, oldCoffee),
      );
      assert.deepEqual(
        await vectorIds({ state: 'active' }),
        sorted(original!, newCoffee, kept),
        'archived memories leave the active payload',
      );
      assert.deepEqual(
        await vectorIds({ state: 'archived', metadata: { retired_reason: ['duplicate'] } }),
        [duplicate],
      );
      assert.deepEqual(
        await vectorIds({
          state: 'archived',
          metadata: { retired_reason: ['expired', 'superseded'] },
        }),
        sorted(outdated, oldCoffee),
      );
      assert.deepEqual(
        await vectorIds({ metadata: { superseded_by: [newCoffee] }, state: 'archived' }),
        [oldCoffee],
      );
      assert.deepEqual(
        await vectorIds({ tagsAll: ['home', 'travel'] }),
        [original],
        'the survivor carries the merged tags',
      );
    });

    // The reconciler hands out every stale memory of its database: only the PGlite one is this
    // file's own (the PostgreSQL database is shared with the run's other test files).
    if (kind === 'pglite')
      it('a run whose indexing request was lost after its commit is finished by the reconciler', async () => {
        const [kept] = await save([
          { content: 'Plays the cello on Sundays at the community hall' },
        ]);
        await sleep(5);
        const [copy] = await save([
          { content: 'Plays the cello, on Sundays, at the community hall!' },
        ]);
        await allIndexed();
        // No indexing queue: as a worker that died between the commit and the request.
        const lost = await createConsolidator(engine).consolidateUser({
          userId: user.user_id,
          threshold: 0.95,
          now: new Date(),
        });
        assert.equal(lost.merged, 1);
        const archived = await engine.store.getMemory(user.user_id, copy!);
        assert.deepEqual([archived?.state, archived?.indexState], ['archived', 'pending']);

        const indexingQueue = createTemporalIndexingQueue(api.client, api.taskQueue);
        await eventually('the reconciler indexed what the run left pending', async () => {
          await requeueStaleIndexing({ store: engine.store, indexingQueue }, { olderThanMs: 0, limit: 100 }); // prettier-ignore
          const { items } = await engine.store.listMemories(user.user_id, { limit: 200 });
          return items.every((m) => m.indexState === 'indexed');
        });
        assert.ok((await vectorIds({ state: 'archived' })).includes(copy!));
        assert.ok((await vectorIds({ state: 'active' })).includes(kept!));
        assert.ok(!(await vectorIds({ state: 'active' })).includes(copy!));
      });

    it('an edit of state, tags or metadata reaches the payload too', async () => {
      const [note] = await save([{ content: 'Parking spot is on level 3', tags: ['car'] }]);
      await allIndexed();
      const patched = await call(api.url, 'PATCH', `/v1/memories/${note}`, {
        key: user.api_key,
        body: { state: 'archived', tags: ['car', 'old'], metadata: { place: 'garage' } },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await allIndexed();
      assert.ok((await vectorIds({ state: 'archived' })).includes(note!));
      assert.deepEqual(
        await vectorIds({ state: 'archived', tagsAll: ['old'], metadata: { place: ['garage'] } }),
        [note],
      );
      assert.ok(!(await vectorIds({ state: 'active' })).includes(note!));
    });
  });
}
