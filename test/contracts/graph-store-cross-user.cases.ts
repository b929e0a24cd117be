import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { GraphStore, MemoryGraph } from '../../core/ports/graph-store.ts';

const named = (...names: string[]): MemoryGraph => ({
  entities: names.map((name) => ({ name, type: 'topic' })),
  relations: [],
});

/**
 * The graph store's contract for writing memories of several users in one
 * call (batch indexing): each user's graph gets only their own memories.
 * Called inside the graph-store contract.
 */
export function crossUserGraphCases(
  store: GraphStore,
  newUser: () => Promise<string>,
  newMemory: (userId: string) => Promise<string>,
): void {
  it('writes graphs of several users at once, each into its own user', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const [a1, a2, b1] = [await newMemory(alice), await newMemory(alice), await newMemory(bob)];
    await store.upsertMemoryGraph(alice, a2, named('Old Friend'));
    await store.upsertGraphsAcross([
      {
        userId: alice,
        memoryId: a1,
        graph: {
          entities: [
            { name: 'Lisbon', type: 'place' },
            { name: 'Maria', type: 'person' },
          ],
          relations: [{ from: 'Maria', to: 'Lisbon', type: 'LIVES_IN' }],
        },
      },
      { userId: bob, memoryId: b1, graph: named('Lisbon', 'Chess') },
      // Replaces a2's earlier graph: its entity no memory names any more goes.
      { userId: alice, memoryId: a2, graph: named('Chess') },
    ]);
    assert.deepEqual((await store.entityNames(alice, { limit: 10 })).sort(), [
      'Chess',
      'Lisbon',
      'Maria',
    ]);
    assert.deepEqual((await store.entityNames(bob, { limit: 10 })).sort(), ['Chess', 'Lisbon']);
    const bobs = await store.findMemories(bob, ['Lisbon', 'Maria'], { limit: 10, maxHops: 1 });
    assert.deepEqual(bobs, [{ memoryId: b1, entity: 'Lisbon', hops: 0 }]);
    const alices = await store.findMemories(alice, ['Maria'], { limit: 10, maxHops: 1 });
    assert.deepEqual(
      alices.map((h) => [h.memoryId, h.hops]),
      [[a1, 0]],
    );
    await store.upsertGraphsAcross([]);
  });
}
