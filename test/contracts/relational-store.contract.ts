import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../core/errors.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';

/**
 * The behaviour every relational-store adapter must show. Each adapter's
 * test file calls this with a factory for a fresh, migrated store.
 */
export function relationalStoreContract(
  adapter: string,
  createStore: () => Promise<RelationalStore>,
): void {
  describe(`relational store contract: ${adapter}`, () => {
    let store: RelationalStore;
    before(async () => {
      store = await createStore();
    });
    after(async () => {
      await store.close();
    });

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

    it('edits content with a new revision and a pending index, and refuses a duplicate content', async () => {
      const user = await store.createUser({});
      const { memory } = await store.insertMemory(user.id, { content: 'draft' });
      await store.insertMemory(user.id, { content: 'taken' });
      const edited = await store.updateMemory(user.id, memory.id, { content: 'final' });
      assert.equal(edited?.content, 'final');
      assert.equal(edited?.revision, 2);
      assert.equal(edited?.indexState, 'pending');
      const metaOnly = await store.updateMemory(user.id, memory.id, { metadata: { a: 1 } });
      assert.equal(metaOnly?.revision, 2);
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
  });
}
