import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Embedder } from '../../core/ports/embedder.ts';
import type { GraphStore } from '../../core/ports/graph-store.ts';
import type { Memory } from '../../core/ports/relational-store.ts';
import type { TextSearcher, VectorSearcher } from '../../core/retrieval/batched-search.ts';
import {
  FUSION_WEIGHTS,
  fuseRankings,
  ranked,
  RRF_K,
  TIME_POOL,
  type RankedList,
} from '../../core/retrieval/fusion.ts';
import { timeRanked, vectorList, type RetrievalDeps } from '../../core/retrieval/hybrid.ts';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';

const list = (source: string, weight: number, ids: string[]): RankedList => ({
  source,
  weight,
  items: ranked(ids),
});
const order = (lists: RankedList[], k?: number) => fuseRankings(lists, k).map((h) => h.id);

describe('reciprocal-rank fusion', () => {
  it('adds weight / (k + rank) per list, so a memory two retrievers agree on rises', () => {
    const fused = fuseRankings([list('vector', 1, ['a', 'b']), list('lexical', 0.5, ['b', 'c'])], 10); // prettier-ignore
    assert.deepEqual(
      fused.map((h) => [h.id, Number(h.score.toFixed(4)), h.sources]),
      [
        ['b', Number((1 / 12 + 0.5 / 11).toFixed(4)), ['lexical', 'vector']],
        ['a', Number((1 / 11).toFixed(4)), ['vector']],
        ['c', Number((0.5 / 12).toFixed(4)), ['lexical']],
      ],
    );
  });

  it("with a small k lets one retriever's first answer beat another's agreement lower down", () => {
    const lists = [
      list('vector', 1, ['a', 'x', 'y', 'b']),
      list('lexical', 1, ['z', 'w', 'q', 'b']),
    ];
    assert.equal(order(lists, 60)[0], 'b');
    assert.equal(order(lists, 1)[0], 'a');
  });

  it('uses the tuned constants by default and keeps vector as the unit weight', () => {
    assert.ok(Number.isFinite(RRF_K) && RRF_K > 0);
    assert.equal(FUSION_WEIGHTS.vector, 1);
    for (const w of Object.values(FUSION_WEIGHTS)) assert.ok(w >= 0);
    const lists = [list('vector', 1, ['a', 'b']), list('lexical', 1, ['b'])];
    assert.deepEqual(order(lists), order(lists, RRF_K));
  });
});

const USER = '00000000-0000-4000-8000-000000000001';
const memory = (id: string, content: string): Memory => ({
  id,
  userId: USER,
  content,
  tags: [],
  metadata: {},
  state: 'active',
  indexState: 'indexed',
  revision: 1,
  createdAt: new Date('2026-12-06T00:00:00Z'),
  updatedAt: new Date('2026-12-06T00:00:00Z'),
  occurredAt: new Date('2026-12-06T00:00:00Z'),
  expiresAt: null,
});

/** Retrieval over fixed answers: vector finds `byMeaning`, full-text `byWords`, the graph nothing. */
function retrieval(byMeaning: string[], byWords: string[], contents: Record<string, string>) {
  const embedded: string[] = [];
  const limits: number[] = [];
  const stats = () => ({ queries: 0, roundTrips: 0, deduplicated: 0 });
  const hashing = createHashingEmbedder({ dimension: 8 });
  const embedder: Embedder = {
    id: hashing.id,
    dimension: hashing.dimension,
    embed: (texts, options) => {
      embedded.push(...texts);
      return hashing.embed(texts, options);
    },
  };
  const vectors: VectorSearcher = {
    search: (q) => {
      limits.push(q.limit);
      return Promise.resolve(byMeaning.slice(0, q.limit).map((id) => ({ id, score: 1 })));
    },
    stats,
  };
  const texts: string[] = [];
  const text: TextSearcher = {
    search: (q) => {
      texts.push(q.query);
      return Promise.resolve(byWords.slice(0, q.limit).map((id) => ({ id, score: 1 })));
    },
    stats,
  };
  const graph = { entityNames: () => Promise.resolve([]) } as Partial<GraphStore> as GraphStore;
  const deps: RetrievalDeps = {
    graph,
    text,
    space: () => ({ id: embedder.id, embedder, vectors }),
    store: {
      getMemories: (_user, ids) =>
        Promise.resolve(ids.filter((id) => contents[id]).map((id) => memory(id, contents[id]!))),
    },
    now: () => Date.parse('2026-12-06T12:00:00Z'),
  };
  return { deps, embedded, limits, texts };
}

