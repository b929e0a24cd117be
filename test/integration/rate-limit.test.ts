import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RateLimitOptions } from '../../api/rate-limit.ts';
import { startServer } from '../../api/server.ts';
import { createV1 } from '../../api/v1.ts';
import { createRedisRateLimiter } from '../../infra/cache/redis-rate-limiter.ts';
import { createRedisTokenBucket } from '../../infra/cache/redis-token-bucket.ts';
import { ensureRedisServer } from '../../tools/dev-services/redis-server.ts';
import { ADMIN_KEY, call, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';
import { edgeApp } from '../support/edge-app.ts';
import { postToolsList } from '../support/mcp-http.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** So slow that no token comes back during a test: what was taken stays taken. */
const NO_REFILL = 0.001;

interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

async function request(url: string, key: string, path = '/v1/memories'): Promise<Reply> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('per-user and admin rate limits on the real API', () => {
  let engine: TestEngine;
  let api: TestApi;
  const stops: (() => Promise<void>)[] = [];

  /** Another API over the same engine and store, with the given limits (another process, as far as HTTP goes). */
  async function limitedApi(rateLimit: RateLimitOptions): Promise<string> {
    const v1 = createV1({
      engine: api.engine,
      store: engine.store,
      limits: { maxMemoryChars: 5000, maxTags: 10 },
      adminApiKey: ADMIN_KEY,
      rateLimit,
    });
    const app = edgeApp({
      v1,
    });
    const server = await startServer(app, '127.0.0.1', 0);
    stops.push(async () => {
      await v1.mcp.close();
      await server.stop();
    });
    return server.url;
  }

  /** A new user's API key, made through the (unlimited) test API. */
  const newKey = async (): Promise<string> =>
    (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body.api_key;

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { worker: false });
  });
  after(async () => {
    for (const stop of stops) await stop();
    await api?.stop();
    await engine?.close();
  });

  it('answers the request past the burst with 429 rate_limited, Retry-After and the RateLimit fields; another key is unaffected; the bucket refills', async () => {
    let clock = 0;
    const url = await limitedApi({ user: { perSecond: 1, burst: 3 }, now: () => clock });
    const [alice, bob] = [await newKey(), await newKey()];

    for (const remaining of [2, 1, 0]) {
      const ok = await request(url, alice);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('ratelimit-policy'), '"user";q=3;w=3');
      assert.match(ok.headers.get('ratelimit') ?? '', new RegExp(`^"user";r=${remaining};t=\\d+$`));
    }
    const refused = await request(url, alice);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.match(refused.body.error.message, /at most 3 at once and 1 per second/);
    assert.equal(typeof refused.body.error.request_id, 'string');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.headers.get('ratelimit'), '"user";r=0;t=1');
    assert.equal(refused.headers.get('ratelimit-policy'), '"user";q=3;w=3');

    assert.equal((await request(url, bob)).status, 200, "bob's bucket is his own");

    clock += 1000;
    assert.equal((await request(url, alice)).status, 200, 'one token back after a second');
    assert.equal((await request(url, alice)).status, 429);
  });

  it('counts MCP requests against the same per-user bucket as /v1', async () => {
    const url = await limitedApi({ user: { perSecond: NO_REFILL, burst: 2 } });
    const key = await newKey();
    const first = await postToolsList(url, key);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('ratelimit') ?? '', /^"user";r=1;/);
    await first.text();
    assert.equal((await request(url, key)).status, 200);
    const refused = await postToolsList(url, key);
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as any).error.code, 'rate_limited');
    assert.equal((await request(url, key)).status, 429);
  });

  it('limits the admin key with a bucket of its own, apart from the users', async () => {
    const url = await limitedApi({
      user: { perSecond: NO_REFILL, burst: 5 },
      admin: { perSecond: NO_REFILL, burst: 2 },
    });
    const admin = (body = {}) => call(url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body });
    const created = await admin();
    assert.equal(created.status, 201);
    assert.equal((await admin()).status, 201);
    const refused = await admin();
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.match(refused.body.error.message, /admin key/);
    assert.equal((await request(url, created.body.api_key)).status, 200, 'users keep their own');
  });

  it('limits nothing and sends no RateLimit fields when switched off', async () => {
    const url = await limitedApi({ enabled: false, user: { perSecond: NO_REFILL, burst: 1 } });
    const key = await newKey();
    for (let i = 0; i < 5; i++) {
      const res = await request(url, key);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit'), null);
    }
  });

  describe('shared through Redis', () => {
    const redisUrl = requireTestEnv('TEST_REDIS_URL');

    async function sharedApi(t: TestContext, url: string, keyPrefix: string, burst: number) {
      const limiter = await createRedisRateLimiter({
        url,
        keyPrefix,
        policy: { perSecond: NO_REFILL, burst },
      });
      t.after(() => limiter.close());
      return { limiter, url: await limitedApi({ limiter }) };
    }

    it('makes two API instances enforce one limit per user', async (t) => {
      const prefix = `rl-test-${randomUUID()}:`;
      const a = await sharedApi(t, redisUrl, prefix, 4);
      const b = await sharedApi(t, redisUrl, prefix, 4);
      const [alice, bob] = [await newKey(), await newKey()];
      for (const api of [a, b, a, b]) assert.equal((await request(api.url, alice)).status, 200);
      const refusedA = await request(a.url, alice);
      assert.equal(refusedA.status, 429);
      assert.equal(refusedA.headers.get('ratelimit-policy'), '"user";q=4;w=4000');
      assert.equal((await request(b.url, alice)).status, 429, 'the other instance agrees');
      assert.equal((await request(b.url, bob)).status, 200, "bob's bucket is his own");
      assert.equal(a.limiter.fallbacks() + b.limiter.fallbacks(), 0);
    });

    it('falls back to the in-process bucket while Redis is down, counting it, and never fails a request', async (t) => {
      const server = await ensureRedisServer({ projectRoot: ROOT, log: (m) => t.diagnostic(m) });
      t.after(() => server.stop());
      const errors: Error[] = [];
      const limiter = await createRedisRateLimiter({
        url: server.url,
        policy: { perSecond: NO_REFILL, burst: 2 },
        onError: (error) => errors.push(error),
      });
      t.after(() => limiter.close());
      const url = await limitedApi({ limiter });
      const key = await newKey();
      await server.stop();

      assert.equal((await request(url, key)).status, 200);
      assert.equal((await request(url, key)).status, 200);
      const refused = await request(url, key);
      assert.equal(refused.status, 429, 'the in-process bucket still limits');
      assert.ok(limiter.fallbacks() >= 3, `fallbacks counted: ${limiter.fallbacks()}`);
      assert.ok(errors.length >= 1, 'the outage is reported');
    });
    it('shares the model planning bucket: two processes get one burst, and a wait reserves the next token', async (t) => {
      const key = `planning-test-${randomUUID()}`;
      const policy = { perSecond: 5, burst: 10 };
      const a = await createRedisTokenBucket({ url: redisUrl, key, policy });
      const b = await createRedisTokenBucket({ url: redisUrl, key, policy });
      t.after(() => Promise.all([a.close(), b.close()]));
      const granted = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take(0)),
      );
      assert.equal(granted.filter(Boolean).length, 10, 'one burst of 10, not 20');
      // 5/s: the next token is 200 ms away; a caller willing to wait gets it then.
      const started = performance.now();
      assert.equal(await a.take(1000), true);
      const waited = performance.now() - started;
      assert.ok(waited >= 100 && waited < 900, `waited ${Math.round(waited)} ms`);
      assert.equal(await b.take(50), false, 'the one after it is further away than 50 ms');
      assert.equal(a.fallbacks() + b.fallbacks(), 0);
    });

    it('plans from an in-process planning bucket while Redis is down', async (t) => {
      const server = await ensureRedisServer({ projectRoot: ROOT, log: (m) => t.diagnostic(m) });
      t.after(() => server.stop());
      const errors: Error[] = [];
      const bucket = await createRedisTokenBucket({
        url: server.url,
        policy: { perSecond: NO_REFILL, burst: 2 },
        onError: (error) => errors.push(error),
      });
      t.after(() => bucket.close());
      await server.stop();
      assert.deepEqual(await Promise.all([bucket.take(0), bucket.take(0), bucket.take(0)]), [
        true,
        true,
        false,
      ]);
      assert.equal(bucket.fallbacks(), 3);
      assert.ok(errors.length >= 1, 'the outage is reported');
    });
  });
});
