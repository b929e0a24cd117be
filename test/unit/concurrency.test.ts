import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settleAll, withTimeout } from '../../core/concurrency/limits.ts';
import { createSingleFlight } from '../../core/concurrency/single-flight.ts';
import { createTokenBucket } from '../../core/concurrency/token-bucket.ts';
import { createEnginePlans } from '../../core/engine/engine-planning.ts';
import type { LanguageModel } from '../../core/ports/language-model.ts';

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

  it("plans with the shared bucket the engine's settings carry, heuristically when it refuses", async () => {
    let modelCalls = 0;
    const model: LanguageModel = {
      id: 'fake',
      generate: async () => {
        modelCalls++;
        throw new Error('not reached');
      },
    };
    const asked: number[] = [];
    const shared = {
      take: async (maxWaitMs: number) => {
        asked.push(maxWaitMs);
        return false;
      },
    };
    const settings = { timeoutMs: 1000, ratePerSecond: 1000, burst: 1000, maxTokenWaitMs: 250 };
    // The plan service reads through get/set only; the rest of the tiered cache is not used here.
    const cache = {
      get: async () => ({ value: null, tier: 'miss' as const }),
      set: () => {},
    } as unknown as Parameters<typeof createEnginePlans>[2];
    const plans = createEnginePlans(model, { ...settings, bucket: shared }, cache);
    const outcome = await plans.plan('k', 'What did I say about the trip to Porto last spring?');
    assert.equal(outcome.fallbackReason, 'rate_limited');
    assert.equal(asked[0], 250, 'the shared bucket was asked, with the wait allowed');
    // The background planning of the fallen-back message asks the same bucket, never waiting.
    const deadline = Date.now() + 10_000;
    while (asked.length < 2) {
      assert.ok(Date.now() < deadline, 'the background planning asked the shared bucket too');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    plans.close();
    assert.ok(
      asked.slice(1).every((wait) => wait === 0),
      `background asks never wait: ${asked.join(', ')}`,
    );
    assert.equal(modelCalls, 0);
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
