import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createByteLruCache } from '../../core/cache/byte-lru-cache.ts';
import { L3_ABSENT_MS } from '../../core/cache/tier-reader.ts';
import { createTieredCache, type RecordTier } from '../../core/cache/tiered-cache.ts';

/** An in-memory L3 that counts its reads, and can be made to fail. */
function countingL3() {
  const records = new Map<string, unknown>();
  const tier = {
    gets: 0,
    failing: false,
    records,
    async get(key: string) {
      tier.gets++;
      if (tier.failing) throw new Error('database down');
      return records.get(key) ?? null;
    },
    async set(key: string, record: unknown) {
      records.set(key, record);
    },
  } satisfies RecordTier & Record<string, unknown>;
  return tier;
}

function cacheOver(l3: RecordTier) {
  const l1 = createByteLruCache<string>({ name: 'plans', maxBytes: 100_000, ttlMs: 3_600_000 });
  const cache = createTieredCache<string>({
    name: 'plans',
    l1,
    l2: null,
    l3,
    ttlMs: 3_600_000,
    enabled: true,
  });
  return { cache, l1 };
}

describe('tiered cache: a key L3 did not hold', () => {
  it('is not asked of L3 again for a while', async () => {
    const l3 = countingL3();
    const { cache } = cacheOver(l3);
    assert.equal((await cache.get('k')).tier, 'miss');
    assert.equal((await cache.get('k')).tier, 'miss');
    assert.equal(l3.gets, 1);
    await cache.get('other');
    assert.equal(l3.gets, 2, 'another key is still asked');
  });

  it("is asked again once this process wrote it, and L3's answer is used", async () => {
    const l3 = countingL3();
    const { cache, l1 } = cacheOver(l3);
    await cache.get('k');
    cache.set('k', 'plan');
    await cache.flush();
    l1.clear();
    const read = await cache.get('k');
    assert.deepEqual([read.value, read.tier, l3.gets], ['plan', 'l3', 2]);
  });

  it('is asked again after a failed read (a failure says nothing about absence)', async () => {
    const l3 = countingL3();
    const { cache } = cacheOver(l3);
    l3.failing = true;
    await cache.get('k');
    l3.failing = false;
    await cache.get('k');
    assert.equal(l3.gets, 2);
  });

  it("is asked again once the absence is stale, finding another process's write", async (t) => {
    const l3 = countingL3();
    const { cache } = cacheOver(l3);
    await cache.get('k');
    const { records } = l3;
    records.set('k', { v: 'their plan', e: Date.now() + 3_600_000 });
    assert.equal((await cache.get('k')).tier, 'miss', 'still believed absent');
    const now = Date.now();
    t.mock.method(Date, 'now', () => now + L3_ABSENT_MS + 1);
    const read = await cache.get('k');
    assert.deepEqual([read.value, read.tier], ['their plan', 'l3']);
  });
});
