import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserPriorityQueue } from '../../core/narrative/priority-queue.ts';
import type { NarrativeRequest } from '../../core/ports/narrative-queue.ts';

function drain(queue: UserPriorityQueue, skip?: (userId: string) => boolean): string[] {
  const order: string[] = [];
  for (let next = queue.take(skip); next; next = queue.take(skip)) order.push(next.userId);
  return order;
}

describe('narrative priority queue', () => {
  it('serves high before normal before low, first come first served within a priority', () => {
    const queue = new UserPriorityQueue();
    const arrivals: NarrativeRequest[] = [
      { userId: 'l1', priority: 'low' },
      { userId: 'n1', priority: 'normal' },
      { userId: 'h1', priority: 'high' },
      { userId: 'l2', priority: 'low' },
      { userId: 'n2', priority: 'normal' },
      { userId: 'h2', priority: 'high' },
    ];
    for (const r of arrivals) assert.equal(queue.enqueue(r.userId, r.priority), 'added');
    assert.equal(queue.size, 6);
    assert.deepEqual(queue.peek(), [{ userId: 'h1', priority: 'high' }]);
    assert.deepEqual(drain(queue), ['h1', 'h2', 'n1', 'n2', 'l1', 'l2']);
    assert.equal(queue.size, 0);
    assert.equal(queue.take(), undefined);
  });

  it('raises a queued user to a higher priority, behind those already waiting there, without a duplicate', () => {
    const queue = new UserPriorityQueue();
    queue.enqueue('a', 'low');
    queue.enqueue('b', 'normal');
    queue.enqueue('c', 'low');
    queue.enqueue('d', 'normal');
    assert.equal(queue.enqueue('c', 'normal'), 'raised');
    assert.equal(queue.size, 4);
    assert.deepEqual(queue.peek(4), [
      { userId: 'b', priority: 'normal' },
      { userId: 'd', priority: 'normal' },
      { userId: 'c', priority: 'normal' },
      { userId: 'a', priority: 'low' },
    ]);
    assert.equal(queue.enqueue('a', 'high'), 'raised');
    assert.deepEqual(drain(queue), ['a', 'b', 'd', 'c']);
  });

  it('never lowers a priority nor moves a user back when the same or a lower priority is requested again', () => {
    const queue = new UserPriorityQueue();
    queue.enqueue('a', 'high');
    queue.enqueue('b', 'high');
    assert.equal(queue.enqueue('a', 'high'), 'unchanged');
    assert.equal(queue.enqueue('a', 'low'), 'unchanged');
    assert.deepEqual(queue.peek(2), [
      { userId: 'a', priority: 'high' },
      { userId: 'b', priority: 'high' },
    ]);
  });

  it('leaves users that are skipped (being worked on) queued and serves the next one', () => {
    const queue = new UserPriorityQueue();
    queue.enqueue('busy', 'high');
    queue.enqueue('free', 'low');
    const busy = (userId: string) => userId === 'busy';
    assert.equal(queue.hasTakeable(busy), true);
    assert.deepEqual(queue.take(busy), { userId: 'free', priority: 'low' });
    assert.equal(queue.hasTakeable(busy), false);
    assert.equal(queue.take(busy), undefined);
    assert.ok(queue.has('busy'));
    assert.deepEqual(drain(queue), ['busy']);
  });

  it('at capacity drops a request that does not outrank the last user, else displaces that user', () => {
    const queue = new UserPriorityQueue(3);
    queue.enqueue('h', 'high');
    queue.enqueue('n', 'normal');
    queue.enqueue('l', 'low');
    assert.equal(queue.enqueue('l2', 'low'), 'dropped');
    assert.equal(queue.enqueue('n', 'high'), 'raised', 'a queued user can still be raised');
    assert.equal(queue.enqueue('n2', 'normal'), 'displaced');
    assert.equal(queue.size, 3);
    assert.equal(queue.has('l'), false);
    assert.deepEqual(drain(queue), ['h', 'n', 'n2']);
  });

  it('round-trips through a JSON snapshot with the same serving order and further arrivals behind it', () => {
    const queue = new UserPriorityQueue();
    for (let i = 0; i < 30; i++) {
      queue.enqueue(`u${i}`, (['low', 'normal', 'high'] as const)[i % 3]!);
    }
    queue.enqueue('u0', 'high');
    const snapshot = JSON.parse(JSON.stringify(queue.snapshot()));
    const restored = UserPriorityQueue.fromSnapshot(snapshot);
    assert.deepEqual(restored.peek(30), queue.peek(30));
    restored.enqueue('late', 'high');
    restored.enqueue('u3', 'high');
    const order = drain(restored);
    const highs = snapshot.high.length;
    assert.deepEqual(order.slice(0, highs), drain(queue).slice(0, highs));
    assert.deepEqual(order.slice(highs, highs + 2), ['late', 'u3']);
    assert.equal(new Set(order).size, order.length);
  });

  it('stays ordered under many interleaved arrivals and raises', () => {
    const queue = new UserPriorityQueue();
    const priorities = ['high', 'normal', 'low'] as const;
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const best = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const userId = `u${Math.floor(random() * 500)}`;
      const rank = Math.floor(random() * 3);
      queue.enqueue(userId, priorities[rank]!);
      best.set(userId, Math.min(best.get(userId) ?? 3, rank));
    }
    const served = [];
    for (let next = queue.take(); next; next = queue.take()) served.push(next);
    assert.equal(served.length, best.size);
    for (const { userId, priority } of served) {
      assert.equal(priority, priorities[best.get(userId)!], `${userId} kept its highest priority`);
    }
    const ranks = served.map((r) => priorities.indexOf(r.priority));
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
    );
  });
});
