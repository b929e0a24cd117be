import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RelationalStore } from '../../core/ports/relational-store.ts';

/**
 * The relational store's contract for calls that name memories of several
 * users at once (batch indexing): each memory is only ever read or marked as
 * its own user's. Called inside the relational-store contract.
 */
export function crossUserCases(store: RelationalStore): void {
  it("reads memories of several users at once, each only as its own user's", async () => {
    const [alice, bob] = [await store.createUser({}), await store.createUser({})];
    const [a] = await store.insertMemories(alice.id, [{ content: 'alice writes' }]);
    const [b] = await store.insertMemories(bob.id, [{ content: 'bob writes' }]);
    const found = await store.getMemoriesOf([
      { userId: alice.id, memoryId: a!.memory.id },
      { userId: bob.id, memoryId: b!.memory.id },
      // Bob naming Alice's memory, a malformed id and an unknown user find nothing.
      { userId: bob.id, memoryId: a!.memory.id },
      { userId: alice.id, memoryId: 'not-a-uuid' },
      { userId: '00000000-0000-4000-8000-000000000000', memoryId: b!.memory.id },
    ]);
    assert.deepEqual(
      found.map((m) => [m.userId, m.content]).sort(),
      [
        [alice.id, 'alice writes'],
        [bob.id, 'bob writes'],
      ].sort(),
    );
    assert.deepEqual(await store.getMemoriesOf([]), []);
  });

  it('marks revisions of several users indexed at once, bumping each user by their own count', async () => {
    const [alice, bob] = [await store.createUser({}), await store.createUser({})];
    const [a1, a2] = await store.insertMemories(alice.id, [
      { content: 'a one' },
      { content: 'a two' },
    ]);
    const [b1] = await store.insertMemories(bob.id, [{ content: 'b one' }]);
    await store.updateMemory(alice.id, a2!.memory.id, { content: 'a two, edited' });
    const versions = async () =>
      Promise.all([alice, bob].map(async (u) => (await store.getUser(u.id))!.dataVersion));
    const [va, vb] = await versions();
    const marks = [
      { userId: alice.id, memoryId: a1!.memory.id, revision: 1 },
      { userId: alice.id, memoryId: a2!.memory.id, revision: 1 }, // edited since: not recorded
      { userId: bob.id, memoryId: b1!.memory.id, revision: 1 },
      { userId: bob.id, memoryId: a1!.memory.id, revision: 1 }, // not Bob's
    ];
    const recorded = await store.markIndexedAcross(marks);
    assert.deepEqual(
      recorded.map((r) => `${r.userId}/${r.memoryId}`).sort(),
      [`${alice.id}/${a1!.memory.id}`, `${bob.id}/${b1!.memory.id}`].sort(),
    );
    assert.deepEqual(await versions(), [va! + 1, vb! + 1]);
    assert.deepEqual(await store.markIndexedAcross(marks), [], 'each revision once');
    assert.deepEqual(await versions(), [va! + 1, vb! + 1]);
    assert.equal((await store.getMemory(alice.id, a2!.memory.id))?.indexState, 'pending');
    assert.equal((await store.getMemory(bob.id, b1!.memory.id))?.indexState, 'indexed');
  });
}
