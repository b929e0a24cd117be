import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBatchingEmbedder } from '../../core/batching/batching-embedder.ts';
import { createMicroBatcher } from '../../core/batching/micro-batcher.ts';
import { AppError } from '../../core/errors.ts';
import type { Embedder } from '../../core/ports/embedder.ts';
import type { TextHit, TextQuery } from '../../core/ports/relational-store.ts';
import type { VectorHit, VectorIndex, VectorQuery } from '../../core/ports/vector-index.ts';
import {
  createTextSearcher,
  createVectorSearcher,
  queryKey,
  vectorDigest,
} from '../../core/retrieval/batched-search.ts';

const BATCHING = { enabled: true, windowMs: 5, maxBatch: 100 };
const ALICE = '00000000-0000-4000-8000-00000000000a';
const MALLORY = '00000000-0000-4000-8000-00000000000f';

/**
 * A store whose batch request fails as a whole when any query in it is
 * poisoned (as one SQL statement does), while a poisoned query asked alone
 * fails alone. Every call is recorded.
 */
function poisonableStore<Q, H>(poisoned: (q: Q) => boolean, answer: (q: Q) => H) {
  const calls = { batches: [] as Q[][], single: [] as Q[] };
  const refuse = () => new AppError('bad_request', 'the store refused a query');
  return {
    calls,
    batch(queries: readonly Q[]): Promise<H[]> {
      calls.batches.push([...queries]);
      return queries.some(poisoned)
        ? Promise.reject(refuse())
        : Promise.resolve(queries.map(answer));
    },
    one(query: Q): Promise<H> {
      calls.single.push(query);
      return poisoned(query) ? Promise.reject(refuse()) : Promise.resolve(answer(query));
    },
  };
}

describe('a batch with one poisoned item', () => {
  it('answers every other item and fails only the poisoned one', async () => {
    const store = poisonableStore(
      (n: number) => n === 3,
      (n: number) => n * 10,
    );
    const batcher = createMicroBatcher({
      windowMs: 5,
      maxBatch: 100,
      key: String,
      run: (items) => store.batch(items),
      runOne: (item) => store.one(item),
    });

    const settled = await Promise.allSettled([1, 2, 3, 4, 3].map((n) => batcher.submit(n)));

    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : 'failed')),
      [10, 20, 'failed', 40, 'failed'],
    );
    assert.deepEqual(store.calls.batches, [[1, 2, 3, 4]]);
    assert.deepEqual(batcher.stats(), { items: 5, batches: 1, deduplicated: 1 });
  });

  it('fails the whole batch at once when the failure is one every item would meet', async () => {
    const outage = new AppError('dependency_unavailable', 'index unreachable');
    let single = 0;
    const batcher = createMicroBatcher<string, string>({
      windowMs: 5,
      maxBatch: 100,
      run: () => Promise.reject(outage),
      runOne: (item) => {
        single++;
        return Promise.resolve(item);
      },
      retryEach: (error) => error !== outage,
    });

    const settled = await Promise.allSettled(['a', 'b'].map((t) => batcher.submit(t)));

    assert.ok(settled.every((s) => s.status === 'rejected' && s.reason === outage));
    assert.equal(single, 0);
  });

  it('does not ask again for a batch of one item that failed', async () => {
    const store = poisonableStore(
      (t: string) => t === 'bad',
      (t: string) => t,
    );
    const batcher = createMicroBatcher({
      windowMs: 5,
      maxBatch: 100,
      run: (items: string[]) => store.batch(items),
      runOne: (item: string) => store.one(item),
    });

    await assert.rejects(batcher.submit('bad'), /refused/);
    assert.equal(store.calls.single.length, 0);
  });
});

