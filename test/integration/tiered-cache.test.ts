import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createByteLruCache, type ByteLruCache } from '../../core/cache/byte-lru-cache.ts';
import { cacheKey, normalizeMessage } from '../../core/cache/cache-keys.ts';
import {
  createTieredCache,
  relationalPlanTier,
  type RecordTier,
  type TieredCacheOptions,
} from '../../core/cache/tiered-cache.ts';
import type { CacheStore } from '../../core/ports/cache-store.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { createRedisCacheStore } from '../../infra/cache/redis-cache-store.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { ensureRedisServer } from '../../tools/dev-services/redis-server.ts';
import { requireTestEnv } from '../support/test-env.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const url = requireTestEnv('TEST_REDIS_URL');

const MINUTE = 60_000;
// Generous, so a loaded machine does not turn a slow hit into a skipped tier; the outage
// tests set their own.
const READ_TIMEOUT_MS = 2_000;

interface Plan {
  strategy: string;
  queries: string[];
}

const planFor = (message: string): Plan => ({
  strategy: 'deep_understanding',
  queries: [normalizeMessage(message)],
});

/** One API process's view of the plan cache: its own L1 over the shared L2 and L3. */
function processCache(
  tiers: { l1?: ByteLruCache<Plan> | null; l2: CacheStore | null; l3: RecordTier | null },
  overrides: Partial<TieredCacheOptions<Plan>> = {},
) {
  const l1 =
    tiers.l1 === undefined
      ? createByteLruCache<Plan>({ name: 'plans', maxBytes: 1_000_000, ttlMs: MINUTE })
      : tiers.l1;
  const cache = createTieredCache<Plan>({
    name: 'plans',
    l1,
    l2: tiers.l2,
    l3: tiers.l3,
    ttlMs: MINUTE,
    enabled: true,
    readTimeoutMs: READ_TIMEOUT_MS,
    ...overrides,
  });
  return { cache, l1 };
}

