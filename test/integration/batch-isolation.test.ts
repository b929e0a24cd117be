import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VectorIndex, VectorQuery } from '../../core/ports/vector-index.ts';
import { singleSpace } from '../../core/ports/vector-space.ts';
import {
  call,
  createUser,
  eventually,
  saveIndexed,
  startTestApi,
  type TestApi,
} from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/**
 * The real index, with one user's queries spoiled on their way in (a vector
 * one number short): the real adapter refuses such a query, and with it the
 * whole batch statement it is part of. Records which users each batch held.
 */
function poisoning(inner: VectorIndex, poisoned: () => string) {
  const batches: string[][] = [];
  const spoil = (q: VectorQuery): VectorQuery =>
    q.userId === poisoned() ? { ...q, vector: q.vector.slice(1) } : q;
  const index: VectorIndex = {
    ...inner,
    kind: inner.kind,
    dimension: inner.dimension,
    search: (q) => inner.search(spoil(q)),
    searchBatch: (qs) => {
      batches.push(qs.map((q) => q.userId));
      return inner.searchBatch(qs.map(spoil));
    },
  };
  return { index, batches };
}

describe('one user whose vector queries the store refuses, searching beside another', () => {
  let engine: TestEngine;
  let api: TestApi;
  let poison: ReturnType<typeof poisoning>;
  let alice: { user_id: string; api_key: string };
  let mallory: { user_id: string; api_key: string };
  let aliceMemory: string;
  let poisonedUser = '';
  const search = (who: { api_key: string }, query: string) =>
    call(api.url, 'POST', '/v1/search', { key: who.api_key, body: { query } });

  before(async () => {
    // A wide window and room for a whole round, so the two users' concurrent queries share
    // batches: at the product's 10 a batch, Alice's 10 queries (their vectors cached after the
    // first round) filled one batch by themselves and were sent before Mallory's arrived.
    engine = await createTestEngine('pglite', {
      VECTOR_BATCH_WINDOW_MS: '50',
      VECTOR_BATCH_MAX: '64',
    });
    poison = poisoning(engine.vectors, () => poisonedUser);
    api = await startTestApi(engine, {
      deps: { spaces: singleSpace(engine.embedder, poison.index) },
      // Rounds of 10 searches per user repeat until the window mixes them: not a limit test.
      rateLimit: { enabled: false },
    });
    alice = await createUser(api.url);
    mallory = await createUser(api.url);
    poisonedUser = mallory.user_id;
    aliceMemory = await saveIndexed(
      api.url,
      alice.api_key,
      'Alice keeps bees on the roof of the old bakery',
    );
    await saveIndexed(api.url, mallory.api_key, 'Mallory collects rare stamps from Iceland');
  });
  after(async () => {
    await api.stop();
    await engine.close();
  });

  it("answers every one of Alice's searches from the vector index while Mallory's fail in the same batches", async () => {
    const mixed = () =>
      poison.batches.some((b) => b.includes(alice.user_id) && b.includes(mallory.user_id));
    // Rounds until a batch really held both users (the window decides that, not the test).
    await eventually('a batch holding both users', async () => {
      // Interleaved, so neither user's queries reach the batcher all before the other's.
      const rounds = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          Promise.all([
            search(alice, `bees bakery roof ${i}`),
            search(mallory, `stamps Iceland ${i}`),
          ]),
        ),
      );
      const forAlice = rounds.map(([a]) => a);
      const forMallory = rounds.map(([, m]) => m);
      for (const res of forAlice) {
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.results[0]?.id, aliceMemory);
        assert.ok(res.body.results[0].sources.includes('vector'), 'found by the vector index');
      }
      // Mallory's searches lose the vector retriever only: still answered, from the others.
      for (const res of forMallory) assert.equal(res.status, 200, JSON.stringify(res.body));
      return mixed();
    });
  });

  it("answers Mallory's search from the other retrievers and names the vector one as degraded", async () => {
    const result = await api.engine.search.searchWithStatus(mallory.user_id, {
      query: 'rare stamps from Iceland',
      limit: 5,
    });
    assert.deepEqual(result.degraded, ['vector']);
    assert.match(result.hits[0]?.memory.content ?? '', /rare stamps from Iceland/);
    assert.ok(result.hits.every((h) => !h.sources.includes('vector')));

    const forAlice = await api.engine.search.searchWithStatus(alice.user_id, {
      query: 'bees on the roof',
      limit: 5,
    });
    assert.deepEqual(forAlice.degraded, []);
    assert.equal(forAlice.hits[0]?.memory.id, aliceMemory);
  });
});
