import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INDEX_SHARDS, shardOfUser } from '../../core/indexing/shards.ts';
import { FairPending } from '../../workflows/index-shard.state.ts';

describe('shardOfUser', () => {
  it('maps a user to the same shard every time, within range', () => {
    for (let i = 0; i < 200; i++) {
      const id = `user-${i}-${'x'.repeat(i % 7)}`;
      const shard = shardOfUser(id);
      assert.ok(Number.isInteger(shard) && shard >= 0 && shard < INDEX_SHARDS, `${shard}`);
      assert.equal(shardOfUser(id), shard);
    }
  });

  it('spreads users over every shard', () => {
    const counts = new Array<number>(INDEX_SHARDS).fill(0);
    for (let i = 0; i < 800; i++) counts[shardOfUser(crypto.randomUUID())]!++;
    assert.ok(
      counts.every((n) => n > 40),
      `800 users over ${INDEX_SHARDS} shards: ${counts.join(', ')}`,
    );
  });
});

describe('FairPending', () => {
  const targets = (userId: string, n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({ userId, memoryId: `${userId}-${from + i}` }));

  it("gives a user with one memory a place in the next batch, whatever another user's flood", () => {
    const pending = new FairPending(targets('flood', 1000));
    pending.add(targets('quiet', 1));
    const batch = pending.take(32);
    assert.equal(batch.length, 32);
    assert.ok(
      batch.some((t) => t.userId === 'quiet'),
      'the quiet user is in the first batch',
    );
    assert.equal(pending.size, 1000 + 1 - 32);
  });

  it('takes round-robin across users and moves the served ones to the back', () => {
    const pending = new FairPending([...targets('a', 3), ...targets('b', 3), ...targets('c', 3)]);
    assert.deepEqual(
      pending.take(4).map((t) => t.memoryId),
      ['a-0', 'b-0', 'c-0', 'a-1'],
    );
    // b and c were served fewer times: they come first now.
    assert.deepEqual(
      pending.take(3).map((t) => t.memoryId),
      ['b-1', 'c-1', 'a-2'],
    );
    assert.deepEqual(
      pending.take(10).map((t) => t.memoryId),
      ['b-2', 'c-2'],
    );
    assert.ok(pending.isEmpty());
    assert.equal(pending.userCount, 0);
  });

  it('keeps each memory once, forced when any request forced it, across continue-as-new', () => {
    const pending = new FairPending(targets('a', 2));
    pending.add([{ userId: 'a', memoryId: 'a-0', force: true }, ...targets('a', 2)]);
    assert.equal(pending.size, 2);
    const carried = new FairPending(pending.drain());
    assert.ok(pending.isEmpty());
    assert.deepEqual(carried.take(5), [
      { userId: 'a', memoryId: 'a-0', force: true },
      { userId: 'a', memoryId: 'a-1' },
    ]);
  });
});
