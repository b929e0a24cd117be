import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  currentPriority,
  withPriority,
  type WorkPriority,
} from '../../core/concurrency/work-priority.ts';
import type { VectorIndex, VectorQuery } from '../../core/ports/vector-index.ts';
import { createTextSearcher, createVectorSearcher } from '../../core/retrieval/batched-search.ts';
import type { RelationalStore, TextQuery } from '../../core/ports/relational-store.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../../infra/db/sql-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';
import { createPgvectorIndex } from '../../infra/vector/pgvector-index.ts';

/** The real pgvector index, counting the round trips it is asked for. */
function counting(inner: VectorIndex) {
  const calls = { search: 0, searchBatch: 0, batchSizes: [] as number[] };
  const index: VectorIndex = {
    ...inner,
    kind: inner.kind,
    dimension: inner.dimension,
    search: (q) => {
      calls.search++;
      return inner.search(q);
    },
    searchBatch: (qs) => {
      calls.searchBatch++;
      calls.batchSizes.push(qs.length);
      return inner.searchBatch(qs);
    },
  };
  return { index, calls };
}

describe('batched vector queries against pgvector in PGlite', () => {
  let driver: SqlDriver;
  let index: VectorIndex;
  const embedder = createHashingEmbedder({ dimension: 64 });
  let userId: string;
  const texts = ['morning run', 'evening swim', 'tax return', 'sister birthday', 'piano lesson'];

  before(async () => {
    driver = await createPgliteDriver('memory://');
    const store = await createSqlRelationalStore(driver);
    userId = (await store.createUser({})).id;
    index = await createPgvectorIndex({ driver, dimension: 64 });
    const vectors = await embedder.embed(texts);
    await index.upsert(vectors.map((vector) => ({ id: randomUUID(), userId, vector, tags: [] })));
  });
  after(() => driver.close());

  const queries = async (words: string[]): Promise<VectorQuery[]> =>
    (await embedder.embed(words)).map((vector) => ({ userId, vector, limit: 3 }));

  it('sends queries arriving within the window as one batch, and answers identical ones once', async () => {
    const { index: counted, calls } = counting(index);
    const searcher = createVectorSearcher(counted, { enabled: true, windowMs: 20, maxBatch: 10 });
    const run = 'early morning run by the river';
    const qs = await queries([
      run,
      'evening swim at the pool',
      'filing my tax return',
      run,
      'weekly piano lesson',
      run,
    ]);
    const results = await Promise.all(qs.map((q) => searcher.search(q)));
    assert.equal(calls.searchBatch, 1);
    assert.deepEqual(calls.batchSizes, [4]);
    assert.equal(calls.search, 0);
    assert.deepEqual(results[0], results[3]);
    for (const [i, q] of qs.entries()) assert.deepEqual(results[i], await index.search(q));
    assert.deepEqual(searcher.stats(), { queries: 6, roundTrips: 1, deduplicated: 2 });
  });

  it('splits a burst larger than the batch limit', async () => {
    const { index: counted, calls } = counting(index);
    const searcher = createVectorSearcher(counted, { enabled: true, windowMs: 20, maxBatch: 2 });
    await Promise.all(
      (await queries(['alpha beta', 'gamma delta', 'epsilon zeta', 'eta theta', 'iota kappa'])).map(
        (q) => searcher.search(q),
      ),
    );
    assert.deepEqual(calls.batchSizes, [2, 2, 1]);
  });

  it('makes one round trip per query when batching is switched off', async () => {
    const { index: counted, calls } = counting(index);
    const searcher = createVectorSearcher(counted, { enabled: false, windowMs: 20, maxBatch: 10 });
    await Promise.all(
      (await queries(['long run', 'long run', 'cold swim'])).map((q) => searcher.search(q)),
    );
    assert.equal(calls.search, 3);
    assert.equal(calls.searchBatch, 0);
  });

  it('batches queries of each priority apart and runs each batch at its priority', async () => {
    const seen: WorkPriority[][] = [];
    const { index: counted, calls } = counting({
      ...index,
      kind: index.kind,
      dimension: index.dimension,
      searchBatch: (qs) => {
        seen.push(qs.map(() => currentPriority()));
        return index.searchBatch(qs);
      },
    });
    const searcher = createVectorSearcher(counted, { enabled: true, windowMs: 20, maxBatch: 10 });
    const [mine, theirs] = await queries(['morning run', 'evening swim']);
    const [a, b] = await Promise.all([
      withPriority('background', () => searcher.search(mine!)),
      searcher.search(theirs!),
    ]);
    assert.ok(a.length > 0 && b.length > 0);
    assert.equal(calls.searchBatch, 2, 'a query never joins a batch of the other priority');
    assert.deepEqual(seen.map((batch) => batch[0]).sort(), ['background', 'interactive']);
    assert.deepEqual(searcher.stats(), { queries: 2, roundTrips: 2, deduplicated: 0 });
  });
});

describe('batched full-text queries against PGlite', () => {
  let driver: SqlDriver;
  let store: RelationalStore;
  let userId: string;

  before(async () => {
    driver = await createPgliteDriver('memory://');
    store = await createSqlRelationalStore(driver);
    userId = (await store.createUser({})).id;
    for (const content of [
      'morning run by the river',
      'evening swim',
      'tax return due',
      'piano lesson',
    ]) {
      await store.insertMemory(userId, { content });
    }
  });
  after(() => driver.close());

  it('sends queries arriving within the window as one statement, and answers identical ones once', async () => {
    const batches: number[] = [];
    const searcher = createTextSearcher(
      (queries) => {
        batches.push(queries.length);
        return store.searchText(queries);
      },
      { enabled: true, windowMs: 20, maxBatch: 10 },
    );
    const q = (query: string): TextQuery => ({ userId, query, limit: 3 });
    const asked = [q('river run'), q('swim'), q('river run'), q('taxes'), q('river run')];
    const results = await Promise.all(asked.map((query) => searcher.search(query)));
    assert.deepEqual(batches, [3]);
    assert.deepEqual(results[0], results[2]);
    for (const [i, query] of asked.entries()) {
      assert.deepEqual(results[i], (await store.searchText([query]))[0]);
    }
    assert.equal(results[3]!.length, 1, 'taxes finds "tax return" by its stem');
    assert.deepEqual(searcher.stats(), { queries: 5, roundTrips: 1, deduplicated: 2 });
  });
});
