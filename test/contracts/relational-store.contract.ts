import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../core/errors.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { defineContract } from './define-contract.ts';
import { crossUserCases } from './relational-store-cross-user.cases.ts';
import { lifecycleCases } from './relational-store-lifecycle.cases.ts';
import { revisionCases } from './relational-store-revisions.cases.ts';
import { textSearchCases } from './relational-store-text-search.cases.ts';

/**
 * The behaviour every relational-store adapter must show. Each adapter's
 * test file calls this with a factory for a fresh, migrated store.
 */
export const relationalStoreContract = defineContract(
  'relational store',
  (store: RelationalStore) => store.close(),
  (store) => {
    it('answers a ping once migrated', async () => {
      await store.ping();
    });

    it('creates a user that can be read back with data version 0', async () => {
      const user = await store.createUser({ name: 'Ada' });
      const read = await store.getUser(user.id);
      assert.equal(read?.name, 'Ada');
      assert.equal(read?.dataVersion, 0);
    });

    it('returns null for an unknown or malformed user id instead of failing', async () => {
      assert.equal(await store.getUser('00000000-0000-4000-8000-000000000000'), null);
      assert.equal(await store.getUser('not-a-uuid'), null);
      assert.equal(await store.dataVersionOf('00000000-0000-4000-8000-000000000000'), null);
      assert.equal(await store.dataVersionOf('not-a-uuid'), null);
    });

    it("answers a user's data version, which follows the saves made through it", async () => {
      const user = await store.createUser({});
      assert.equal(await store.dataVersionOf(user.id), 0);
      await store.insertMemory(user.id, { content: 'Plays the cello' });
      // A change made here is heard a moment after it commits (or read at once without LISTEN).
      const deadline = Date.now() + 30_000;
      while ((await store.dataVersionOf(user.id)) !== 1) {
        assert.ok(Date.now() < deadline, 'the version after one save is 1');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal((await store.getUser(user.id))?.dataVersion, 1);
    });

    it('stores a memory with tags and metadata and bumps the data version', async () => {
      const user = await store.createUser({});
      const { memory, created } = await store.insertMemory(user.id, {
        content: 'I live in Lisbon',
        tags: ['home'],
        metadata: { source: 'chat', turn: 3 },
      });
      assert.equal(created, true);
      assert.equal(memory.indexState, 'pending');
      assert.equal(memory.state, 'active');
      const read = await store.getMemory(user.id, memory.id);
      assert.deepEqual(read?.tags, ['home']);
      assert.deepEqual(read?.metadata, { source: 'chat', turn: 3 });
      assert.ok(read?.createdAt instanceof Date);
      assert.equal((await store.getUser(user.id))?.dataVersion, 1);
    });

    it('stores the same content once per user, whatever its spacing and case', async () => {
      const user = await store.createUser({});
      const first = await store.insertMemory(user.id, { content: 'Likes green tea' });
      const again = await store.insertMemory(user.id, { content: '  likes   GREEN tea ' });
      assert.equal(again.created, false);
      assert.equal(again.memory.id, first.memory.id);
      assert.equal((await store.getUser(user.id))?.dataVersion, 1);
      const other = await store.createUser({});
      const theirs = await store.insertMemory(other.id, { content: 'Likes green tea' });
      assert.equal(theirs.created, true);
    });

    it('keeps one row when the same memory is saved concurrently', async () => {
      const user = await store.createUser({});
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.insertMemory(user.id, { content: 'races' })),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.memory.id)).size, 1);
    });

    it("never returns or deletes another user's memory", async () => {
      const alice = await store.createUser({});
      const bob = await store.createUser({});
      const { memory } = await store.insertMemory(alice.id, { content: 'alice secret' });
      assert.equal(await store.getMemory(bob.id, memory.id), null);
      assert.equal(await store.deleteMemory(bob.id, memory.id), false);
      assert.equal((await store.listMemories(bob.id, { limit: 10 })).items.length, 0);
      assert.ok(await store.getMemory(alice.id, memory.id));
    });

    it('refuses a memory for a user that does not exist', async () => {
      await assert.rejects(
        store.insertMemory('00000000-0000-4000-8000-000000000000', { content: 'x' }),
        (error: unknown) => error instanceof AppError && error.code === 'not_found',
      );
    });

    it('pages through memories newest first with a cursor, without gaps or repeats', async () => {
      const user = await store.createUser({});
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await store.insertMemory(user.id, { content: `memory ${i}` })).memory.id);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listMemories(user.id, { limit: 3, ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((m) => m.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, [...ids].reverse());
    });

    it('pages without skipping memories created within the same millisecond', async () => {
      const user = await store.createUser({});
      const saved = await store.insertMemories(
        user.id,
        Array.from({ length: 6 }, (_, i) => ({ content: `same instant ${i}` })),
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listMemories(user.id, { limit: 1, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((m) => m.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, saved.map((r) => r.memory.id).reverse());
    });

    it('rejects a cursor it did not issue with a bad_request', async () => {
      const user = await store.createUser({});
      await assert.rejects(
        store.listMemories(user.id, { limit: 3, cursor: 'garbage' }),
        (error: unknown) => error instanceof AppError && error.code === 'bad_request',
      );
    });

    it('deletes a memory once and bumps the data version', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'short-lived' });
      assert.equal(await store.deleteMemory(user.id, memory.id), true);
      assert.equal(await store.deleteMemory(user.id, memory.id), false);
      assert.equal(await store.getMemory(user.id, memory.id), null);
      assert.equal((await store.getUser(user.id))?.dataVersion, 2);
    });

    it('stores a batch of memories atomically: one bad item stores none', async () => {
      const user = await store.createUser({});
      const ok = await store.insertMemories(user.id, [{ content: 'one' }, { content: 'two' }]);
      assert.deepEqual(
        ok.map((r) => r.created),
        [true, true],
      );
      await assert.rejects(
        store.insertMemories(user.id, [
          { content: 'three' },
          { content: null as unknown as string },
        ]),
      );
      assert.equal((await store.listMemories(user.id, { limit: 10 })).items.length, 2);
      assert.equal((await store.getUser(user.id))?.dataVersion, 2);
    });

    it('finds a memory by key hash until the key is revoked', async () => {
      const user = await store.createUser({});
      const key = await store.insertApiKey(user.id, { hash: `h-${user.id}`, prefix: 'mem_abc' });
      assert.deepEqual(await store.findUserByKeyHash(`h-${user.id}`), {
        userId: user.id,
        keyId: key.id,
      });
      assert.equal(await store.revokeApiKey(key.id), true);
      assert.equal(await store.revokeApiKey(key.id), false);
      assert.equal(await store.findUserByKeyHash(`h-${user.id}`), null);
    });

    it('filters a listing by tag, time range and state', async () => {
      const user = await store.createUser({});
      const a = await store.insertMemory(user.id, { content: 'tagged', tags: ['work'] });
      await store.insertMemory(user.id, { content: 'plain' });
      const archived = await store.insertMemory(user.id, { content: 'old news', tags: ['work'] });
      await store.updateMemory(user.id, archived.memory.id, { state: 'archived' });
      const byTag = await store.listMemories(user.id, { limit: 10, tag: 'work', state: 'active' });
      assert.deepEqual(
        byTag.items.map((m) => m.id),
        [a.memory.id],
      );
      const future = await store.listMemories(user.id, {
        limit: 10,
        from: new Date(Date.now() + 60_000),
      });
      assert.equal(future.items.length, 0);
      const past = await store.listMemories(user.id, {
        limit: 10,
        to: new Date(Date.now() + 60_000),
      });
      assert.equal(past.items.length, 3);
      assert.deepEqual(
        (await store.recentMemories(user.id, 10)).map((m) => m.content),
        ['plain', 'tagged'],
      );
    });

    it('searches text by stemmed terms with BM25, per user, active only, tag-filtered, in batches', async () => {
      const user = await store.createUser({});
      const other = await store.createUser({});
      const save = async (content: string, tags: string[] = []) =>
        (await store.insertMemory(user.id, { content, tags })).memory.id;
      const hiking = await save('Went hiking in the Alps with my sister', ['travel']);
      const hikes = await save('Hikes are my favourite weekend plan; the Alps most of all');
      const sister = await save('My sister lives in Lisbon and teaches maths', ['family']);
      const archived = await save('Hiking boots need new laces');
      await store.updateMemory(user.id, archived, { state: 'archived' });
      for (let i = 0; i < 6; i++) await save(`Plain note number ${i} about lunch`);
      await store.insertMemory(other.id, { content: 'Hiking in the Alps, hiking every day' });

      const [byStem, rare, tagged, stopWords, empty, foreign] = await store.searchText([
        { userId: user.id, query: 'Where did I go hiking?', limit: 10 },
        { userId: user.id, query: 'lunch in Lisbon', limit: 10 },
        { userId: user.id, query: 'sister', limit: 10, tags: ['family'] },
        { userId: user.id, query: 'the of and to', limit: 10 },
        { userId: user.id, query: '   ', limit: 10 },
        { userId: 'not-a-uuid', query: 'hiking', limit: 10 },
      ]);
      // "hiking" and "hikes" share the stem; the archived and the other user's memories never come back.
      assert.deepEqual(new Set(byStem!.map((h) => h.id)), new Set([hiking, hikes]));
      // "Lisbon" is rare among the user's memories and "lunch" is common: the rare term ranks first.
      assert.equal(rare![0]!.id, sister);
      assert.equal(rare!.length, 7);
      assert.ok(rare!.every((h, i) => i === 0 || h.score <= rare![i - 1]!.score));
      assert.deepEqual(
        tagged!.map((h) => h.id),
        [sister],
      );
      assert.deepEqual(stopWords, []);
      assert.deepEqual(empty, []);
      assert.deepEqual(foreign, []);

      const limited = await store.searchText([{ userId: user.id, query: 'note lunch', limit: 2 }]);
      assert.equal(limited[0]!.length, 2);
      // Edits are searchable at once: the column follows the content.
      await store.updateMemory(user.id, sister, { content: 'My brother lives in Porto' });
      const [gone, found] = await store.searchText([
        { userId: user.id, query: 'Lisbon', limit: 5 },
        { userId: user.id, query: 'Porto brother', limit: 5 },
      ]);
      assert.deepEqual(gone, []);
      assert.deepEqual(
        found!.map((h) => h.id),
        [sister],
      );
    });

    it('edits content with a new revision and a pending index, and refuses a duplicate content', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'draft' });
      await store.insertMemory(user.id, { content: 'taken' });
      const edited = await store.updateMemory(user.id, memory.id, { content: 'final' });
      assert.equal(edited?.content, 'final');
      assert.equal(edited?.revision, 2);
      assert.equal(edited?.indexState, 'pending');
      // Metadata is in the payload the vector index filters on: a change is a new revision.
      const metaOnly = await store.updateMemory(user.id, memory.id, { metadata: { a: 1 } });
      assert.equal(metaOnly?.revision, 3);
      const nested = await store.updateMemory(user.id, memory.id, { metadata: { a: 1, b: {} } });
      assert.equal(nested?.revision, 3, 'no filter reads a nested value: no new revision');
      await assert.rejects(
        store.updateMemory(user.id, memory.id, { content: 'TAKEN' }),
        (error: unknown) => error instanceof AppError && error.code === 'conflict',
      );
      const other = await store.createUser({});
      assert.equal(await store.updateMemory(other.id, memory.id, { content: 'hijack' }), null);
      assert.equal((await store.getMemory(user.id, memory.id))?.content, 'final');
    });

    it('marks a revision indexed exactly once, and not after a newer edit', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'to index' });
      assert.equal(await store.markIndexed(user.id, memory.id, 1), true);
      assert.equal(await store.markIndexed(user.id, memory.id, 1), false);
      assert.equal((await store.getMemory(user.id, memory.id))?.indexState, 'indexed');
      await store.updateMemory(user.id, memory.id, { content: 'edited meanwhile' });
      assert.equal(await store.markIndexed(user.id, memory.id, 1), false);
      assert.equal(await store.markIndexed(user.id, memory.id, 2), true);
    });

    it('marks many revisions indexed in one call: each once, none after a newer edit', async () => {
      const user = await store.createUser({});
      const saved = await store.insertMemories(user.id, [
        { content: 'first to index' },
        { content: 'second to index' },
        { content: 'edited before marking' },
      ]);
      const [a, b, c] = saved.map((r) => r.memory);
      await store.updateMemory(user.id, c!.id, { content: 'edited meanwhile' });
      const version = (await store.getUser(user.id))!.dataVersion;
      const marks = [a!, b!, c!].map((m) => ({ memoryId: m.id, revision: 1 }));
      assert.deepEqual((await store.markIndexedMany(user.id, marks)).sort(), [a!.id, b!.id].sort());
      assert.equal((await store.getUser(user.id))?.dataVersion, version + 2);
      assert.deepEqual(await store.markIndexedMany(user.id, marks), []);
      assert.equal((await store.getMemory(user.id, c!.id))?.indexState, 'pending');
      assert.equal((await store.getMemory(user.id, a!.id))?.indexState, 'indexed');
      assert.deepEqual(await store.markIndexedMany((await store.createUser({})).id, marks), []);
    });

    it('stores content repeated within one batch once, in batch order', async () => {
      const user = await store.createUser({});
      const [old] = await store.insertMemories(user.id, [{ content: 'Already here' }]);
      const saved = await store.insertMemories(user.id, [
        { content: 'new one', tags: ['a', 'b'], metadata: { n: 1 } },
        { content: 'already  HERE' },
        { content: 'New one' },
        { content: 'another' },
      ]);
      assert.deepEqual(
        saved.map((r) => r.created),
        [true, false, false, true],
      );
      assert.equal(saved[1]!.memory.id, old!.memory.id);
      assert.equal(saved[2]!.memory.id, saved[0]!.memory.id);
      assert.deepEqual(saved[0]!.memory.tags, ['a', 'b']);
      assert.deepEqual(saved[0]!.memory.metadata, { n: 1 });
      const listed = (await store.listMemories(user.id, { limit: 10 })).items.map((m) => m.content);
      assert.deepEqual(listed, ['another', 'new one', 'Already here']);
      assert.equal((await store.getUser(user.id))?.dataVersion, 3);
    });

    it('lists unfinished index work: stale pending memories and tombstones until cleared', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'pending work' });
      const gone = await store.insertMemory(user.id, { content: 'deleted work' });
      await store.deleteMemory(user.id, gone.memory.id);
      const tasks = await store.staleIndexTasks(0, 1000);
      assert.ok(tasks.some((t) => t.memoryId === memory.id && !t.deleted && t.userId === user.id));
      assert.ok(tasks.some((t) => t.memoryId === gone.memory.id && t.deleted));
      await store.markIndexed(user.id, memory.id, 1);
      await store.clearTombstone(gone.memory.id);
      const after = await store.staleIndexTasks(0, 1000);
      assert.ok(!after.some((t) => t.memoryId === memory.id || t.memoryId === gone.memory.id));
      assert.ok(!(await store.staleIndexTasks(60_000, 1000)).some((t) => t.userId === user.id));
    });

    it('marks a memory failed once it was handed out maxRequests times at one revision', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'never indexable' });
      const mine = async () =>
        (await store.staleIndexTasks(0, 100_000, { maxRequests: 2 })).filter(
          (t) => t.userId === user.id,
        );
      assert.deepEqual(await mine(), [{ userId: user.id, memoryId: memory.id, deleted: false }]);
      assert.equal((await mine()).length, 1);
      assert.deepEqual(await mine(), [], 'the third time it is given up on');
      assert.equal((await store.getMemory(user.id, memory.id))?.indexState, 'failed');
      assert.deepEqual(await mine(), []);
    });

    it('counts the requests of each revision afresh: an edit earns new attempts', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'edited between tries' });
      const mine = async () => {
        // "Untouched for longer than 0 ms" is strict: a write in the same clock tick is not yet.
        await new Promise((resolve) => setTimeout(resolve, 5));
        return (await store.staleIndexTasks(0, 100_000, { maxRequests: 1 })).filter(
          (t) => t.userId === user.id,
        );
      };
      assert.equal((await mine()).length, 1);
      await store.updateMemory(user.id, memory.id, { content: 'edited, a new revision' });
      assert.equal((await mine()).length, 1, 'the new revision is asked for');
      assert.deepEqual(await mine(), []);
      assert.equal((await store.getMemory(user.id, memory.id))?.indexState, 'failed');
    });

    it("requeues failed memories: one user's in id order by page, or everyone's", async () => {
      const alice = await store.createUser({});
      const bob = await store.createUser({});
      const fail = async (userId: string, content: string) => {
        const { memory } = await store.insertMemory(userId, { content });
        await store.markIndexFailed(userId, memory.id);
        return memory.id;
      };
      const aliceIds = [await fail(alice.id, 'a one'), await fail(alice.id, 'a two')].sort();
      await store.insertMemory(alice.id, { content: 'a pending, not failed' });
      const bobId = await fail(bob.id, 'b one');

      const first = await store.requeueFailedIndexing({ userId: alice.id, limit: 1 });
      assert.deepEqual(first, [{ userId: alice.id, memoryId: aliceIds[0], deleted: false }]);
      const second = await store.requeueFailedIndexing({
        userId: alice.id,
        limit: 10,
        afterId: first[0]!.memoryId,
      });
      assert.deepEqual(
        second.map((t) => t.memoryId),
        [aliceIds[1]],
      );
      assert.deepEqual(await store.requeueFailedIndexing({ userId: alice.id, limit: 10 }), []);
      assert.equal((await store.getMemory(alice.id, aliceIds[0]!))?.indexState, 'pending');
      assert.equal((await store.getMemory(bob.id, bobId))?.indexState, 'failed', 'not bob');

      const everyone = await store.requeueFailedIndexing({ limit: 100_000 });
      assert.ok(everyone.some((t) => t.memoryId === bobId && t.userId === bob.id));
      assert.equal((await store.getMemory(bob.id, bobId))?.indexState, 'pending');
      assert.deepEqual(await store.requeueFailedIndexing({ userId: 'not-a-uuid', limit: 10 }), []);
    });

    it('hands a requeued memory out again with its attempts reset', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'failed, then fixed' });
      const mine = async () => {
        // "Untouched for longer than 0 ms" is strict: a write in the same clock tick is not yet.
        await new Promise((resolve) => setTimeout(resolve, 5));
        return (await store.staleIndexTasks(0, 100_000, { maxRequests: 1 })).filter(
          (t) => t.userId === user.id,
        );
      };
      assert.equal((await mine()).length, 1);
      assert.deepEqual(await mine(), []);
      assert.equal((await store.getMemory(user.id, memory.id))?.indexState, 'failed');
      assert.equal((await store.requeueFailedIndexing({ userId: user.id, limit: 10 })).length, 1);
      assert.equal((await mine()).length, 1, 'one more attempt after the requeue');
    });

    it("returns only the asking user's memories from a list of ids", async () => {
      const alice = await store.createUser({});
      const bob = await store.createUser({});
      const a = await store.insertMemory(alice.id, { content: 'a' });
      const b = await store.insertMemory(bob.id, { content: 'b' });
      const found = await store.getMemories(alice.id, [a.memory.id, b.memory.id, 'junk']);
      assert.deepEqual(
        found.map((m) => m.id),
        [a.memory.id],
      );
    });

    it('records activity at most once a minute per user', async () => {
      const user = await store.createUser({});
      assert.equal(user.lastActiveAt, null);
      await store.touchUser(user.id);
      const first = (await store.getUser(user.id))?.lastActiveAt;
      assert.ok(first instanceof Date);
      await store.touchUser(user.id);
      assert.deepEqual((await store.getUser(user.id))?.lastActiveAt, first);
    });

    it('versions narratives and returns the latest', async () => {
      const user = await store.createUser({});
      assert.equal(await store.latestNarrative(user.id), null);
      await store.saveNarrative(user.id, { content: 'first', dataVersion: 1, model: 'local' });
      const second = await store.saveNarrative(user.id, {
        content: 'second',
        dataVersion: 4,
        model: 'local',
      });
      assert.equal(second.version, 2);
      const latest = await store.latestNarrative(user.id);
      assert.equal(latest?.content, 'second');
      assert.equal(latest?.dataVersion, 4);
    });

    it('reads a cached plan back by key, and null for a key never stored', async () => {
      const user = await store.createUser({});
      const plan = { e: 1, v: { strategy: 'deep_understanding', queries: ['mémoire 🧠 "x"'] } };
      await store.putCachedPlan(user.id, `plan:${user.id}:v0:read-back`, plan, 60_000);
      assert.deepEqual(await store.getCachedPlan(`plan:${user.id}:v0:read-back`), plan);
      assert.equal(await store.getCachedPlan(`plan:${user.id}:v0:never-stored`), null);
    });

    it('replaces a cached plan stored twice under one key, with the later expiry', async () => {
      const user = await store.createUser({});
      const key = `plan:${user.id}:v0:replaced`;
      await store.putCachedPlan(user.id, key, { n: 1 }, 150);
      await store.putCachedPlan(user.id, key, { n: 2 }, 60_000);
      await sleep(400);
      assert.deepEqual(await store.getCachedPlan(key), { n: 2 });
    });

    it('stops returning a cached plan once its TTL has passed, and only that one', async () => {
      const user = await store.createUser({});
      await store.putCachedPlan(user.id, `plan:${user.id}:v0:short`, { n: 1 }, 150);
      await store.putCachedPlan(user.id, `plan:${user.id}:v0:long`, { n: 2 }, 60_000);
      await sleep(400);
      assert.equal(await store.getCachedPlan(`plan:${user.id}:v0:short`), null);
      assert.deepEqual(await store.getCachedPlan(`plan:${user.id}:v0:long`), { n: 2 });
    });

    it("leaves another user's cached plan alone when a put reuses its key", async () => {
      const alice = await store.createUser({});
      const mallory = await store.createUser({});
      const key = `plan:${alice.id}:v0:owned`;
      await store.putCachedPlan(alice.id, key, { owner: 'alice' }, 60_000);
      await store.putCachedPlan(mallory.id, key, { owner: 'mallory' }, 60_000);
      assert.deepEqual(await store.getCachedPlan(key), { owner: 'alice' });
    });

    it('refuses a cached plan for an unknown user, or text jsonb cannot hold, as AppErrors', async () => {
      await assert.rejects(
        store.putCachedPlan('00000000-0000-4000-8000-000000000000', 'plan:x:v0:y', {}, 60_000),
        (error: unknown) => error instanceof AppError && error.code === 'not_found',
      );
      const user = await store.createUser({});
      for (const q of ['a\u0000b', 'half a pair \ud83e']) {
        await assert.rejects(
          store.putCachedPlan(user.id, `plan:${user.id}:v0:refused`, { q }, 60_000),
          (error: unknown) => error instanceof AppError && error.code === 'bad_request',
        );
      }
      // A backslash followed by "u0000" is ordinary text.
      await store.putCachedPlan(user.id, `plan:${user.id}:v0:text`, { q: 'a\\u0000b' }, 60_000);
      assert.deepEqual(await store.getCachedPlan(`plan:${user.id}:v0:text`), { q: 'a\\u0000b' });
    });

    it('purges expired cached plans in batches of at most the limit, keeping live ones', async () => {
      const user = await store.createUser({});
      for (const n of [1, 2, 3]) {
        await store.putCachedPlan(user.id, `plan:${user.id}:v0:expired-${n}`, { n }, 100);
      }
      await store.putCachedPlan(user.id, `plan:${user.id}:v0:live`, { n: 4 }, 60_000);
      await sleep(300);
      assert.equal(await store.purgeExpiredPlans(2), 2);
      assert.ok((await store.purgeExpiredPlans(1000)) >= 1);
      assert.equal(await store.purgeExpiredPlans(1000), 0);
      assert.equal(await store.purgeExpiredPlans(0), 0);
      assert.deepEqual(await store.getCachedPlan(`plan:${user.id}:v0:live`), { n: 4 });
    });

    it('records a self-check once per workflow id, even when retried', async () => {
      const first = await store.recordSelfCheck({ workflowId: `wf-${Date.now()}`, note: 'a' });
      const retry = await store.recordSelfCheck({ workflowId: first.workflowId, note: 'b' });
      assert.equal(retry.id, first.id);
      assert.equal((await store.getSelfCheck(first.id))?.note, 'a');
    });

    it('saves one narrative per data version: a repeated or older save returns the current one', async () => {
      const user = await store.createUser({});
      const first = await store.saveNarrative(user.id, {
        content: 'a',
        dataVersion: 3,
        model: 'local',
      });
      const again = await store.saveNarrative(user.id, {
        content: 'b',
        dataVersion: 3,
        model: 'local',
      });
      const older = await store.saveNarrative(user.id, {
        content: 'c',
        dataVersion: 2,
        model: 'local',
      });
      assert.equal(again.version, first.version);
      assert.equal(older.version, first.version);
      assert.equal((await store.latestNarrative(user.id))?.content, 'a');
      const concurrent = await Promise.all(
        [1, 2, 3].map((n) =>
          store.saveNarrative(user.id, { content: `d${n}`, dataVersion: 5, model: 'local' }),
        ),
      );
      assert.equal(new Set(concurrent.map((n) => n.version)).size, 1);
      assert.equal((await store.latestNarrative(user.id))?.version, first.version + 1);
    });

    it('pages through the users active since a time, by id, leaving out inactive ones', async () => {
      const since = new Date(Date.now() - 60_000);
      const active = [];
      for (let i = 0; i < 3; i++) {
        const user = await store.createUser({});
        await store.touchUser(user.id);
        active.push(user.id);
      }
      const saver = await store.createUser({});
      await store.insertMemory(saver.id, { content: 'saving counts as activity' });
      active.push(saver.id);
      const idle = await store.createUser({});

      const seen: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await store.activeUsersSince(since, {
          limit: 2,
          ...(afterId ? { afterId } : {}),
        });
        assert.ok(page.length <= 2);
        seen.push(...page);
        if (page.length < 2) break;
        afterId = page[page.length - 1];
      }
      assert.deepEqual(seen, [...seen].sort(), 'pages come in id order');
      assert.equal(new Set(seen).size, seen.length, 'no user on two pages');
      for (const id of active) assert.ok(seen.includes(id), `active user ${id} listed`);
      assert.ok(!seen.includes(idle.id), 'a user never active is left out');
      assert.deepEqual(
        await store.activeUsersSince(new Date(Date.now() + 60_000), { limit: 10 }),
        [],
      );
    });

    it("pages every user, and a user's active memories, in id order", async () => {
      const user = await store.createUser({});
      const saved = await store.insertMemories(
        user.id,
        Array.from({ length: 5 }, (_, i) => ({ content: `paged memory ${i}` })),
      );
      const archived = saved[2]!.memory.id;
      await store.updateMemory(user.id, archived, { state: 'archived' });
      const seen: string[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await store.pageActiveMemories(user.id, {
          limit: 2,
          ...(afterId ? { afterId } : {}),
        });
        seen.push(...page.map((m) => m.id));
        if (page.length < 2) break;
        afterId = page[page.length - 1]!.id;
      }
      const active = saved.map((r) => r.memory.id).filter((id) => id !== archived);
      assert.deepEqual(seen, [...active].sort());
      assert.deepEqual(await store.pageActiveMemories('not-a-uuid', { limit: 5 }), []);

      const users: string[] = [];
      afterId = undefined;
      for (;;) {
        const page = await store.pageUsers({ limit: 50, ...(afterId ? { afterId } : {}) });
        users.push(...page);
        if (page.length < 50) break;
        afterId = page[page.length - 1];
      }
      assert.deepEqual(users, [...users].sort());
      assert.ok(users.includes(user.id));
    });

    it('applies consolidation a group at a time, skipping groups edited meanwhile', async () => {
      const user = await store.createUser({});
      const [a, b, c, d] = (
        await store.insertMemories(user.id, [
          { content: 'consolidated a', metadata: { source: 'chat' } },
          { content: 'consolidated b', tags: ['x'] },
          { content: 'consolidated c' },
          { content: 'consolidated d' },
        ])
      ).map((r) => r.memory);
      await store.updateMemory(user.id, c!.id, { content: 'consolidated c, edited' });
      const version = (await store.getUser(user.id))!.dataVersion;
      const groups = [
        [
          { memoryId: a!.id, revision: 1, archive: true, metadata: { merged_into: b!.id } },
          { memoryId: b!.id, revision: 1, tags: ['x', 'y'], metadata: { merged_from: [a!.id] } },
        ],
        [{ memoryId: c!.id, revision: 1, archive: true }],
        [{ memoryId: d!.id, revision: 1, archive: true, metadata: { retired_reason: 'expired' } }],
      ];
      const outcome = await store.applyConsolidation(user.id, groups);
      // Archived, retagged or with new metadata terms: what filters read changed, so a new revision.
      assert.deepEqual(outcome, { applied: [true, false, true], reindex: [a!.id, b!.id, d!.id] });
      assert.equal((await store.getUser(user.id))!.dataVersion, version + 1, 'bumped once');

      const read = new Map(
        (await store.getMemories(user.id, [a!.id, b!.id, c!.id, d!.id])).map((m) => [m.id, m]),
      );
      assert.equal(read.get(a!.id)?.state, 'archived');
      assert.deepEqual(read.get(a!.id)?.metadata, { source: 'chat', merged_into: b!.id });
      assert.equal(read.get(b!.id)?.state, 'active');
      assert.deepEqual(read.get(b!.id)?.tags, ['x', 'y']);
      assert.equal(read.get(b!.id)?.revision, 2, 'a tag change is a new revision');
      assert.equal(read.get(b!.id)?.indexState, 'pending');
      assert.equal(read.get(c!.id)?.state, 'active', 'edited meanwhile: left alone');
      assert.equal(read.get(d!.id)?.state, 'archived');
      for (const id of [a!.id, d!.id]) {
        assert.equal(read.get(id)?.revision, 2, 'archiving is a new revision to index');
        assert.equal(read.get(id)?.indexState, 'pending');
      }

      const again = await store.applyConsolidation(user.id, groups);
      assert.deepEqual(again, { applied: [false, false, false], reindex: [] });
      assert.equal((await store.getUser(user.id))!.dataVersion, version + 1, 'nothing changed');
      const stranger = await store.createUser({});
      assert.deepEqual(await store.applyConsolidation(stranger.id, [groups[2]!]), {
        applied: [false],
        reindex: [],
      });
      assert.equal((await store.getMemory(user.id, d!.id))?.revision, 2);
    });

    lifecycleCases(store);
    revisionCases(store);
    crossUserCases(store);
    textSearchCases(store);
  },
);
