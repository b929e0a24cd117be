import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MemoryEngineClient, MemoryEngineError, type RetryEvent } from '../../client/src/index.ts';
import { ADMIN_KEY, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { startDelayingProxy, type DelayingProxy } from './delaying-proxy.ts';

async function rejection(work: Promise<unknown>): Promise<MemoryEngineError> {
  try {
    await work;
  } catch (error) {
    assert.ok(
      error instanceof MemoryEngineError,
      `expected a MemoryEngineError, got ${String(error)}`,
    );
    return error;
  }
  assert.fail('expected the call to fail');
}

const since = (started: number) => Date.now() - started;

describe('the typed client: retries, timeouts, aborts and errors, against the real API', () => {
  let engine: TestEngine;
  let api: TestApi;
  /** The same store behind the API's own rate limiter, configured small: 2 at once, 1 a second. */
  let limited: TestApi;
  let slow: DelayingProxy;
  let relay: TcpProxy;

  /** A client of the rate-limited API for a new user, telling `events` about each retry. */
  async function limitedUser(events: RetryEvent[] = []) {
    const { api_key } = await createUser(api.url);
    return new MemoryEngineClient({
      baseUrl: limited.url,
      apiKey: api_key,
      onRetry: (event) => events.push(event),
    });
  }

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { worker: false });
    const small = { perSecond: 1, burst: 2 };
    limited = await startTestApi(engine, {
      worker: false,
      rateLimit: { user: small, admin: small },
    });
    slow = await startDelayingProxy(api.url, 1500);
    const { hostname, port } = new URL(api.url);
    relay = await startTcpProxy({ host: hostname, port: Number(port) });
  });
  after(async () => {
    await relay?.close();
    await slow?.close();
    await limited?.stop();
    await api?.stop();
    await engine?.close();
  });

  describe('429 from the rate limiter', () => {
    it('waits the Retry-After the API sent, then succeeds', async () => {
      const events: RetryEvent[] = [];
      const client = await limitedUser(events);
      await client.memories.list();
      await client.memories.list();
      const started = Date.now();
      const page = await client.memories.list();
      assert.deepEqual(page.items, []);
      assert.equal(events.length, 1);
      const [event] = events;
      assert.equal(event!.error.code, 'rate_limited');
      assert.equal(event!.error.status, 429);
      assert.equal(event!.error.retryAfterMs, 1000);
      assert.equal(event!.delayMs, 1000);
      assert.ok(event!.error.requestId);
      assert.ok(since(started) >= 950, `retried after ${since(started)} ms`);
    });

    it('is retried for requests that are not safe to repeat too: the limiter refuses before the route runs', async () => {
      const events: RetryEvent[] = [];
      const admin = new MemoryEngineClient({
        baseUrl: limited.url,
        adminKey: ADMIN_KEY,
        onRetry: (event) => events.push(event),
      });
      const users = [await admin.admin.createUser(), await admin.admin.createUser()];
      users.push(await admin.admin.createUser());
      assert.equal(new Set(users.map((u) => u.user_id)).size, 3);
      assert.deepEqual(
        events.map((e) => e.error.code),
        ['rate_limited'],
      );
    });

    it('with retries off, rejects with the code, status, Retry-After, details and request id', async () => {
      const client = await limitedUser();
      await client.memories.list();
      await client.memories.list();
      const error = await rejection(
        client.memories.list({}, { maxAttempts: 1, requestId: 'client-test-429' }),
      );
      assert.equal(error.code, 'rate_limited');
      assert.equal(error.status, 429);
      assert.equal(error.requestId, 'client-test-429');
      assert.equal(error.retryAfterMs, 1000);
      assert.equal(error.details?.retry_after_s, 1);
      assert.equal(error.attempts, 1);
    });

    it('does not start a wait that would outlast the call’s timeout', async () => {
      const client = await limitedUser();
      await client.memories.list();
      await client.memories.list();
      const started = Date.now();
      const error = await rejection(client.memories.list({}, { timeoutMs: 500 }));
      assert.equal(error.code, 'rate_limited');
      assert.ok(since(started) < 450, `gave up after ${since(started)} ms`);
    });

    it('stops waiting at once when the caller aborts during the Retry-After wait', async () => {
      const events: RetryEvent[] = [];
      const client = await limitedUser(events);
      await client.memories.list();
      await client.memories.list();
      const controller = new AbortController();
      const reason = new Error('user gave up');
      const started = Date.now();
      const call = client.memories.list({}, { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 150);
      const error = await rejection(call);
      assert.equal(error.code, 'aborted');
      assert.equal(error.status, null);
      assert.equal(error.cause, reason);
      assert.equal(events.length, 1);
      assert.ok(since(started) < 800, `aborted after ${since(started)} ms`);
    });
  });

  describe('timeouts and abort signals, through a proxy that delays the API’s answers by 1.5 s', () => {
    let key: string;
    before(async () => {
      key = (await createUser(api.url)).api_key;
    });

    it('rejects with client_timeout after the client’s timeout, not retried, with the request id it sent', async () => {
      const client = new MemoryEngineClient({ baseUrl: slow.url, apiKey: key, timeoutMs: 300 });
      const started = Date.now();
      const error = await rejection(
        client.search({ query: 'anything' }, { requestId: 'client-test-timeout' }),
      );
      assert.equal(error.code, 'client_timeout');
      assert.equal(error.status, null);
      assert.equal(error.requestId, 'client-test-timeout');
      assert.equal(error.attempts, 1);
      assert.ok(since(started) >= 280 && since(started) < 1200, `after ${since(started)} ms`);
    });

    it('lets one call take longer than the client’s timeout', async () => {
      const client = new MemoryEngineClient({ baseUrl: slow.url, apiKey: key, timeoutMs: 300 });
      const page = await client.memories.list({}, { timeoutMs: 10_000 });
      assert.deepEqual(page.items, []);
    });

    it('rejects with aborted when the caller’s signal fires mid-request', async () => {
      const client = new MemoryEngineClient({ baseUrl: slow.url, apiKey: key });
      const controller = new AbortController();
      const started = Date.now();
      const call = client.context({ message: 'what do I like?' }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const error = await rejection(call);
      assert.equal(error.code, 'aborted');
      assert.ok(since(started) < 1000, `after ${since(started)} ms`);
    });

    it('sends nothing when the signal has already fired', async () => {
      let requests = 0;
      const client = new MemoryEngineClient({
        baseUrl: api.url,
        apiKey: key,
        fetch: (input, init) => {
          requests++;
          return fetch(input, init);
        },
      });
      const error = await rejection(client.memories.list({}, { signal: AbortSignal.abort() }));
      assert.equal(error.code, 'aborted');
      assert.equal(error.attempts, 0);
      assert.equal(requests, 0);
    });
  });

  describe('errors', () => {
    it('carry the API’s code, message, status and the request id, given or generated', async () => {
      const client = new MemoryEngineClient({
        baseUrl: api.url,
        apiKey: (await createUser(api.url)).api_key,
      });
      const missing = randomUUID();
      const given = await rejection(client.memories.get(missing, { requestId: 'client-test-404' }));
      assert.equal(given.code, 'not_found');
      assert.equal(given.status, 404);
      assert.match(given.message, /not found/);
      assert.equal(given.requestId, 'client-test-404');
      const generated = await rejection(client.memories.get(missing));
      assert.match(generated.requestId ?? '', /^[0-9a-f-]{36}$/);

      const bad = await rejection(client.search({ query: '   ' }));
      assert.equal(bad.code, 'bad_request');
      assert.equal(bad.status, 400);
      assert.match(bad.message, /^body\.query: /);
      assert.deepEqual((bad.details?.issues as { path: string[] }[])[0]?.path, ['body', 'query']);

      const stranger = new MemoryEngineClient({ baseUrl: api.url, apiKey: 'mem_not-a-key' });
      const refused = await rejection(stranger.memories.list());
      assert.deepEqual([refused.code, refused.status], ['unauthorized', 401]);
    });

    it('say so without a request when the key a route needs is missing', async () => {
      const client = new MemoryEngineClient({ baseUrl: api.url });
      const error = await rejection(client.admin.createUser());
      assert.equal(error.code, 'missing_key');
      assert.equal(error.attempts, 0);
    });

    it('retry a network failure only for requests safe to repeat', async () => {
      const events: RetryEvent[] = [];
      const client = new MemoryEngineClient({
        baseUrl: `http://127.0.0.1:${relay.port}`,
        adminKey: ADMIN_KEY,
        retry: { baseDelayMs: 10 },
        onRetry: (event) => events.push(event),
      });
      await relay.down();
      try {
        const read = await rejection(client.health());
        assert.deepEqual([read.code, read.attempts, events.length], ['network_error', 3, 2]);
        const write = await rejection(client.admin.createUser());
        assert.deepEqual([write.code, write.attempts, events.length], ['network_error', 1, 2]);
      } finally {
        await relay.up();
      }
      assert.equal((await client.health()).status, 'ok');
    });

    it('retry a 503 for a request safe to repeat, after its Retry-After, and not otherwise', async () => {
      let answers = 0;
      const unavailable: typeof fetch = async () => {
        answers++;
        const body = {
          error: { code: 'dependency_unavailable', message: 'down', request_id: 'r' },
        };
        return answers % 3 === 0
          ? Response.json({ requeued: 0 })
          : Response.json(body, { status: 503, headers: { 'retry-after': '0' } });
      };
      const client = new MemoryEngineClient({ adminKey: 'k', fetch: unavailable });
      assert.deepEqual(await client.admin.reindex(), { requeued: 0 });
      assert.equal(answers, 3);
      const error = await rejection(client.admin.createUser());
      assert.deepEqual(
        [error.code, error.status, error.attempts],
        ['dependency_unavailable', 503, 1],
      );
    });
  });
});