describe('batched vector search with a poisoned query', () => {
  const vector = (x: number) => [x, 1, 0];
  const poisoned = (q: VectorQuery) => q.userId === MALLORY;
  const hitsFor = (q: VectorQuery): VectorHit[] => [{ id: `hit-${q.vector[0]}`, score: 1 }];

  function index() {
    const store = poisonableStore(poisoned, hitsFor);
    const fake: VectorIndex = {
      kind: 'fake',
      dimension: 3,
      upsert: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      search: (q) => store.one(q),
      searchBatch: (qs) => store.batch(qs),
      listIds: () => Promise.resolve([]),
      getVectors: () => Promise.resolve(new Map()),
      count: () => Promise.resolve(0),
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    return { fake, calls: store.calls };
  }

  it("answers every other user's query of the batch; the poisoned one fails alone", async () => {
    const { fake, calls } = index();
    const searcher = createVectorSearcher(fake, BATCHING);
    const queries: VectorQuery[] = [
      { userId: ALICE, vector: vector(1), limit: 5 },
      { userId: MALLORY, vector: vector(2), limit: 5 },
      { userId: ALICE, vector: vector(3), limit: 5 },
    ];

    const settled = await Promise.allSettled(queries.map((q) => searcher.search(q)));

    assert.equal(calls.batches.length, 1, 'the queries went out as one batch first');
    assert.deepEqual(settled[0], { status: 'fulfilled', value: hitsFor(queries[0]!) });
    assert.equal(settled[1]!.status, 'rejected');
    assert.deepEqual(settled[2], { status: 'fulfilled', value: hitsFor(queries[2]!) });
    // One batch, then each of the three alone.
    assert.deepEqual(searcher.stats(), { queries: 3, roundTrips: 4, deduplicated: 0 });
  });

  it('keeps one round trip for a batch that succeeds', async () => {
    const { fake } = index();
    const searcher = createVectorSearcher(fake, BATCHING);
    await Promise.all(
      [1, 2, 1].map((x) => searcher.search({ userId: ALICE, vector: vector(x), limit: 5 })),
    );
    assert.deepEqual(searcher.stats(), { queries: 3, roundTrips: 1, deduplicated: 1 });
  });
});

describe('batched full-text search with a poisoned query', () => {
  it("answers every other user's query of the batch; the poisoned one fails alone", async () => {
    const store = poisonableStore(
      (q: TextQuery) => q.query === 'poison',
      (q: TextQuery): TextHit[] => [{ id: q.query, score: 1 }],
    );
    const searcher = createTextSearcher((qs) => store.batch(qs), BATCHING);
    const asked = ['tea', 'poison', 'garden'].map((query) => ({ userId: ALICE, query, limit: 5 }));

    const settled = await Promise.allSettled(asked.map((q) => searcher.search(q)));

    assert.deepEqual(settled[0], { status: 'fulfilled', value: [{ id: 'tea', score: 1 }] });
    assert.equal(settled[1]!.status, 'rejected');
    assert.deepEqual(settled[2], { status: 'fulfilled', value: [{ id: 'garden', score: 1 }] });
    assert.equal(store.calls.batches.length, 4, 'one batch, then each query alone');
  });
});

describe('batch keys', () => {
  it('tells the tag list ["a,b"] from ["a", "b"], and ignores the order of tags', () => {
    assert.notEqual(queryKey(ALICE, 5, ['a,b'], 'q'), queryKey(ALICE, 5, ['a', 'b'], 'q'));
    assert.notEqual(queryKey(ALICE, 5, ['a|b'], 'q'), queryKey(ALICE, 5, ['a', 'b'], 'q'));
    assert.notEqual(queryKey(ALICE, 5, [], 'a'), queryKey(ALICE, 5, ['a'], ''));
    assert.equal(queryKey(ALICE, 5, ['b', 'a'], 'q'), queryKey(ALICE, 5, ['a', 'b'], 'q'));
    assert.equal(queryKey(ALICE, 5, undefined, 'q'), queryKey(ALICE, 5, [], 'q'));
  });

  it('gives equal vectors one digest and vectors differing in one component another', () => {
    const v = Array.from({ length: 384 }, (_, i) => Math.sin(i));
    assert.equal(vectorDigest(v), vectorDigest([...v]));
    const w = [...v];
    w[383] = w[383]! + 1e-12;
    assert.notEqual(vectorDigest(v), vectorDigest(w));
    assert.notEqual(vectorDigest([1, 2]), vectorDigest([2, 1]));
  });

  it('sends vector queries tagged ["a,b"] and ["a", "b"] separately, each with its own answer', async () => {
    const asked: VectorQuery[][] = [];
    const answerFor = (q: VectorQuery): VectorHit[] => [{ id: JSON.stringify(q.tags), score: 1 }];
    const fake = {
      searchBatch: (qs: readonly VectorQuery[]) => {
        asked.push([...qs]);
        return Promise.resolve(qs.map(answerFor));
      },
    } as Pick<VectorIndex, 'searchBatch'> as VectorIndex;
    const searcher = createVectorSearcher(fake, BATCHING);
    const base = { userId: ALICE, vector: [1, 0, 0], limit: 5 };

    const [joined, split] = await Promise.all([
      searcher.search({ ...base, tags: ['a,b'] }),
      searcher.search({ ...base, tags: ['a', 'b'] }),
    ]);

    assertAskedApart(asked, joined, split);
    assert.equal(searcher.stats().deduplicated, 0);
  });

  it('sends full-text queries tagged ["a,b"] and ["a", "b"] separately', async () => {
    const asked: TextQuery[][] = [];
    const searcher = createTextSearcher((qs) => {
      asked.push([...qs]);
      return Promise.resolve(qs.map((q) => [{ id: JSON.stringify(q.tags), score: 1 }]));
    }, BATCHING);
    const base = { userId: ALICE, query: 'tea', limit: 5 };

    const [joined, split] = await Promise.all([
      searcher.search({ ...base, tags: ['a,b'] }),
      searcher.search({ ...base, tags: ['a', 'b'] }),
    ]);

    assertAskedApart(asked, joined, split);
  });
});

describe('batching embedder with a text the model refuses', () => {
  function model(failure: (texts: readonly string[]) => AppError | null): Embedder {
    return {
      id: 'fake',
      dimension: 2,
      embed(texts) {
        const error = failure(texts);
        return error ? Promise.reject(error) : Promise.resolve(texts.map((t) => [t.length, 1]));
      },
    };
  }

  it("embeds every other caller's text and fails only the refused one", async () => {
    const refused = (texts: readonly string[]) =>
      texts.includes('refused') ? new AppError('bad_request', 'text refused') : null;
    const embedder = createBatchingEmbedder(model(refused), { windowMs: 5, maxBatch: 10 });

    const settled = await Promise.allSettled([
      embedder.embed(['tea']),
      embedder.embed(['refused']),
      embedder.embed(['garden']),
    ]);

    assert.deepEqual(settled[0], { status: 'fulfilled', value: [[3, 1]] });
    assert.equal(settled[1]!.status, 'rejected');
    assert.deepEqual(settled[2], { status: 'fulfilled', value: [[6, 1]] });
  });

  it('fails the batch at once on a rate limit, without asking text by text', async () => {
    let calls = 0;
    const limited = () => {
      calls++;
      return new AppError('rate_limited', 'slow down');
    };
    const embedder = createBatchingEmbedder(model(limited), { windowMs: 5, maxBatch: 10 });

    const settled = await Promise.allSettled([embedder.embed(['tea']), embedder.embed(['garden'])]);

    assert.ok(settled.every((s) => s.status === 'rejected'));
    assert.equal(calls, 1);
  });
});

/** Both queries went out in one batch as two items, each answered with its own tags. */
function assertAskedApart(asked: unknown[][], joined: unknown, split: unknown) {
  assert.equal(asked[0]?.length, 2);
  assert.deepEqual(joined, [{ id: '["a,b"]', score: 1 }]);
  assert.deepEqual(split, [{ id: '["a","b"]', score: 1 }]);
}
