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
