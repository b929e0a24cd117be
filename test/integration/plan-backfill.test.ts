import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deepPlan, planningResponder, startEmulatedEngine } from '../support/emulated-model.ts';
import { call, createUser, startTestApi } from '../support/test-api.ts';

const PLAN = deepPlan(['marathon training plan', 'running injuries'], true);

describe('a complex message planned heuristically while the model was busy', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    // One planning call a second, no burst, and requests that will not wait for a token.
    s = await setup({ MODEL_RATE_PER_S: '1', MODEL_BURST: '1', MODEL_TOKEN_WAIT_MS: '1' });
  });
  after(() => s.stop());

  it('is planned by the model in the background, so its repeat is served from the plan cache', async () => {
    const first = await s.ask(
      'How should I adapt my marathon training given how my knee has been?',
    );
    assert.equal(first.plan.source, 'model');
    const message = 'Why do I keep losing motivation for my long runs, and what should change?';
    const busy = await s.ask(message);
    assert.equal(busy.plan.source, 'heuristic');
    assert.equal(busy.plan.fallback, 'rate_limited');
    assert.equal(busy.model_calls, 0);

    // The next token goes to the background call; wait for its plan to land in L1.
    const deadline = Date.now() + 20_000;
    while ((s.api.engine.caches.plan.stats().lru?.entries ?? 0) < 2) {
      assert.ok(Date.now() < deadline, 'the background plan reached the plan cache');
      await sleep(100);
    }
    const repeat = await s.ask(message);
    assert.equal(repeat.plan.source, 'cache');
    assert.equal(repeat.cache.plan, 'l1');
    assert.equal(repeat.model_calls, 0);
    assert.deepEqual(repeat.plan.queries, PLAN.queries);
    assert.equal(s.emulator.stats().generateContent.calls, 2, 'one call for each message, none for the repeat'); // prettier-ignore
  });
});

async function setup(env: Record<string, string>) {
  const { emulator, engine, close } = await startEmulatedEngine(planningResponder(PLAN), env);
  const api = await startTestApi(engine);
  const user = await createUser(api.url);
  const ask = async (message: string) =>
    (await call(api.url, 'POST', '/v1/context', { key: user.api_key, body: { message } })).body;
  const stop = async () => {
    await api.stop();
    await close();
  };
  return { emulator, api, ask, stop };
}
