import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import type { GraphStore } from '../../core/ports/graph-store.ts';
import type { Memory, RelationalStore } from '../../core/ports/relational-store.ts';
import type { TextSearcher, VectorSearcher } from '../../core/retrieval/batched-search.ts';
import { TIME_POOL, TIME_SPAN_POOL } from '../../core/retrieval/fusion.ts';
import {
  createSearchService,
  type Retriever,
  type SearchDeps,
} from '../../core/retrieval/search-service.ts';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';
import { memoryFixture } from '../support/memory-fixture.ts';

const USER = '00000000-0000-4000-8000-000000000001';

const memory = (id: string): Memory => memoryFixture(id, USER);

type Behaviour = 'answers' | 'fails' | 'hangs';

/**
 * Search over in-memory retrievers: vector finds `v`, full-text finds `t`,
 * the graph finds `g` (through the entity "Ana"); each can be made to fail
 * or never answer.
 */
function searchWith(
  behaviour: Partial<Record<Retriever, Behaviour>>,
  timeoutMs?: number,
  query = 'tea with Ana',
) {
  const errors: [Retriever, unknown][] = [];
  const calls = { vector: [] as number[], lexical: [] as number[], memories: [] as number[] };
  const act = <T>(name: Retriever, value: T): Promise<T> => {
    const how = behaviour[name] ?? 'answers';
    if (how === 'fails')
      return Promise.reject(new AppError('dependency_unavailable', `${name} down`));
    if (how === 'hangs') return new Promise<T>(() => {});
    return Promise.resolve(value);
  };
  const stats = () => ({ queries: 0, roundTrips: 0, deduplicated: 0 });
  const vectors: VectorSearcher = {
    search: (q) => (calls.vector.push(q.limit), act('vector', [{ id: 'v', score: 1 }])),
    stats,
  };
  const text: TextSearcher = {
    search: (q) => (calls.lexical.push(q.limit), act('lexical', [{ id: 't', score: 1 }])),
    stats,
  };
  const graph = {
    entityNames: () => act('graph', ['Ana']),
    findMemories: () => act('graph', [{ memoryId: 'g', entity: 'Ana', hops: 0 }]),
  } as Partial<GraphStore> as GraphStore;
  // The time signal's read is the first one a query about time makes: `time` fails it.
  const store = {
    getMemories: (_user: string, ids: readonly string[]) => {
      calls.memories.push(ids.length);
      return calls.memories.length === 1
        ? act('time', ids.map(memory))
        : Promise.resolve(ids.map(memory));
    },
  } as Partial<RelationalStore> as RelationalStore;
  const embedder = createHashingEmbedder({ dimension: 8 });
  const deps: SearchDeps = {
    store,
    graph,
    text,
    space: () => ({ id: embedder.id, embedder, vectors }),
    onRetrieverError: (name, error) => errors.push([name, error]),
    ...(timeoutMs !== undefined ? { retrieverTimeoutMs: timeoutMs } : {}),
  };
  const service = createSearchService(deps);
  const input = { query, limit: 10 };
  return {
    errors,
    calls,
    search: () => service.searchWithStatus(USER, input),
    hitsOnly: () => service.search(USER, input),
  };
}

const ids = (hits: { memory: Memory }[]) => hits.map((h) => h.memory.id).sort();

describe('search with a retriever down', () => {
  it('answers from every retriever and reports nothing degraded when all answer', async () => {
    const { search, errors } = searchWith({});
    const result = await search();
    assert.deepEqual(ids(result.hits), ['g', 't', 'v']);
    assert.deepEqual(result.degraded, []);
    assert.deepEqual(errors, []);
  });

  for (const down of ['vector', 'lexical', 'graph'] as const) {
    it(`answers from the others and names "${down}" as degraded when it fails`, async () => {
      const { search, errors } = searchWith({ [down]: 'fails' });
      const result = await search();
      const lost = { vector: 'v', lexical: 't', graph: 'g' }[down];
      assert.deepEqual(
        ids(result.hits),
        ['g', 't', 'v'].filter((id) => id !== lost),
      );
      assert.deepEqual(result.degraded, [down]);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]![0], down);
      assert.match(String(errors[0]![1]), new RegExp(`${down} down`));
    });
  }

  it('adds the time signal to a question naming a time, at two vector searches (one within that time), one full-text search and one read', async () => {
    const { search, calls } = searchWith({}, undefined, 'What did I do with Ana in January 1970?');
    const result = await search();
    assert.deepEqual(ids(result.hits), ['g', 't', 'v']);
    assert.deepEqual(result.degraded, []);
    // Every memory here happened on 1 January 1970: the vector and full-text candidates rank in the time list.
    const sources = Object.fromEntries(result.hits.map((h) => [h.memory.id, h.sources]));
    assert.deepEqual(sources, { g: ['graph'], t: ['lexical', 'time'], v: ['time', 'vector'] });
    // The pool's search, and the memories of January 1970 nearest by meaning (TIME_SPAN_POOL).
    assert.deepEqual(calls.vector, [TIME_POOL, TIME_SPAN_POOL]);
    assert.equal(calls.lexical.length, 1);
    // The time signal read v and t; the search read only g, which it had not.
    assert.deepEqual(calls.memories, [2, 1]);
  });

  it('names "time" as degraded when the time signal fails, and answers from the others', async () => {
    const { search, errors } = searchWith({ time: 'fails' }, undefined, 'What did I do with Ana in January 1970?'); // prettier-ignore
    const result = await search();
    assert.deepEqual(ids(result.hits), ['g', 't', 'v']);
    assert.deepEqual(result.degraded, ['time']);
    assert.equal(errors[0]![0], 'time');
  });

  it('goes on without a retriever that does not answer in time', async () => {
    // The others answer within microtasks, before any deadline can pass.
    const { search, errors } = searchWith({ graph: 'hangs' }, 100);
    const result = await search();
    assert.deepEqual(ids(result.hits), ['t', 'v']);
    assert.deepEqual(result.degraded, ['graph']);
    assert.ok(errors[0]![1] instanceof AppError && errors[0]![1].code === 'timeout');
  });

  it('fails with the first retriever’s error when none answers', async () => {
    const { search } = searchWith({ vector: 'fails', lexical: 'fails', graph: 'fails' });
    await assert.rejects(
      search(),
      (error) =>
        error instanceof AppError &&
        error.code === 'dependency_unavailable' &&
        /vector down/.test(error.message),
    );
  });

  it('keeps `search` answering with the hits alone', async () => {
    const { hitsOnly } = searchWith({ lexical: 'fails' });
    assert.deepEqual(ids(await hitsOnly()), ['g', 'v']);
  });
});
