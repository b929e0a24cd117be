import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import type { RetrievalFilter } from '../../core/ports/retrieval-filter.ts';
import type { VectorIndex, VectorQuery, VectorRecord } from '../../core/ports/vector-index.ts';

type Payload = Partial<Pick<VectorRecord, 'tags' | 'metadata' | 'occurredAt' | 'state'>>;

/**
 * The vector index's contract for filters (metadata equality and `in`, tags
 * `all`/`any`, event time, state): called inside the vector-index contract,
 * so every adapter must answer each case with exactly the same ids.
 */
export function vectorFilterCases(
  index: VectorIndex,
  vectors: {
    randomVector(): number[];
    axis(i: number, towards?: { j: number; weight: number }): number[];
  },
): void {
  const { randomVector, axis } = vectors;
  const record = (
    userId: string,
    payload: Payload = {},
    vector = randomVector(),
  ): VectorRecord => ({
    id: randomUUID(),
    userId,
    vector,
    tags: [],
    ...payload,
  });
  /** The ids a filtered search finds, sorted (the order is the nearest-first contract's business). */
  const found = async (
    userId: string,
    filter?: RetrievalFilter,
    extra: Partial<VectorQuery> = {},
  ) =>
    (
      await index.search({
        userId,
        vector: randomVector(),
        limit: 50,
        ...(filter ? { filter } : {}),
        ...extra,
      })
    )
      .map((h) => h.id)
      .sort();
  const idsOf = (...records: VectorRecord[]) => records.map((r) => r.id).sort();
  const isBadRequest = (error: unknown) =>
    error instanceof AppError && error.code === 'bad_request';

  it('filters by metadata: equality, `in`, typed values, top-level scalars only', async () => {
    const user = randomUUID();
    const a = record(user, { metadata: { project: 'apollo', lang: 'en', n: 1, flag: true } });
    const b = record(user, { metadata: { project: 'apollo', lang: 'de', n: '1' } });
    const c = record(user, { metadata: { project: 'gemini', lang: 'fr', n: 2.5, flag: false } });
    const d = record(user, { metadata: { project: ['apollo'], nested: { lang: 'en' }, n: null } });
    const e = record(user);
    const odd = record(user, { metadata: { 'we"ird,key': 'va,l"ue ünï', '': 'empty key' } });
    await index.upsert([a, b, c, d, e, odd]);
    const metadata = (m: RetrievalFilter['metadata']) => found(user, { metadata: m });

    assert.deepEqual(await metadata({ project: ['apollo'] }), idsOf(a, b));
    assert.deepEqual(await metadata({ project: ['apollo'], lang: ['en', 'de'] }), idsOf(a, b));
    assert.deepEqual(await metadata({ project: ['apollo'], lang: ['de', 'fr'] }), idsOf(b));
    assert.deepEqual(await metadata({ lang: ['en', 'de', 'fr'] }), idsOf(a, b, c));
    assert.deepEqual(await metadata({ n: [1] }), idsOf(a));
    assert.deepEqual(await metadata({ n: ['1'] }), idsOf(b));
    assert.deepEqual(await metadata({ n: [2.5, 1] }), idsOf(a, c));
    assert.deepEqual(await metadata({ flag: [true] }), idsOf(a));
    assert.deepEqual(await metadata({ flag: [false] }), idsOf(c));
    assert.deepEqual(await metadata({ project: ['zeus'] }), []);
    assert.deepEqual(await metadata({ 'we"ird,key': ['va,l"ue ünï'] }), idsOf(odd));
    assert.deepEqual(await metadata({ 'we"ird': ['key'] }), []);
    assert.deepEqual(await metadata({}), idsOf(a, b, c, d, e, odd));
  });

  it('filters by tags: `all` needs every tag, `any` one of them, both together', async () => {
    const user = randomUUID();
    const work = record(user, { tags: ['work'] });
    const workTravel = record(user, { tags: ['work', 'travel'] });
    const workTravelHome = record(user, { tags: ['home', 'travel', 'work'] });
    const home = record(user, { tags: ['home'] });
    const none = record(user);
    await index.upsert([work, workTravel, workTravelHome, home, none]);

    assert.deepEqual(await found(user, { tagsAll: ['work', 'travel'] }), idsOf(workTravel, workTravelHome)); // prettier-ignore
    assert.deepEqual(await found(user, { tagsAny: ['home', 'travel'] }), idsOf(workTravel, workTravelHome, home)); // prettier-ignore
    assert.deepEqual(
      await found(user, { tagsAll: ['work'], tagsAny: ['home', 'nowhere'] }),
      idsOf(workTravelHome),
    );
    // The `tags` shorthand is `tagsAny`, and it goes with `tagsAll`.
    assert.deepEqual(
      await found(user, { tagsAll: ['travel'] }, { tags: ['home'] }),
      idsOf(workTravelHome),
    );
    assert.deepEqual(await found(user, { tagsAll: ['work', 'unknown'] }), []);
  });

  it('filters by event time: `from` inclusive, `to` exclusive, no event time outside every range', async () => {
    const user = randomUUID();
    const at = (iso: string) => new Date(iso);
    const y2019 = record(user, { occurredAt: at('2019-05-01T00:00:00.000Z') });
    const y2020 = record(user, { occurredAt: at('2020-01-01T00:00:00.000Z') });
    const y2021 = record(user, { occurredAt: at('2021-07-15T12:30:00.250Z') });
    const undated = record(user);
    await index.upsert([y2019, y2020, y2021, undated]);

    assert.deepEqual(await found(user, { from: at('2020-01-01T00:00:00Z') }), idsOf(y2020, y2021));
    assert.deepEqual(await found(user, { to: at('2020-01-01T00:00:00Z') }), idsOf(y2019));
    assert.deepEqual(
      await found(user, { from: at('2019-05-01T00:00:00Z'), to: at('2021-07-15T12:30:00.250Z') }),
      idsOf(y2019, y2020),
    );
    assert.deepEqual(
      await found(user, {
        from: at('2021-07-15T12:30:00.250Z'),
        to: at('2021-07-15T12:30:00.251Z'),
      }),
      idsOf(y2021),
    );
    assert.deepEqual(await found(user), idsOf(y2019, y2020, y2021, undated));
  });

  it('filters by state, a vector written without one being active', async () => {
    const user = randomUUID();
    const active = record(user, { state: 'active' });
    const archived = record(user, { state: 'archived' });
    const unsaid = record(user);
    await index.upsert([active, archived, unsaid]);
    assert.deepEqual(await found(user, { state: 'active' }), idsOf(active, unsaid));
    assert.deepEqual(await found(user, { state: 'archived' }), idsOf(archived));
    assert.deepEqual(await found(user), idsOf(active, archived, unsaid));
  });

  it('combines every part, follows a re-upserted payload and keeps users apart', async () => {
    const user = randomUUID();
    const other = randomUUID();
    const payload: Payload = {
      tags: ['work', 'q3'],
      metadata: { project: 'apollo', priority: 2 },
      occurredAt: new Date('2024-03-01T00:00:00Z'),
      state: 'active',
    };
    const hit = record(user, payload);
    const wrongState = record(user, { ...payload, state: 'archived' });
    const wrongTime = record(user, { ...payload, occurredAt: new Date('2023-03-01T00:00:00Z') });
    const wrongTag = record(user, { ...payload, tags: ['work'] });
    const wrongMeta = record(user, { ...payload, metadata: { project: 'apollo', priority: 3 } });
    const othersTwin = record(other, payload);
    await index.upsert([hit, wrongState, wrongTime, wrongTag, wrongMeta, othersTwin]);
    const filter: RetrievalFilter = {
      metadata: { project: ['apollo'], priority: [1, 2] },
      tagsAll: ['q3'],
      tagsAny: ['work', 'home'],
      from: new Date('2024-01-01T00:00:00Z'),
      to: new Date('2025-01-01T00:00:00Z'),
      state: 'active',
    };
    assert.deepEqual(await found(user, filter), idsOf(hit));

    await index.upsert([{ ...wrongMeta, metadata: { project: 'apollo', priority: 1 } }]);
    await index.upsert([{ ...hit, metadata: { project: 'gemini', priority: 2 } }]);
    assert.deepEqual(await found(user, filter), idsOf(wrongMeta));
    assert.deepEqual(await found(other, filter), idsOf(othersTwin));
  });

  it('answers filters by the payload of the last upsert only, as consolidation and edits rewrite it', async () => {
    const user = randomUUID();
    const duplicate = record(user, { tags: ['travel'], metadata: { source: 'chat' } });
    const survivor = record(user, { tags: ['home'], metadata: { source: 'chat' } });
    const outdated = record(user, { metadata: { source: 'mail', expires_at: '2020-01-01' } });
    const bystander = record(user, { metadata: { source: 'chat' } });
    await index.upsert([duplicate, survivor, outdated, bystander]);
    assert.deepEqual(await found(user, { state: 'archived' }), []);

    // Nightly consolidation: the same vectors, each with the payload of its memory's new revision.
    await index.upsert([
      {
        ...duplicate,
        state: 'archived',
        metadata: { source: 'chat', retired_reason: 'duplicate', merged_into: survivor.id },
      },
      { ...survivor, tags: ['home', 'travel'], metadata: { source: 'chat', merged_from: [duplicate.id] } }, // prettier-ignore
      {
        ...outdated,
        state: 'archived',
        metadata: { source: 'mail', expires_at: '2020-01-01', retired_reason: 'expired' },
      },
    ]);
    assert.deepEqual(await found(user, { state: 'archived' }), idsOf(duplicate, outdated));
    assert.deepEqual(await found(user, { state: 'active' }), idsOf(survivor, bystander));
    assert.deepEqual(await found(user), idsOf(duplicate, survivor, outdated, bystander));
    assert.deepEqual(await found(user, { metadata: { retired_reason: ['duplicate'] } }), idsOf(duplicate)); // prettier-ignore
    assert.deepEqual(await found(user, { metadata: { merged_into: [survivor.id] } }), idsOf(duplicate)); // prettier-ignore
    assert.deepEqual(await found(user, { tagsAny: ['travel'] }), idsOf(duplicate, survivor));
    assert.deepEqual(await found(user, { tagsAny: ['travel'], state: 'active' }), idsOf(survivor));

    // An edit brings one back with fewer metadata keys: the dropped ones match nothing.
    await index.upsert([{ ...outdated, state: 'active', metadata: { source: 'mail' } }]);
    assert.deepEqual(await found(user, { state: 'archived' }), idsOf(duplicate));
    assert.deepEqual(await found(user, { metadata: { retired_reason: ['expired'] } }), []);
    assert.deepEqual(await found(user, { metadata: { expires_at: ['2020-01-01'] } }), []);
    assert.deepEqual(await found(user, { metadata: { source: ['mail'] }, state: 'active' }), idsOf(outdated)); // prettier-ignore
    assert.equal(await index.count(user), 4, 'rewritten in place, never added');
  });

  it('fills the limit with the nearest vectors that pass a selective filter', async () => {
    const user = randomUUID();
    // The query sits on axis 0; the unfiltered crowd sits right next to it.
    const crowd = Array.from({ length: 150 }, (_, i) =>
      record(user, { metadata: { kind: 'noise' } }, axis(0, { j: 1 + (i % 5), weight: 0.05 })),
    );
    const wanted = Array.from({ length: 12 }, (_, i) =>
      record(user, { metadata: { kind: 'signal' } }, axis(0, { j: 7, weight: 0.5 + i * 0.25 })),
    );
    await index.upsert([...crowd, ...wanted]);
    const query = { userId: user, vector: axis(0), limit: 5 };
    const filter: RetrievalFilter = { metadata: { kind: ['signal'] } };
    const hits = await index.search({ ...query, filter });
    // Nearest first: the least tilted towards axis 7.
    assert.deepEqual(
      hits.map((h) => h.id),
      wanted.slice(0, 5).map((r) => r.id),
    );
    const [batched] = await index.searchBatch([{ ...query, filter }]);
    assert.deepEqual(
      batched?.map((h) => h.id),
      hits.map((h) => h.id),
    );
  });

  it('answers a batch of differently filtered queries like each one alone', async () => {
    const user = randomUUID();
    await index.upsert(
      Array.from({ length: 24 }, (_, i) =>
        record(user, {
          tags: [`t${i % 3}`],
          metadata: { bucket: i % 4 },
          occurredAt: new Date(Date.UTC(2020, i % 12, 1)),
          state: i % 5 === 0 ? 'archived' : 'active',
        }),
      ),
    );
    const queries: VectorQuery[] = [
      { userId: user, vector: randomVector(), limit: 4, filter: { metadata: { bucket: [1, 3] } } },
      { userId: user, vector: randomVector(), limit: 10, filter: { tagsAll: ['t2'], state: 'active' } }, // prettier-ignore
      { userId: user, vector: randomVector(), limit: 3 },
      { userId: user, vector: randomVector(), limit: 10, filter: { from: new Date(Date.UTC(2020, 6, 1)) } }, // prettier-ignore
      { userId: user, vector: randomVector(), limit: 10, filter: { state: 'archived' } },
    ];
    const batch = await index.searchBatch(queries);
    const single = await Promise.all(queries.map((q) => index.search(q)));
    batch.forEach((hits, i) =>
      assert.deepEqual(
        hits.map((h) => h.id),
        single[i]!.map((h) => h.id),
        `query ${i}`,
      ),
    );
    assert.deepEqual(
      batch.map((hits) => hits.length),
      [4, 6, 3, 10, 5],
    );
  });

  it('rejects a malformed filter or payload with a bad_request', async () => {
    const user = randomUUID();
    const query = { userId: user, vector: randomVector(), limit: 5 };
    const refuse = (filter: unknown, extra: object = {}) =>
      assert.rejects(
        index.search({ ...query, ...extra, filter: filter as RetrievalFilter }),
        isBadRequest,
        JSON.stringify(filter),
      );
    await refuse({ metadata: { project: [{ nested: 'object' }] } });
    await refuse({ metadata: { project: [] } });
    await refuse({ metadata: { project: 'not-a-list' } });
    await refuse({ metadata: { n: [Number.NaN] } });
    await refuse({ metadata: { n: [null] } });
    await refuse({ tagsAll: [] });
    await refuse({ tagsAny: [1] });
    await refuse({ state: 'deleted' });
    await refuse({ from: new Date('nonsense') });
    await refuse({ colour: 'blue' });
    await refuse({ tagsAny: ['a'] }, { tags: ['b'] });
    await assert.rejects(
      index.upsert([{ ...record(user), occurredAt: new Date('nonsense') }]),
      isBadRequest,
    );
    await assert.rejects(
      index.upsert([{ ...record(user), state: 'deleted' as 'active' }]),
      isBadRequest,
    );
    assert.equal(await index.count(user), 0);
  });
}
