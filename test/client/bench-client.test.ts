import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryEngineError } from '../../client/src/index.ts';
import { apiClient, SETUP_CALL, userClient } from '../../bench/kit/http.ts';
import { ADMIN_KEY, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { startDelayingProxy, type DelayingProxy } from './delaying-proxy.ts';

async function rejection(work: Promise<unknown>): Promise<MemoryEngineError> {
  const error = await work.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(
    error instanceof MemoryEngineError,
    `expected a MemoryEngineError, got ${String(error)}`,
  );
  return error;
}

// The benchmarks time one request per call: their client (the typed client over
// node:http with kept-alive sockets) must not retry, must reuse connections, and
// must end a call at its timeout.
describe("the benchmarks' client of the API, against the real API", () => {
  let engine: TestEngine;
  let api: TestApi;
  /** The same store behind a rate limiter of 1 a second, burst 2. */
  let limited: TestApi;
  /** A relay to `api` that counts connections and can hold answers back. */
  let relay: DelayingProxy;

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { worker: false });
    const small = { perSecond: 1, burst: 2 };
    limited = await startTestApi(engine, {
      worker: false,
      rateLimit: { user: small, admin: small },
    });
    relay = await startDelayingProxy(api.url, 0);
  });
  after(async () => {
    await relay?.close();
    await limited?.stop();
    await api?.stop();
    await engine?.close();
  });

  it('answers a 429 at the first request, with its Retry-After, without waiting', async () => {
    const client = userClient(limited.url, (await createUser(api.url)).api_key);
    await client.memories.list();
    await client.memories.list();
    const started = performance.now();
    const error = await rejection(client.memories.list());
    assert.ok(performance.now() - started < 500, 'the 429 came back without a retry wait');
    assert.equal(error.status, 429);
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.attempts, 1);
    assert.equal(error.retryAfterMs, 1000);
    assert.ok(error.requestId);
  });

  it('waits a 429 out for calls around the measurement (SETUP_CALL)', async () => {
    const client = userClient(limited.url, (await createUser(api.url)).api_key);
    await client.memories.saveMany([{ content: 'first' }], SETUP_CALL);
    await client.memories.saveMany([{ content: 'second' }], SETUP_CALL);
    const saved = await client.memories.saveMany([{ content: 'third' }], SETUP_CALL);
    assert.equal(saved.ids.length, 1);
  });

  it('sends every call of a session over one kept-alive connection', async () => {
    const before = relay.connections;
    const admin = apiClient(relay.url, { adminKey: ADMIN_KEY });
    const user = userClient(relay.url, (await admin.admin.createUser()).api_key);
    const saved = await user.memories.save({ content: 'Ada keeps bees', tags: ['chat'] });
    assert.equal(saved.created, true);
    assert.equal((await user.memories.get(saved.id)).content, 'Ada keeps bees');
    await user.memories.delete(saved.id);
    assert.equal((await user.memories.list()).items.length, 0);
    assert.equal(relay.connections - before, 1, 'five calls, one connection');
  });

  it('ends a call at its timeout with client_timeout', async () => {
    const user = userClient(relay.url, (await createUser(api.url)).api_key);
    relay.delayMs = 1500;
    try {
      const started = performance.now();
      const error = await rejection(user.memories.list({}, { timeoutMs: 200 }));
      assert.equal(error.code, 'client_timeout');
      assert.ok(performance.now() - started < 1000, 'the call ended at its timeout');
    } finally {
      relay.delayMs = 0;
    }
  });
});
