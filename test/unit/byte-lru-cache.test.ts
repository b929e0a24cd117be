import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createByteLruCache,
  ENTRY_OVERHEAD_BYTES,
  measureEntry,
} from '../../core/cache/byte-lru-cache.ts';
import { AppError } from '../../core/errors.ts';

const HOUR = 3_600_000;

/** A plan-like value whose JSON grows with `words`. */
const plan = (id: number, words = 5) => ({
  strategy: 'deep_understanding',
  queries: [`question ${id} ${'about things '.repeat(words)}`],
  includeNarrative: false,
});

describe('byte-bounded LRU cache', () => {
  it('never holds more than maxBytes under a flood of entries, counting every eviction', () => {
    const cache = createByteLruCache<object>({ name: 'flood', maxBytes: 20_000, ttlMs: HOUR });
    for (let i = 0; i < 2_000; i++) {
      cache.set(`key-${i}`, plan(i, i % 17));
      assert.ok(cache.bytes() <= 20_000, `bytes ${cache.bytes()} after ${i + 1} sets`);
    }
    const stats = cache.stats();
    assert.ok(stats.entries > 10, 'the cache still holds a useful number of entries');
    assert.equal(stats.evictions, 2_000 - stats.entries);
    assert.ok(stats.bytes > 20_000 * 0.9, 'evicts only as much as it must');
    // The newest entries survive a flood; the oldest went first.
    assert.ok(cache.get('key-1999'));
    assert.equal(cache.get('key-0'), undefined);
  });

  it('evicts the least recently used entry first, so a read keeps an old entry alive', () => {
    const size = measureEntry(plan(0), 'k0');
    const cache = createByteLruCache<object>({ name: 'lru', maxBytes: size * 3, ttlMs: HOUR });
    cache.set('k0', plan(0));
    cache.set('k1', plan(1));
    cache.set('k2', plan(2));
    assert.ok(cache.get('k0'), 'k0 is now the most recently used');
    cache.set('k3', plan(3));
    assert.equal(cache.get('k1'), undefined, 'k1 was the least recently used');
    assert.ok(cache.get('k0'));
    assert.ok(cache.get('k2'));
    assert.ok(cache.get('k3'));
    assert.equal(cache.stats().evictions, 1);
  });

  it('measures each entry from its content: JSON bytes of the value, UTF-8 bytes of the key, plus a fixed overhead', () => {
    const cache = createByteLruCache<object>({ name: 'sizes', maxBytes: 1_000_000, ttlMs: HOUR });
    cache.set('short', { text: 'x' });
    const small = cache.bytes();
    assert.equal(small, Buffer.byteLength('{"text":"x"}') + 'short'.length + ENTRY_OVERHEAD_BYTES);

    cache.set('short', { text: 'x'.repeat(1_001) });
    assert.equal(cache.bytes(), small + 1_000, 'a longer value costs its extra bytes');

    cache.set('short', { text: 'é'.repeat(1_001) });
    assert.equal(cache.bytes(), small + 2 * 1_001 - 1, 'é is two bytes in UTF-8');

    cache.set('clé-🔑', { text: 'x' });
    assert.equal(
      cache.bytes() - (small + 2 * 1_001 - 1),
      small + Buffer.byteLength('clé-🔑') - 'short'.length,
      'a key costs its UTF-8 bytes',
    );
  });

  it('uses a custom sizeOf when given one', () => {
    const cache = createByteLruCache<string>({
      name: 'custom',
      maxBytes: 100,
      ttlMs: HOUR,
      sizeOf: (value) => value.length * 10,
    });
    cache.set('a', 'xxxx');
    assert.equal(cache.bytes(), 40);
    cache.set('b', 'xxxxxxx');
    assert.equal(cache.get('a'), undefined, '40 + 70 > 100: a had to go');
    assert.equal(cache.bytes(), 70);
  });

  it('forgets an entry once its TTL has passed, and counts the expiry and the miss', async () => {
    const cache = createByteLruCache<object>({ name: 'ttl', maxBytes: 100_000, ttlMs: 100 });
    cache.set('soon-gone', plan(1));
    assert.ok(cache.get('soon-gone'));
    await sleep(250);
    assert.equal(cache.get('soon-gone'), undefined);
    assert.equal(cache.bytes(), 0, 'the expired entry no longer counts');
    const stats = cache.stats();
    assert.equal(stats.expirations, 1);
    assert.equal(stats.hits, 1);
    assert.equal(stats.misses, 1);
  });

  it('honours a shorter TTL given for one entry, but never a longer one than its own', async () => {
    const cache = createByteLruCache<object>({ name: 'entry-ttl', maxBytes: 100_000, ttlMs: 150 });
    cache.set('short', plan(1), 50);
    cache.set('asks-for-longer', plan(2), HOUR);
    await sleep(100);
    assert.equal(cache.get('short'), undefined);
    assert.ok(cache.get('asks-for-longer'));
    await sleep(200);
    assert.equal(cache.get('asks-for-longer'), undefined);
  });

  it('frees the bytes of expired entries on purgeExpired, without waiting for a read', async () => {
    const cache = createByteLruCache<object>({ name: 'purge', maxBytes: 100_000, ttlMs: 100 });
    cache.set('old', plan(1));
    const oldBytes = cache.bytes();
    await sleep(250);
    cache.set('new', plan(2));
    assert.equal(cache.purgeExpired(), oldBytes);
    assert.equal(cache.stats().entries, 1);
    assert.equal(cache.stats().expirations, 1);
    assert.ok(cache.get('new'));
  });

  it('refuses an entry larger than maxBytes, counts it, and drops the older value under that key', () => {
    const cache = createByteLruCache<object>({ name: 'oversize', maxBytes: 1_000, ttlMs: HOUR });
    assert.equal(cache.set('k', { text: 'fits' }), true);
    cache.set('other', { text: 'stays' });
    assert.equal(cache.set('k', { text: 'x'.repeat(2_000) }), false);
    assert.equal(cache.get('k'), undefined, 'the old value must not pass for the new one');
    assert.ok(cache.get('other'), 'a refused entry evicts nothing');
    assert.equal(cache.stats().oversize, 1);
    assert.equal(cache.stats().evictions, 0);
  });

  it('empties on clear() and reports the bytes it freed', () => {
    const cache = createByteLruCache<object>({ name: 'clear', maxBytes: 100_000, ttlMs: HOUR });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, plan(i));
    const held = cache.bytes();
    assert.ok(held > 0);
    assert.equal(cache.clear(), held);
    assert.equal(cache.bytes(), 0);
    assert.equal(cache.get('k1'), undefined);
    assert.equal(cache.clear(), 0);
    assert.equal(cache.stats().evictions, 0, 'clearing is not evicting');
  });

  it('reports its name, hits, misses, entries, bytes and bound in stats', () => {
    const cache = createByteLruCache<object>({ name: 'plans', maxBytes: 50_000, ttlMs: HOUR });
    cache.set('a', plan(1));
    cache.set('b', plan(2));
    cache.get('a');
    cache.get('a');
    cache.get('missing');
    cache.delete('b');
    assert.deepEqual(cache.stats(), {
      name: 'plans',
      hits: 2,
      misses: 1,
      evictions: 0,
      expirations: 0,
      oversize: 0,
      entries: 1,
      bytes: measureEntry(plan(1), 'a'),
      maxBytes: 50_000,
    });
  });

  it('rejects a bound or TTL that is not a positive number', () => {
    for (const bad of [{ maxBytes: 0 }, { ttlMs: -1 }, { maxBytes: Number.NaN }]) {
      assert.throws(
        () => createByteLruCache({ name: 'bad', maxBytes: 1_000, ttlMs: HOUR, ...bad }),
        (error: unknown) => error instanceof AppError && error.code === 'internal',
      );
    }
  });

  it('refuses to measure a value that has no JSON form', () => {
    const cache = createByteLruCache<() => void>({ name: 'fn', maxBytes: 1_000, ttlMs: HOUR });
    assert.throws(() => cache.set('f', () => {}), TypeError);
    assert.equal(cache.stats().entries, 0);
  });
});
