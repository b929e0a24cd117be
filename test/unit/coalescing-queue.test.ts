import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCoalescingIndexingQueue } from '../../core/indexing/coalescing-queue.ts';
import type { IndexTarget } from '../../core/indexing/indexer.ts';
import type { IndexingQueue } from '../../core/ports/indexing-queue.ts';

function recordingQueue(fail = false) {
  const calls: { ids: string[]; force: boolean }[] = [];
  const queue: IndexingQueue = {
    async request(targets, options = {}) {
      calls.push({ ids: targets.map((t) => t.memoryId).sort(), force: options.force ?? false });
      if (fail) throw new Error('temporal unreachable');
    },
  };
  return { calls, queue };
}

const t = (userId: string, memoryId: string): IndexTarget => ({ userId, memoryId });

describe('coalescing indexing queue', () => {
  it('sends the requests of one window together, forced ones apart, each memory once', async () => {
    const { calls, queue } = recordingQueue();
    const coalescing = createCoalescingIndexingQueue(queue, {
      windowMs: 20,
      maxPending: 100,
      onError: () => assert.fail('no error expected'),
    });
    await coalescing.request([t('u1', 'a')]);
    await coalescing.request([t('u2', 'b'), t('u1', 'a')]);
    await coalescing.request([t('u1', 'c')], { force: true });
    assert.equal(calls.length, 0, 'nothing is sent before the window closes');
    await new Promise((r) => setTimeout(r, 40));
    await coalescing.flush();
    assert.deepEqual(calls, [
      { ids: ['a', 'b'], force: false },
      { ids: ['c'], force: true },
    ]);
  });

  it('reports a failed send instead of failing the save that asked', async () => {
    const { queue } = recordingQueue(true);
    const failed: string[][] = [];
    const coalescing = createCoalescingIndexingQueue(queue, {
      windowMs: 5,
      maxPending: 100,
      retries: 2,
      backoffMs: 1,
      onError: (_error, targets) => failed.push(targets.map((x) => x.memoryId)),
    });
    await coalescing.request([t('u1', 'a')]);
    await coalescing.flush();
    assert.deepEqual(failed, [['a']]);
  });

  it('tries a failed send again, and never has two sends in flight', async () => {
    let inFlight = 0;
    let most = 0;
    let failures = 1;
    const sent: string[][] = [];
    const coalescing = createCoalescingIndexingQueue(
      {
        async request(targets) {
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((r) => setTimeout(r, 10));
          inFlight--;
          if (failures-- > 0) throw new Error('deadline exceeded');
          sent.push(targets.map((x) => x.memoryId));
        },
      },
      { windowMs: 1, maxPending: 100, backoffMs: 1, onError: () => assert.fail('retried') },
    );
    await coalescing.request([t('u1', 'a')]);
    await new Promise((r) => setTimeout(r, 5));
    await coalescing.request([t('u2', 'b')]);
    await new Promise((r) => setTimeout(r, 5));
    await coalescing.request([t('u3', 'c')]);
    await coalescing.close();
    assert.equal(most, 1);
    assert.deepEqual(sent.flat().sort(), ['a', 'b', 'c']);
  });

  it('makes a request wait for the send once too many memories are gathered', async () => {
    const { calls, queue } = recordingQueue();
    const coalescing = createCoalescingIndexingQueue(queue, {
      windowMs: 60_000,
      maxPending: 3,
      onError: () => {},
    });
    await coalescing.request([t('u1', 'a'), t('u1', 'b')]);
    assert.equal(calls.length, 0);
    await coalescing.request([t('u1', 'c')]);
    assert.deepEqual(calls, [{ ids: ['a', 'b', 'c'], force: false }]);
    await coalescing.close();
  });

  it('flushes on close, and sends later requests straight through', async () => {
    const { calls, queue } = recordingQueue();
    const coalescing = createCoalescingIndexingQueue(queue, {
      windowMs: 60_000,
      maxPending: 100,
      onError: () => {},
    });
    await coalescing.request([t('u1', 'a')]);
    await coalescing.close();
    assert.deepEqual(calls, [{ ids: ['a'], force: false }]);
    await coalescing.request([t('u1', 'b')]);
    assert.deepEqual(calls[1], { ids: ['b'], force: false });
  });

  it('sends the first request after a quiet spell at once, and holds later ones for the window', async () => {
    const { calls, queue } = recordingQueue();
    const coalescing = createCoalescingIndexingQueue(queue, {
      windowMs: 60_000,
      maxPending: 100,
      onError: () => assert.fail('no error expected'),
    });
    await coalescing.request([t('u1', 'a')]);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, [{ ids: ['a'], force: false }], 'the first request went out at once');
    await coalescing.request([t('u2', 'b')]);
    await coalescing.request([t('u3', 'c')]);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(calls.length, 1, 'requests within the window wait for it');
    await coalescing.close();
    assert.deepEqual(calls[1], { ids: ['b', 'c'], force: false });
  });
});