describe('tiered cache over Redis (L2) and the relational store (L3)', () => {
  let store: RelationalStore;
  let redis: CacheStore;
  let l3: RecordTier;
  let userId: string;
  const keyFor = (message: string) => cacheKey('plan', userId, 0, normalizeMessage(message));
  /** What L2 holds under a key, decoded, or null. */
  const inRedis = async (key: string) => {
    const text = await redis.get(key);
    return text === null ? null : (JSON.parse(text) as { e: number; v: unknown });
  };

  before(async () => {
    store = await createSqlRelationalStore(await createPgliteDriver('memory://'));
    redis = await createRedisCacheStore({ url, keyPrefix: `tiered-${randomUUID()}:` });
    l3 = relationalPlanTier(store);
    userId = (await store.createUser({ name: 'tiers' })).id;
  });
  after(async () => {
    await redis.close();
    await store.close();
  });

  it('writes an entry through to every tier with one key and one expiry', async () => {
    const { cache, l1 } = processCache({ l2: redis, l3 });
    const key = keyFor('Where do I live?');
    const plan = planFor('Where do I live?');
    const before = Date.now();

    cache.set(key, plan);
    await cache.flush();

    assert.deepEqual(l1?.get(key), plan);
    const l2Record = await inRedis(key);
    const l3Record = (await store.getCachedPlan(key)) as { e: number; v: unknown } | null;
    assert.deepEqual(l2Record?.v, plan);
    assert.deepEqual(l3Record?.v, plan);
    assert.equal(l2Record?.e, l3Record?.e);
    assert.ok(l2Record && l2Record.e >= before + MINUTE);
    assert.deepEqual(await cache.get(key), { value: plan, tier: 'l1' });
    assert.equal(cache.stats().l2?.writes, 1);
    assert.equal(cache.stats().l3?.writes, 1);
  });

  it('lets a second process with an empty L1 read the entry from L2, then from its own L1', async () => {
    const first = processCache({ l2: redis, l3 });
    const second = processCache({ l2: redis, l3 });
    const key = keyFor('what do I do for work');
    first.cache.set(key, planFor('what do I do for work'));
    await first.cache.flush();

    assert.deepEqual(await second.cache.get(key), {
      value: planFor('what do I do for work'),
      tier: 'l2',
    });
    assert.equal((await second.cache.get(key)).tier, 'l1');
    const stats = second.cache.stats();
    assert.deepEqual(
      [stats.l1?.misses, stats.l1?.hits, stats.l2?.hits, stats.l3?.hits],
      [1, 1, 1, 0],
    );
  });

  it('answers from L3 once L1 and L2 have lost the entry, and refills both', async () => {
    const { cache, l1 } = processCache({ l2: redis, l3 });
    const key = keyFor('who is my sister');
    const plan = planFor('who is my sister');
    cache.set(key, plan);
    await cache.flush();
    l1?.clear();
    await redis.delete([key]);

    assert.deepEqual(await cache.get(key), { value: plan, tier: 'l3' });
    await cache.flush();
    assert.deepEqual((await inRedis(key))?.v, plan, 'L2 was refilled');
    assert.equal((await cache.get(key)).tier, 'l1', 'L1 was refilled');
  });

  it('answers miss when no tier has the entry, counting a miss on each', async () => {
    const { cache } = processCache({ l2: redis, l3 });
    assert.deepEqual(await cache.get(keyFor('never asked before')), { value: null, tier: 'miss' });
    const stats = cache.stats();
    assert.deepEqual([stats.l1?.misses, stats.l2?.misses, stats.l3?.misses], [1, 1, 1]);
  });

  it('misses after a data-version bump, without touching the old entry', async () => {
    const { cache } = processCache({ l2: redis, l3 });
    const message = normalizeMessage('what is my favourite tea');
    cache.set(cacheKey('plan', userId, 7, message), planFor(message));
    await cache.flush();
    assert.equal((await cache.get(cacheKey('plan', userId, 8, message))).tier, 'miss');
    assert.equal((await cache.get(cacheKey('plan', userId, 7, message))).tier, 'l1');
  });

  it('expires an entry filled from a lower tier when the original would, not a full TTL later', async () => {
    const ttlMs = 600;
    const writer = processCache({ l2: redis, l3 }, { ttlMs });
    const reader = processCache({ l2: redis, l3 }, { ttlMs });
    const key = keyFor('short-lived plan');
    writer.cache.set(key, planFor('short-lived plan'));
    await writer.cache.flush();

    await sleep(450);
    assert.equal((await reader.cache.get(key)).tier, 'l2', 'filled with about 150 ms left');
    await sleep(350);
    // A fill with the full TTL would still be in the reader's L1 until about 1050 ms.
    assert.deepEqual(await reader.cache.get(key), { value: null, tier: 'miss' });
  });

  it('returns values through a codec, so L2 and L3 hand back what L1 would', async () => {
    interface Stamped {
      at: Date;
    }
    const codec = {
      encode: (value: Stamped) => ({ at: value.at.toISOString() }),
      decode: (data: unknown) => ({ at: new Date((data as { at: string }).at) }),
    };
    const options = { name: 'stamped', ttlMs: MINUTE, enabled: true, codec, l3 };
    const writer = createTieredCache<Stamped>({
      ...options,
      l1: createByteLruCache<Stamped>({ name: 'stamped', maxBytes: 100_000, ttlMs: MINUTE }),
      l2: redis,
    });
    const reader = createTieredCache<Stamped>({ ...options, l1: null, l2: null });
    const key = keyFor('stamped');
    writer.set(key, { at: new Date('2025-01-02T03:04:05.000Z') });
    await writer.flush();

    const read = await reader.get(key);
    assert.equal(read.tier, 'l3');
    assert.ok(read.value?.at instanceof Date);
    assert.equal(read.value.at.toISOString(), '2025-01-02T03:04:05.000Z');
  });

  it('frees only its own L1 on clear(), reporting the bytes, and reads back from L2 afterwards', async () => {
    const { cache } = processCache({ l2: redis, l3 });
    const key = keyFor('cleared under memory pressure');
    cache.set(key, planFor('cleared under memory pressure'));
    await cache.flush();
    const held = cache.bytes();
    assert.equal(cache.stats().lru?.bytes, held);
    assert.ok(held > 0);

    assert.equal(cache.clear(), held);
    assert.equal(cache.bytes(), 0);
    assert.equal((await cache.get(key)).tier, 'l2');
  });

  it('answers off and stores nothing on any tier when disabled', async () => {
    const { cache, l1 } = processCache({ l2: redis, l3 }, { enabled: false });
    const key = keyFor('caching is off');
    cache.set(key, planFor('caching is off'));
    await cache.flush();
    assert.deepEqual(await cache.get(key), { value: null, tier: 'off' });
    assert.equal(l1?.stats().entries, 0);
    assert.equal(await redis.get(key), null);
    assert.equal(await store.getCachedPlan(key), null);
  });

  it('skips a tier that throws or never answers, counting errors and timeouts, never failing the read', async () => {
    const throwing: RecordTier = {
      get: () => {
        throw new Error('L3 exploded');
      },
      set: () => Promise.reject(new Error('L3 refused')),
    };
    const silent: CacheStore = {
      ...redis,
      get: () => new Promise(() => {}),
      set: () => new Promise(() => {}),
    };
    const errors: string[] = [];
    const { cache } = processCache(
      { l2: silent, l3: throwing },
      {
        readTimeoutMs: 50,
        writeTimeoutMs: 100,
        onError: (tier, op) => errors.push(`${tier} ${op}`),
      },
    );
    const key = keyFor('every lower tier is broken');

    cache.set(key, planFor('every lower tier is broken'));
    await cache.flush();
    assert.deepEqual(await cache.get(key), {
      value: planFor('every lower tier is broken'),
      tier: 'l1',
    });
    assert.deepEqual(await cache.get(keyFor('not in L1')), { value: null, tier: 'miss' });

    const stats = cache.stats();
    assert.deepEqual(
      [stats.l2?.errors, stats.l2?.timeouts, stats.l3?.errors, stats.l3?.timeouts],
      [2, 2, 2, 0],
    );
    assert.deepEqual(errors.sort(), ['l2 get', 'l2 set', 'l3 get', 'l3 set']);
  });
});

