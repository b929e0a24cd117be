import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { seededRandom } from '../../core/util/seeded-random.ts';
import type { VectorHit, VectorIndex, VectorRecord } from '../../core/ports/vector-index.ts';
import { defineContract } from './define-contract.ts';
import { vectorFilterCases } from './vector-filter.cases.ts';

/**
 * The behaviour every vector-index adapter must show. Each adapter's test
 * file calls this with a factory for a ready index (any dimension ≥ 8); the
 * suite closes it. Every test uses fresh user ids, so the index may be shared.
 */
export const vectorIndexContract = defineContract(
  'vector index',
  (index: VectorIndex) => index.close(),
  (index) => {
    const random = seededRandom(0x5eed);
    /** A random unit vector of the index's dimension (seeded, so runs repeat). */
    const randomVector = () =>
      normalize(Array.from({ length: index.dimension }, () => gauss(random)));
    /** The unit vector along axis `i`, optionally tilted towards axis `j`. */
    const axis = (i: number, towards?: { j: number; weight: number }) => {
      const v = new Array<number>(index.dimension).fill(0);
      v[i] = 1;
      if (towards) v[towards.j] = towards.weight;
      return normalize(v);
    };

    const record = (userId: string, vector: number[], tags: string[] = []): VectorRecord => ({
      id: randomUUID(),
      userId,
      vector,
      tags,
    });
    const ids = (hits: VectorHit[]) => hits.map((h) => h.id);
    const isBadRequest = (error: unknown) =>
      error instanceof AppError && error.code === 'bad_request';

    it('answers a ping', async () => {
      await index.ping();
    });

    it('finds the nearest vector first and scores by cosine similarity', async () => {
      const user = randomUUID();
      const same = record(user, axis(0));
      const close = record(user, axis(0, { j: 1, weight: 0.5 }));
      const far = record(user, axis(1));
      const opposite = record(
        user,
        axis(0).map((x) => -x),
      );
      await index.upsert([far, opposite, close, same]);

      const hits = await index.search({ userId: user, vector: axis(0), limit: 10 });
      assert.deepEqual(ids(hits), [same.id, close.id, far.id, opposite.id]);
      const expected = [1, 1 / Math.sqrt(1.25), 0, -1];
      hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - expected[i]!) < 1e-4, `score ${i}`));
    });

    it('returns at most `limit` hits and nothing for a user without vectors', async () => {
      const user = randomUUID();
      await index.upsert(Array.from({ length: 5 }, () => record(user, randomVector())));
      assert.equal(
        (await index.search({ userId: user, vector: randomVector(), limit: 3 })).length,
        3,
      );
      assert.deepEqual(
        await index.search({ userId: randomUUID(), vector: randomVector(), limit: 3 }),
        [],
      );
    });

    it('upserts idempotently by id: a re-upsert moves the vector instead of adding one', async () => {
      const user = randomUUID();
      const moving = record(user, axis(0), ['old']);
      const anchor = record(user, axis(2));
      await index.upsert([moving, anchor]);
      await index.upsert([moving]);
      assert.equal(await index.count(user), 2);

      await index.upsert([{ ...moving, vector: axis(2, { j: 3, weight: 0.1 }), tags: ['new'] }]);
      assert.equal(await index.count(user), 2);
      const hits = await index.search({ userId: user, vector: axis(2), limit: 2 });
      assert.deepEqual(ids(hits), [anchor.id, moving.id]);
      assert.ok(hits[1]!.score > 0.99);
      assert.deepEqual(
        ids(await index.search({ userId: user, vector: axis(0), limit: 5, tags: ['new'] })),
        [moving.id],
      );
      assert.deepEqual(
        await index.search({ userId: user, vector: axis(0), limit: 5, tags: ['old'] }),
        [],
      );
    });

    it('keeps the last of several records with the same id in one upsert', async () => {
      const user = randomUUID();
      const first = record(user, axis(0));
      await index.upsert([first, { ...first, vector: axis(1) }]);
      assert.equal(await index.count(user), 1);
      const [hit] = await index.search({ userId: user, vector: axis(1), limit: 1 });
      assert.ok(hit && hit.score > 0.99);
    });

    it("never shows or deletes another user's vectors", async () => {
      const alice = randomUUID();
      const bob = randomUUID();
      const secret = record(alice, axis(4), ['shared-tag']);
      const bobs = record(bob, axis(5), ['shared-tag']);
      await index.upsert([secret, bobs]);

      const asBob = await index.search({ userId: bob, vector: axis(4), limit: 10 });
      assert.deepEqual(ids(asBob), [bobs.id]);
      const tagged = await index.search({
        userId: bob,
        vector: axis(4),
        limit: 10,
        tags: ['shared-tag'],
      });
      assert.deepEqual(ids(tagged), [bobs.id]);
      assert.deepEqual(await index.listIds(bob, { limit: 10 }), [bobs.id]);

      await index.delete(bob, [secret.id]);
      assert.equal(await index.count(alice), 1);
      assert.deepEqual(ids(await index.search({ userId: alice, vector: axis(4), limit: 1 })), [
        secret.id,
      ]);
    });

    it('filters by tags: a vector matches when it carries any of the asked tags', async () => {
      const user = randomUUID();
      const work = record(user, randomVector(), ['work']);
      const home = record(user, randomVector(), ['home']);
      const both = record(user, randomVector(), ['work', 'travel']);
      const none = record(user, randomVector(), []);
      await index.upsert([work, home, both, none]);
      const search = (tags?: string[]) =>
        index
          .search({ userId: user, vector: randomVector(), limit: 10, ...(tags ? { tags } : {}) })
          .then((hits) => ids(hits).sort());

      assert.deepEqual(await search(['work']), [work.id, both.id].sort());
      assert.deepEqual(await search(['travel', 'home']), [home.id, both.id].sort());
      assert.deepEqual(await search(['unknown']), []);
      assert.deepEqual(await search(), [work.id, home.id, both.id, none.id].sort());
      // An empty tag list is no filter, not a filter nothing passes.
      assert.deepEqual(await search([]), [work.id, home.id, both.id, none.id].sort());
    });

    it('deletes vectors by id and ignores ids it does not hold', async () => {
      const user = randomUUID();
      const keep = record(user, axis(0));
      const drop = record(user, axis(1));
      await index.upsert([keep, drop]);
      await index.delete(user, [drop.id, randomUUID()]);
      await index.delete(user, []);
      assert.equal(await index.count(user), 1);
      assert.deepEqual(ids(await index.search({ userId: user, vector: axis(1), limit: 5 })), [
        keep.id,
      ]);
    });

    it('answers a batch of queries like the same queries one by one, in order', async () => {
      const users = [randomUUID(), randomUUID(), randomUUID()];
      await index.upsert(
        users.flatMap((user, u) =>
          Array.from({ length: 12 }, (_, i) => record(user, randomVector(), [`t${(i + u) % 3}`])),
        ),
      );
      const queries = [
        { userId: users[2]!, vector: randomVector(), limit: 5 },
        { userId: users[0]!, vector: randomVector(), limit: 3, tags: ['t1'] },
        { userId: randomUUID(), vector: randomVector(), limit: 4 },
        { userId: users[1]!, vector: randomVector(), limit: 20 },
        { userId: users[2]!, vector: randomVector(), limit: 1, tags: ['t0', 't2'] },
      ];
      const batch = await index.searchBatch(queries);
      const single = await Promise.all(queries.map((q) => index.search(q)));
      assert.equal(batch.length, queries.length);
      batch.forEach((hits, i) => {
        assert.deepEqual(ids(hits), ids(single[i]!), `query ${i}`);
        hits.forEach((hit, j) => assert.ok(Math.abs(hit.score - single[i]![j]!.score) < 1e-6));
      });
      assert.deepEqual(
        batch.map((hits) => hits.length),
        [5, 3, 0, 12, 1],
      );
      assert.deepEqual(await index.searchBatch([]), []);
    });

    it('lists ids in id order, page by page, without gaps or repeats', async () => {
      const user = randomUUID();
      const records = Array.from({ length: 7 }, () => record(user, randomVector()));
      await index.upsert(records);
      const seen: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await index.listIds(user, { limit: 3, ...(afterId ? { afterId } : {}) });
        assert.ok(page.length <= 3);
        if (page.length === 0) break;
        seen.push(...page);
        afterId = page.at(-1);
      }
      assert.deepEqual(seen, records.map((r) => r.id.toLowerCase()).sort());
    });

    it('counts vectors per user and in total', async () => {
      const user = randomUUID();
      const before = await index.count();
      await index.upsert(Array.from({ length: 4 }, () => record(user, randomVector())));
      assert.equal(await index.count(user), 4);
      assert.equal(await index.count(randomUUID()), 0);
      assert.equal((await index.count()) - before, 4);
    });

    it('rejects a vector of the wrong dimension with a bad_request', async () => {
      const user = randomUUID();
      const short = Array.from({ length: index.dimension - 1 }, () => 0.5);
      const long = Array.from({ length: index.dimension + 1 }, () => 0.5);
      await assert.rejects(index.upsert([record(user, short)]), isBadRequest);
      await assert.rejects(index.search({ userId: user, vector: long, limit: 5 }), isBadRequest);
      await assert.rejects(
        index.searchBatch([
          { userId: user, vector: randomVector(), limit: 5 },
          { userId: user, vector: short, limit: 5 },
        ]),
        isBadRequest,
      );
      assert.equal(await index.count(user), 0);
    });

    it('rejects malformed ids, non-finite numbers and bad limits with a bad_request', async () => {
      const user = randomUUID();
      await assert.rejects(
        index.upsert([{ ...record(user, randomVector()), id: 'x' }]),
        isBadRequest,
      );
      const withNaN = randomVector();
      withNaN[0] = Number.NaN;
      await assert.rejects(index.upsert([record(user, withNaN)]), isBadRequest);
      await assert.rejects(
        index.search({ userId: 'not-a-uuid', vector: randomVector(), limit: 5 }),
        isBadRequest,
      );
      await assert.rejects(
        index.search({ userId: user, vector: randomVector(), limit: 0 }),
        isBadRequest,
      );
    });

    it("finds a user's own nearest vectors even when other users hold far more", async () => {
      const target = randomUUID();
      const others = Array.from({ length: 100 }, () => randomUUID());
      // The other users' vectors sit right next to the query; the target's are scattered.
      const query = randomVector();
      const near = () => normalize(query.map((x) => x + gauss(random) * 0.02));
      const crowd = Array.from({ length: 2000 }, (_, i) => record(others[i % 100]!, near()));
      const own = Array.from({ length: 20 }, () => record(target, randomVector()));
      for (let i = 0; i < crowd.length; i += 500) await index.upsert(crowd.slice(i, i + 500));
      await index.upsert(own);

      const hits = await index.search({ userId: target, vector: query, limit: 10 });
      const expected = own
        .map((r) => ({ id: r.id, score: dot(r.vector, query) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 10);
      assert.equal(hits.length, 10);
      assert.deepEqual(ids(hits), ids(expected));

      const [batched] = await index.searchBatch([{ userId: target, vector: query, limit: 10 }]);
      assert.deepEqual(ids(batched ?? []), ids(expected));
    });

    vectorFilterCases(index, { randomVector, axis });

    it("returns stored vectors by id, only the user's own, leaving unknown ids out", async () => {
      const alice = randomUUID();
      const bob = randomUUID();
      const mine = record(alice, randomVector());
      const other = record(alice, randomVector());
      const bobs = record(bob, randomVector());
      await index.upsert([mine, other, bobs]);
      const vectors = await index.getVectors(alice, [mine.id, bobs.id, randomUUID()]);
      assert.deepEqual([...vectors.keys()], [mine.id]);
      const stored = vectors.get(mine.id)!;
      assert.equal(stored.length, index.dimension);
      stored.forEach((x, i) => assert.ok(Math.abs(x - mine.vector[i]!) < 1e-6, `component ${i}`));
      assert.equal((await index.getVectors(alice, [])).size, 0);
      await assert.rejects(index.getVectors(alice, ['not-a-uuid']), isBadRequest);
    });
  },
);

function normalize(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, x, i) => sum + x * b[i]!, 0);
}

/** A standard normal sample (Box–Muller). */
function gauss(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
