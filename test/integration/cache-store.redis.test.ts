import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.ts';
import type { CacheStore } from '../../core/ports/cache-store.ts';
import { createRedisCacheStore } from '../../infra/cache/redis-cache-store.ts';
import { ensureRedisServer, type RedisServer } from '../../tools/dev-services/redis-server.ts';
import { cacheStoreContract } from '../contracts/cache-store.contract.ts';
import { requireTestEnv } from '../support/test-env.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const url = requireTestEnv('TEST_REDIS_URL');

cacheStoreContract('Redis', (keyPrefix) => createRedisCacheStore({ url, keyPrefix }));

/** Only a generous guard: a call that hangs fails the test instead of stalling the run. */
const SETTLE_GUARD_MS = 10_000;

function settlesWithin<T>(promise: Promise<T>, ms = SETTLE_GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

function isUnavailable(error: unknown): boolean {
  return error instanceof AppError && error.code === 'dependency_unavailable';
}

async function rejectsAsUnavailable(call: Promise<unknown>): Promise<void> {
  await assert.rejects(settlesWithin(call), isUnavailable);
}

/** Waits (up to the guard) for the background reconnect to bring the store back. */
async function untilAnswering(store: CacheStore): Promise<void> {
  const deadline = Date.now() + SETTLE_GUARD_MS;
  for (;;) {
    try {
      await store.ping();
      return;
    } catch (error) {
      assert.ok(isUnavailable(error), `unexpected failure: ${String(error)}`);
      if (Date.now() > deadline) throw new Error('the store did not reconnect in time');
      await sleep(100);
    }
  }
}

async function privateServer(t: TestContext, port?: number): Promise<RedisServer> {
  const server = await ensureRedisServer({
    projectRoot,
    log: (msg) => t.diagnostic(msg),
    ...(port === undefined ? {} : { port }),
  });
  t.after(() => server.stop());
  return server;
}

describe('Redis cache store when its server fails', () => {
  it('rejects calls with dependency_unavailable while the server is down, then recovers when it returns on the same port', async (t) => {
    const first = await privateServer(t);
    const errors: Error[] = [];
    const store = await createRedisCacheStore({
      url: first.url,
      keyPrefix: `outage-${randomUUID()}:`,
      onError: (error) => errors.push(error),
    });
    t.after(() => store.close());
    await store.set('before', 'kept in memory only', 60_000);

    await first.stop();
    await rejectsAsUnavailable(store.get('before'));
    await rejectsAsUnavailable(store.set('during', 'x', 60_000));
    await rejectsAsUnavailable(store.getMany(['before', 'during']));
    await rejectsAsUnavailable(store.delete(['before']));
    await rejectsAsUnavailable(store.ping());

    await privateServer(t, first.port);
    await untilAnswering(store);
    // Nothing was persisted, so the restarted server starts empty.
    assert.equal(await store.get('before'), null);
    await store.set('after', 'back', 60_000);
    assert.equal(await store.get('after'), 'back');
    assert.equal(errors.length, 1, 'one outage is reported once, not once per reconnect attempt');
  });

  it('times out a call to a server that stopped answering, and stays in step once it answers again', async (t) => {
    const server = await privateServer(t);
    const store = await createRedisCacheStore({
      url: server.url,
      keyPrefix: `hung-${randomUUID()}:`,
      commandTimeoutMs: 300,
    });
    t.after(() => store.close());
    await store.set('a', 'value of a', 60_000);
    await store.set('b', 'value of b', 60_000);

    process.kill(server.pid, 'SIGSTOP');
    try {
      await rejectsAsUnavailable(store.get('a'));
      await rejectsAsUnavailable(store.set('c', 'value of c', 60_000));
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }

    // Late replies to the timed-out calls must not be handed to later calls.
    await untilAnswering(store);
    assert.equal(await store.get('b'), 'value of b');
    assert.deepEqual(await store.getMany(['a', 'b']), ['value of a', 'value of b']);
  });

  it('refuses to start against a server that is not there, naming it', async (t) => {
    const gone = await privateServer(t);
    await gone.stop();
    await assert.rejects(
      settlesWithin(createRedisCacheStore({ url: gone.url })),
      (error: unknown) => isUnavailable(error) && String(error).includes(`:${gone.port}`),
    );
  });

  it('with allowStartOffline, starts without a server and works once one appears', async (t) => {
    const gone = await privateServer(t);
    await gone.stop();
    const store = await settlesWithin(
      createRedisCacheStore({
        url: gone.url,
        keyPrefix: `late-${randomUUID()}:`,
        allowStartOffline: true,
      }),
    );
    t.after(() => store.close());
    await rejectsAsUnavailable(store.get('anything'));

    await privateServer(t, gone.port);
    await untilAnswering(store);
    await store.set('k', 'v', 60_000);
    assert.equal(await store.get('k'), 'v');
  });

  it('rejects calls after close instead of hanging', async () => {
    const store = await createRedisCacheStore({ url, keyPrefix: `closed-${randomUUID()}:` });
    await store.close();
    await rejectsAsUnavailable(store.get('k'));
  });
});