describe('tiered cache when Redis goes down', () => {
  let store: RelationalStore;
  let userId: string;
  before(async () => {
    store = await createSqlRelationalStore(await createPgliteDriver('memory://'));
    userId = (await store.createUser({})).id;
  });
  after(() => store.close());

  async function privateRedis(t: TestContext) {
    const server = await ensureRedisServer({ projectRoot, log: (msg) => t.diagnostic(msg) });
    t.after(() => server.stop());
    const l2 = await createRedisCacheStore({ url: server.url, keyPrefix: `down-${randomUUID()}:` });
    t.after(() => l2.close());
    return { server, l2 };
  }

  it('keeps get and set working from L1 without throwing, and counts the L2 errors', async (t) => {
    const { server, l2 } = await privateRedis(t);
    const { cache } = processCache({ l2, l3: null });
    const before = cacheKey('plan', userId, 0, 'stored before the outage');
    cache.set(before, planFor('stored before the outage'));
    await cache.flush();

    await server.stop();
    const during = cacheKey('plan', userId, 0, 'stored during the outage');
    cache.set(during, planFor('stored during the outage'));
    await cache.flush();

    assert.equal((await cache.get(before)).tier, 'l1');
    assert.deepEqual(await cache.get(during), {
      value: planFor('stored during the outage'),
      tier: 'l1',
    });
    assert.deepEqual(await cache.get(cacheKey('plan', userId, 0, 'never stored')), {
      value: null,
      tier: 'miss',
    });
    const stats = cache.stats().l2;
    assert.equal(stats?.writes, 1, 'the write before the outage');
    assert.equal(stats?.errors, 2, 'one failed write and one failed read');
  });

  it('skips a dead L2 and answers from L3 in a process whose L1 is empty', async (t) => {
    const { server, l2 } = await privateRedis(t);
    const l3 = relationalPlanTier(store);
    const writer = processCache({ l2, l3 });
    const key = cacheKey('plan', userId, 0, 'survives a redis outage');
    writer.cache.set(key, planFor('survives a redis outage'));
    await writer.cache.flush();

    await server.stop();
    const reader = processCache({ l2, l3 });
    assert.deepEqual(await reader.cache.get(key), {
      value: planFor('survives a redis outage'),
      tier: 'l3',
    });
    await reader.cache.flush();
    const stats = reader.cache.stats();
    assert.equal(stats.l3?.hits, 1);
    assert.equal(stats.l2?.errors, 2, 'the failed read and the failed refill');
  });

  it('skips a Redis that stopped answering once the read deadline passes, counting a timeout', async (t) => {
    const { server, l2 } = await privateRedis(t);
    const { cache } = processCache({ l1: null, l2, l3: null }, { readTimeoutMs: 50 });
    const key = cacheKey('plan', userId, 0, 'asked of a frozen redis');
    process.kill(server.pid, 'SIGSTOP');
    try {
      assert.deepEqual(await cache.get(key), { value: null, tier: 'miss' });
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    const stats = cache.stats().l2;
    assert.equal(stats?.timeouts, 1);
    assert.equal(stats?.errors, 1);
  });
});
