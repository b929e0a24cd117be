import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GraphStore } from '../../core/ports/graph-store.ts';
import type { Memory } from '../../core/ports/relational-store.ts';
import type { TextSearcher, VectorSearcher } from '../../core/retrieval/batched-search.ts';
import { timeRanked, type RetrievalDeps } from '../../core/retrieval/hybrid.ts';
import {
  eventWords,
  filterWithin,
  hasTimeIntent,
  namedSpan,
  parseQueryTime,
} from '../../core/retrieval/time-signal.ts';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';
import { sessionTime } from '../../bench/quality/session-time.ts';

const USER = '00000000-0000-4000-8000-000000000001';
const NOW = Date.parse('2026-12-06T12:00:00Z');
const utc = (iso: string) => new Date(`${iso}T00:00:00Z`);

describe('the time a query names, as a span a search can be narrowed to', () => {
  it('is the hull of the spans it names, "between March and May 2023" as one', () => {
    const span = namedSpan(
      parseQueryTime('What did Jo paint between March 2023 and May 2023?', NOW),
    );
    assert.deepEqual(span, { from: utc('2023-03-01').getTime(), to: utc('2023-06-01').getTime() });
  });

  it('is none for a "when" question, a yearless month, or a stretch longer than a year', () => {
    assert.equal(namedSpan(parseQueryTime('When did Jo paint a sunrise?', NOW)), null);
    assert.equal(namedSpan(parseQueryTime('What did Jo paint in June?', NOW)), null);
    assert.equal(namedSpan(parseQueryTime('What did Jo do between 2019 and 2023?', NOW)), null);
  });

  it('takes a time after "as of", "by" or "until" as a bound: no span, and not searched for', () => {
    const asked = parseQueryTime('How many pets did Andrew have, as of September 2023?', NOW);
    assert.deepEqual(asked.spans, []);
    assert.equal(asked.bounded, true);
    assert.equal(namedSpan(asked), null);
    assert.equal(hasTimeIntent(asked), true);
    assert.equal(eventWords('What did Jo finish by the end of June 2023?'), 'What did Jo finish?');
  });

  it("narrows the caller's filter to the span, and says when nothing can pass", () => {
    const span = { from: utc('2023-05-01').getTime(), to: utc('2023-06-01').getTime() };
    const filter = { tagsAny: ['art'], from: utc('2023-05-10') };
    assert.deepEqual(filterWithin(filter, span), { tagsAny: ['art'], from: utc('2023-05-10'), to: utc('2023-06-01') }); // prettier-ignore
    assert.equal(filterWithin({ to: utc('2023-04-01') }, span), null);
  });
});

/** Memories by id with their event times; vector search honours a filter's `from`/`to`. */
function retrieval(
  memories: Record<string, { content: string; at: string }>,
  byMeaning: string[],
  byWords: string[],
) {
  const searches: { limit: number; from?: string; to?: string }[] = [];
  const stats = () => ({ queries: 0, roundTrips: 0, deduplicated: 0 });
  const occurred = (id: string) => utc(memories[id]!.at).getTime();
  const vectors: VectorSearcher = {
    search: (q) => {
      const { from, to } = q.filter ?? {};
      searches.push({ limit: q.limit, ...(from ? { from: from.toISOString() } : {}), ...(to ? { to: to.toISOString() } : {}) }); // prettier-ignore
      const passes = (id: string) => (!from || occurred(id) >= from.getTime()) && (!to || occurred(id) < to.getTime()); // prettier-ignore
      const ids = (from || to ? Object.keys(memories) : byMeaning).filter(passes);
      return Promise.resolve(ids.slice(0, q.limit).map((id) => ({ id, score: 1 })));
    },
    stats,
  };
  const text: TextSearcher = {
    search: (q) => Promise.resolve(byWords.slice(0, q.limit).map((id) => ({ id, score: 1 }))),
    stats,
  };
  const embedder = createHashingEmbedder({ dimension: 8 });
  const memory = (id: string): Memory => ({
    id, userId: USER, content: memories[id]!.content, tags: [], metadata: {}, state: 'active',
    indexState: 'indexed', revision: 1, createdAt: new Date(NOW), updatedAt: new Date(NOW),
    occurredAt: utc(memories[id]!.at), expiresAt: null,
  }); // prettier-ignore
  const deps: RetrievalDeps = {
    graph: { entityNames: () => Promise.resolve([]) } as Partial<GraphStore> as GraphStore,
    text,
    space: () => ({ id: embedder.id, embedder, vectors }),
    store: { getMemories: (_user, ids) => Promise.resolve(ids.filter((id) => memories[id]).map(memory)) }, // prettier-ignore
    now: () => NOW,
  };
  return { deps, searches };
}

const constants = (spanPool: number) => ({
  k: 1,
  weights: { vector: 1, lexical: 1, graph: 0, time: 1 },
  pool: 2,
  spanPool,
});

describe('the time signal for a query that names a time', () => {
  // Jo's screenplay of January 2022 shares no word with the question: neither search finds it.
  const memories = {
    a: { content: 'Jo: I love reading before bed.', at: '2022-01-21' },
    b: { content: 'Jo: Woo! I finally finished my first full screenplay.', at: '2022-01-23' },
    c: { content: 'Jo: My biggest achievement was the marathon.', at: '2022-09-02' },
    d: { content: 'Jo: Another major accomplishment: my second script.', at: '2022-10-25' },
  };
  const q = { userId: USER, query: 'What major achievement did Jo accomplish in January 2022?', pool: 2 }; // prettier-ignore

  it('asks for the memories of that time too, nearest by meaning, and lists them first', async () => {
    const { deps, searches } = retrieval(memories, ['c', 'd'], ['d', 'c']);
    const [time] = (await timeRanked(deps, q, constants(5))) ?? [];
    assert.deepEqual(searches.at(-1), { limit: 5, from: '2022-01-01T00:00:00.000Z', to: '2022-02-01T00:00:00.000Z' }); // prettier-ignore
    assert.deepEqual(time?.items.map((i) => i.id).sort(), ['a', 'b']);
  });

  it('makes no such search with a span pool of 0, nor for a "when" question', async () => {
    const { deps, searches } = retrieval(memories, ['c', 'd'], ['d', 'c']);
    const [time] = (await timeRanked(deps, q, constants(0))) ?? [];
    assert.deepEqual(time?.items, []);
    const when = { ...q, query: 'When did Jo finish her screenplay?' };
    await timeRanked(deps, when, constants(5));
    assert.ok(searches.every((s) => s.from === undefined));
  });
});

describe("a LoCoMo session's date as its turns' event time", () => {
  it('reads the time of day and the date, in UTC', () => {
    assert.equal(sessionTime('1:56 pm on 8 May, 2023')?.toISOString(), '2023-05-08T13:56:00.000Z');
    assert.equal(sessionTime('12:10 am on 11 August, 2023')?.toISOString(), '2023-08-11T00:10:00.000Z'); // prettier-ignore
    assert.equal(sessionTime('sometime in spring'), undefined);
  });
});