const constants = (time: number) => ({
  k: 5,
  weights: { vector: 1, lexical: 1, graph: 0, time },
  pool: 3,
});

describe('the time signal in retrieval', () => {
  const contents = {
    a: '[8 May, 2023] Caroline: The support group was lovely.',
    b: '[8 May, 2023] Caroline: I went to a support group yesterday.',
    c: '[20 May, 2023] Caroline: My support group meets on Fridays now.',
    d: '[2 June, 2023] Caroline: We painted at the support group last week.',
  };

  it('lists the candidates that say when, for a "when" question, in candidate order', async () => {
    const { deps } = retrieval(['a', 'b', 'c', 'd'], ['b', 'a'], contents);
    const q = { userId: USER, query: 'When did Caroline go to the support group?', pool: 2 };
    const [time] = (await timeRanked(deps, q, constants(1))) ?? [];
    assert.equal(time?.source, 'time');
    // Three candidates deep: a and b (both lists), c (vector); c says "on Fridays".
    assert.deepEqual(
      time?.items.map((i) => i.id),
      ['b', 'c'],
    );
  });

  it('puts memories of the month a query names first', async () => {
    const { deps } = retrieval(['a', 'b', 'c', 'd'], ['d'], contents);
    const q = { userId: USER, query: 'What did Caroline paint in June 2023?', pool: 2 };
    const [time] = (await timeRanked(deps, q, { ...constants(1), pool: 4 })) ?? [];
    assert.deepEqual(
      time?.items.map((i) => i.id),
      ['d'],
    );
  });

  it('adds nothing to a query that is not about time, or with the time weight at 0', async () => {
    const { deps, embedded } = retrieval(['a'], ['a'], contents);
    const plain = { userId: USER, query: 'Who runs the support group?', pool: 2 };
    assert.equal(await timeRanked(deps, plain, constants(1)), null);
    const when = { userId: USER, query: 'When did Caroline go?', pool: 2 };
    assert.equal(await timeRanked(deps, when, constants(0)), null);
    assert.deepEqual(embedded, []);
  });

  it('embeds and searches once for the vector list and the time signal beside it', async () => {
    const { deps, embedded, limits } = retrieval(['a', 'b'], ['b'], contents);
    const q = { userId: USER, query: 'When did Caroline go to the support group?', pool: 2 };
    const [vector] = await Promise.all([vectorList(deps, q), timeRanked(deps, q)]);
    assert.deepEqual(embedded, [q.query]);
    // One search, deep enough for the time signal; the vector list keeps its pool.
    assert.deepEqual(limits, [Math.max(q.pool, TIME_POOL)]);
    assert.deepEqual(
      vector.items.map((i) => i.id),
      ['a', 'b'],
    );
  });

  it('searches vector and full-text for the event a query names a time for, not for the time', async () => {
    const { deps, embedded, texts } = retrieval(['d'], ['d'], contents);
    const q = { userId: USER, query: 'What did Caroline paint in June 2023?', pool: 2 };
    const [time] = (await timeRanked(deps, q)) ?? [];
    await vectorList(deps, q);
    assert.deepEqual(embedded, ['What did Caroline paint?']);
    assert.deepEqual(texts, ['What did Caroline paint?']);
    // The time is the time signal's to match.
    assert.deepEqual(
      time?.items.map((i) => i.id),
      ['d'],
    );
  });

  it('searches no deeper than its pool for a query that is not about time', async () => {
    const { deps, limits } = retrieval(['a', 'b', 'c'], ['b'], contents);
    const q = { userId: USER, query: 'Who runs the support group?', pool: 2 };
    assert.deepEqual(
      (await vectorList(deps, q)).items.map((i) => i.id),
      ['a', 'b'],
    );
    assert.deepEqual(limits, [2]);
  });

  it('comes back with the tuned constants, or not at all while its weight is 0', async () => {
    const { deps } = retrieval(['b'], ['b'], contents);
    const q = { userId: USER, query: 'When did Caroline go to the support group?', pool: 2 };
    const lists = (await timeRanked(deps, q)) ?? [];
    const time = lists.filter((l) => l.source === 'time');
    assert.equal(time.length, FUSION_WEIGHTS.time > 0 ? 1 : 0);
    assert.ok(TIME_POOL >= q.pool);
  });
});
