import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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

    it('records a self-check once per workflow id, even when retried', async () => {
      const first = await store.recordSelfCheck({ workflowId: `wf-${Date.now()}`, note: 'a' });
      const retry = await store.recordSelfCheck({ workflowId: first.workflowId, note: 'b' });
      assert.equal(retry.id, first.id);
      assert.equal((await store.getSelfCheck(first.id))?.note, 'a');
    });
  });
}
