import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TieredCache } from '../../core/cache/tiered-cache.ts';
import { newConversation } from '../../core/context/new-conversation.ts';
import { createEngineRetrieval } from '../../core/engine/engine-retrieval.ts';
import type { EnginePorts } from '../../core/engine/engine-types.ts';
import type { Memory, RelationalStore } from '../../core/ports/relational-store.ts';
import { memoryFixture } from '../support/memory-fixture.ts';

const memory = (id: string, extra: Partial<Memory> = {}) => memoryFixture(id, 'u1', extra);

/** A store over `rows` that counts its reads of memories by id and of recent memories. */
function countingStore(rows: Memory[]) {
  const reads: string[][] = [];
  let recentReads = 0;
  const store = {
    async getMemories(_userId: string, ids: readonly string[]) {
      reads.push([...ids]);
      return rows.filter((m) => ids.includes(m.id));
    },
    async recentMemories(_userId: string, limit: number) {
      recentReads++;
      return rows.filter((m) => m.state === 'active').slice(0, limit);
    },
    async latestNarrative() {
      return null;
    },
  };
  return { reads, store, recentReads: () => recentReads };
}

function retrievalOver(store: object) {
  const ports = { store, graph: {}, spaces: { serving: () => null } } as unknown as EnginePorts;
  const settings = { vectorBatching: { enabled: false, windowMs: 0, maxBatch: 1 } };
  return createEngineRetrieval(ports, settings, {} as TieredCache<number[]>).deps;
}

describe('memories as of a data version', () => {
  it('reads each memory once per version, and only the ones it does not hold', async () => {
    const { reads, store } = countingStore([memory('a'), memory('b'), memory('c')]);
    const deps = retrievalOver(store);
    const ids = (ms: Memory[]) => ms.map((m) => m.id).sort();
    assert.deepEqual(ids(await deps.memoriesAsOf('u1', ['a', 'b'], 4)), ['a', 'b']);
    assert.deepEqual(ids(await deps.memoriesAsOf('u1', ['b', 'c', 'c'], 4)), ['b', 'c']);
    assert.deepEqual(reads, [['a', 'b'], ['c']]);
    await deps.memoriesAsOf('u1', ['a'], 5);
    await deps.memoriesAsOf('u2', ['a'], 5);
    assert.deepEqual(reads.slice(2), [['a'], ['a']], 'a new version or another user reads again');
  });

  it('asks again for an id it did not find, and leaves out what has expired since', async () => {
    const soon = new Date(Date.now() + 60_000);
    const { reads, store } = countingStore([memory('a', { expiresAt: soon })]);
    const deps = retrievalOver(store);
    await deps.memoriesAsOf('u1', ['a', 'gone'], 1);
    assert.equal((await deps.memoriesAsOf('u1', ['a', 'gone'], 1)).length, 1);
    assert.deepEqual(reads, [['a', 'gone'], ['gone']]);
    const later = Date.now() + 120_000;
    const realNow = Date.now;
    Date.now = () => later;
    try {
      assert.deepEqual(await deps.memoriesAsOf('u1', ['a'], 1), [], 'expired in the meantime');
    } finally {
      Date.now = realNow;
    }
  });

  it('lets a conversation opened again at the same version read nothing', async () => {
    const rows = [memory('new'), memory('old')];
    const { reads, store, recentReads } = countingStore(rows);
    const deps = { ...retrievalOver(store), store: store as unknown as RelationalStore };
    const open = () => newConversation(deps, 'u1', 9, 5);
    const first = await open();
    const again = await open();
    assert.deepEqual(
      again.memories.map((m) => m.memory.id),
      ['new', 'old'],
    );
    assert.deepEqual(again, first);
    assert.equal(recentReads(), 1);
    assert.equal(reads.length, 0, 'the rows came with the ranking: none is read by id');
    await newConversation(deps, 'u1', 10, 5);
    assert.equal(recentReads(), 2, 'a new version reads again');
  });
});
