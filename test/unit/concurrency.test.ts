import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settleAll, withTimeout } from '../../core/concurrency/limits.ts';
import { createSingleFlight } from '../../core/concurrency/single-flight.ts';
import { createTokenBucket } from '../../core/concurrency/token-bucket.ts';

describe('token bucket', () => {
  it('allows a burst of its capacity, then refills at its rate', () => {
    let now = 0;
    const bucket = createTokenBucket({ capacity: 2, refillPerSecond: 1, now: () => now });
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false);
    now = 1000;
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false);
  });

  it('refuses to wait longer than asked for a token', async () => {
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 0.1 });
    assert.equal(await bucket.take(0), true);
    assert.equal(await bucket.take(10), false);
  });
});

describe('single flight', () => {
  it('runs identical concurrent work once and shares the answer', async () => {
    const flights = createSingleFlight<number>();
    let runs = 0;
    const work = () => new Promise<number>((r) => setTimeout(() => r(++runs), 20));
    const answers = await Promise.all([1, 2, 3].map(() => flights.run('k', work).promise));
    assert.deepEqual(answers, [1, 1, 1]);
    assert.equal(flights.sharedCount(), 2);
    assert.equal(await flights.run('k', work).promise, 2);
  });
});

describe('settleAll and withTimeout', () => {
  it('bounds concurrency and settles failures without stopping the others', async () => {
    let inFlight = 0;
    let peak = 0;
    const task = (fail: boolean) => async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (fail) throw new Error('strategy failed');
      return 'ok';
    };
    const results = await settleAll([task(false), task(true), task(false), task(false)], 2);
    assert.equal(peak, 2);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
  });

  it('rejects a slow promise with a labelled timeout', async () => {
    await assert.rejects(
      withTimeout(new Promise(() => {}), 10, 'graph'),
      /graph timed out after 10 ms/,
    );
  });
});
