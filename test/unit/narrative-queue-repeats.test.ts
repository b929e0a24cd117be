import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createTemporalNarrativeQueue } from '../../infra/temporal/temporal-narrative-queue.ts';

/** Records the users each signal-with-start carried; fails the calls `failNext` says. */
function recordingClient() {
  const signals: { userId: string; priority: string }[][] = [];
  let failNext = 0;
  const client = {
    workflow: {
      async signalWithStart(_wf: unknown, options: { signalArgs: [{ users: [] }] }) {
        if (failNext > 0) {
          failNext--;
          throw new Error('temporal is down');
        }
        signals.push(options.signalArgs[0].users);
        return {};
      },
    },
  } as unknown as Client;
  return { client, signals, failOnce: () => (failNext = 1) };
}

describe('narrative queue: repeated requests', () => {
  it('sends a user once per window at the same or a lower priority, again when more urgent', async () => {
    const { client, signals } = recordingClient();
    const queue = createTemporalNarrativeQueue(client, 'q', { coalesceMs: 0 });
    await queue.enqueue([{ userId: 'u1', priority: 'normal' }]);
    await queue.enqueue([{ userId: 'u1', priority: 'normal' }]);
    await queue.enqueue([{ userId: 'u1', priority: 'low' }]);
    assert.equal(signals.length, 1);
    await queue.enqueue([{ userId: 'u1', priority: 'high' }]);
    assert.deepEqual(signals[1], [{ userId: 'u1', priority: 'high' }]);
    await queue.enqueue([
      { userId: 'u1', priority: 'high' },
      { userId: 'u2', priority: 'high' },
    ]);
    assert.deepEqual(signals[2], [{ userId: 'u2', priority: 'high' }]);
    assert.equal(signals.length, 3);
    await queue.close();
  });

  it('sends again after the window, and every time with a window of 0', async () => {
    const short = recordingClient();
    const queue = createTemporalNarrativeQueue(short.client, 'q', {
      coalesceMs: 0,
      repeatWindowMs: 30,
    });
    await queue.enqueue([{ userId: 'u1', priority: 'high' }]);
    await new Promise((r) => setTimeout(r, 40));
    await queue.enqueue([{ userId: 'u1', priority: 'high' }]);
    assert.equal(short.signals.length, 2);

    const every = recordingClient();
    const unfiltered = createTemporalNarrativeQueue(every.client, 'q', {
      coalesceMs: 0,
      repeatWindowMs: 0,
    });
    for (let i = 0; i < 3; i++) await unfiltered.enqueue([{ userId: 'u1', priority: 'high' }]);
    assert.equal(every.signals.length, 3);
  });

  it('a request that was not delivered is sent by the next one', async () => {
    const { client, signals, failOnce } = recordingClient();
    const queue = createTemporalNarrativeQueue(client, 'q', { coalesceMs: 0 });
    failOnce();
    await assert.rejects(queue.enqueue([{ userId: 'u1', priority: 'high' }]), /temporal is down/);
    await queue.enqueue([{ userId: 'u1', priority: 'high' }]);
    assert.deepEqual(signals, [[{ userId: 'u1', priority: 'high' }]]);
  });
});

describe('narrative queue: urgent requests', () => {
  it('gathers normal and high requests made within the urgent window into one signal', async () => {
    const { client, signals } = recordingClient();
    const queue = createTemporalNarrativeQueue(client, 'q', { urgentCoalesceMs: 30 });
    const asked = [
      queue.enqueue([{ userId: 'u1', priority: 'high' }]),
      queue.enqueue([{ userId: 'u2', priority: 'normal' }]),
      queue.enqueue([{ userId: 'u1', priority: 'normal' }]),
    ];
    assert.equal(signals.length, 0, 'nothing is sent before the window ends');
    await Promise.all(asked);
    assert.deepEqual(signals, [
      [
        { userId: 'u1', priority: 'high' },
        { userId: 'u2', priority: 'normal' },
      ],
    ]);
    await queue.close();
  });

  it('flush sends gathered urgent requests at once, and a window of 0 sends each as it comes', async () => {
    const { client, signals } = recordingClient();
    const queue = createTemporalNarrativeQueue(client, 'q', { urgentCoalesceMs: 60_000 });
    const asked = queue.enqueue([{ userId: 'u1', priority: 'high' }]);
    await queue.flush();
    await asked;
    assert.deepEqual(signals, [[{ userId: 'u1', priority: 'high' }]]);

    const every = recordingClient();
    const direct = createTemporalNarrativeQueue(every.client, 'q', { urgentCoalesceMs: 0 });
    await direct.enqueue([{ userId: 'u1', priority: 'high' }]);
    assert.equal(every.signals.length, 1);
  });

  it('a failed urgent delivery rejects its requesters, and the next request sends the user again', async () => {
    const { client, signals, failOnce } = recordingClient();
    const queue = createTemporalNarrativeQueue(client, 'q', { urgentCoalesceMs: 10 });
    failOnce();
    await assert.rejects(queue.enqueue([{ userId: 'u1', priority: 'high' }]), /temporal is down/);
    await queue.enqueue([{ userId: 'u1', priority: 'high' }]);
    assert.deepEqual(signals, [[{ userId: 'u1', priority: 'high' }]]);
  });
});
