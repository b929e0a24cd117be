import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityExtractor } from '../../core/extraction/entity-extractor.ts';
import type { Embedder } from '../../core/ports/embedder.ts';
import { singleSpace } from '../../core/ports/vector-space.ts';
import { indexRunOfUser } from '../../infra/temporal/temporal-indexing-queue.ts';
import type { IndexShardResult } from '../../workflows/index.ts';
import { call, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';

const HELD = 'HOLD: Maria Silva works at Acme Corp in Lisbon';
const OTHERS = ['Jonas planned a trip to Berlin in May', 'Claire likes the bakeries of Paris'];

/** Holds every call whose texts include `HELD` until `release()`; `entered` resolves at the first. */
function gate() {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const hold = async (texts: readonly string[]) => {
    if (!texts.includes(HELD)) return;
    enter();
    await released;
  };
  return { entered, release, hold };
}

function gatedEmbedder(inner: Embedder, hold: (texts: readonly string[]) => Promise<void>) {
  const embedder: Embedder = {
    id: inner.id,
    dimension: inner.dimension,
    async embed(texts) {
      await hold(texts);
      return inner.embed(texts);
    },
  };
  return embedder;
}

function gatedExtractor(
  inner: EntityExtractor,
  hold: (texts: readonly string[]) => Promise<void>,
): EntityExtractor {
  return {
    async extract(content) {
      await hold([content]);
      return inner.extract(content);
    },
    async extractMany(contents) {
      await hold(contents);
      return inner.extractMany(contents);
    },
  };
}

const setups = [
  { name: 'PGlite: pgvector and the SQL graph', kind: 'pglite' as const, env: () => ({}) },
  {
    name: 'PostgreSQL 18 with pgvector and Neo4j',
    kind: 'postgres' as const,
    env: () => ({
      NEO4J_URL: requireTestEnv('TEST_NEO4J_URL'),
      NEO4J_USER: process.env.TEST_NEO4J_USER ?? 'neo4j',
      NEO4J_PASSWORD: process.env.TEST_NEO4J_PASSWORD ?? 'neo4j',
    }),
  },
];

for (const setup of setups) {
  describe(`a delete racing a user's indexing run leaves nothing behind (${setup.name})`, () => {
    let engine: TestEngine;

    before(async () => {
      engine = await createTestEngine(setup.kind, setup.env());
    });
    after(async () => {
      await engine.close();
    });

    /**
     * Saves the held memory and two others in one batch, deletes the held one
     * while `stage` of the user's indexing run is held (the delete's own
     * request joins the run's pending memories), then lets the run go on;
     * returns what the run reported.
     */
    async function race(api: TestApi, held: ReturnType<typeof gate>) {
      const user = await createUser(api.url);
      const saved = await call(api.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: { memories: [HELD, ...OTHERS].map((content) => ({ content })) },
      });
      assert.equal(saved.status, 201, JSON.stringify(saved.body));
      const ids = saved.body.ids as string[];
      const heldId = ids[0]!;
      await held.entered;
      const deleted = await call(api.url, 'DELETE', `/v1/memories/${heldId}`, {
        key: user.api_key,
      });
      assert.equal(deleted.status, 204);
      held.release();
      const result: IndexShardResult = await api.client.workflow
        .getHandle(indexRunOfUser(user.user_id, api.taskQueue))
        .result();
      for (const id of ids.slice(1)) {
        const res = await call(api.url, 'GET', `/v1/memories/${id}`, { key: user.api_key });
        assert.equal(res.body.index_state, 'indexed', `memory ${id}`);
      }
      return { userId: user.user_id, heldId, others: ids.slice(1), result };
    }

    it('removes the vector a batch wrote for a memory deleted while it was embedded', async () => {
      const held = gate();
      const api = await startTestApi(engine, {
        deps: { spaces: singleSpace(gatedEmbedder(engine.embedder, held.hold), engine.vectors) },
      });
      try {
        const { userId, heldId, others, result } = await race(api, held);
        // Found gone after the batch wrote it, then once more for the delete's own request.
        assert.ok(result.deleted >= 1, JSON.stringify(result));
        assert.equal(result.indexed, others.length, JSON.stringify(result));
        assert.deepEqual(await engine.vectors.getVectors(userId, [heldId]), new Map());
        assert.equal(await engine.vectors.count(userId), others.length);
        assert.deepEqual(await engine.graph.entitiesOf(userId, heldId), []);
      } finally {
        await api.stop();
      }
    });

    it('removes the graph a batch wrote for a memory deleted while it was extracted', async () => {
      const held = gate();
      const api = await startTestApi(engine, {
        deps: { extractor: gatedExtractor(engine.extractor, held.hold) },
      });
      try {
        const { userId, heldId, others } = await race(api, held);
        assert.deepEqual(await engine.graph.entitiesOf(userId, heldId), []);
        const hits = await engine.graph.findMemories(userId, ['Maria Silva', 'Acme Corp'], {
          limit: 10,
        });
        assert.deepEqual(hits, [], 'no mention of the deleted memory is left');
        assert.deepEqual(await engine.vectors.getVectors(userId, [heldId]), new Map());
        assert.equal(await engine.vectors.count(userId), others.length);
      } finally {
        await api.stop();
      }
    });
  });
}
