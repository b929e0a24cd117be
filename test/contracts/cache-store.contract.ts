import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { CacheStore } from '../../core/ports/cache-store.ts';

/**
 * The behaviour every cache-store adapter must show. Each adapter's test file
 * calls this with a factory for a store whose keys live under `keyPrefix`:
 * stores made with different prefixes must not see each other's keys, even
 * when they share one backend. Every run uses fresh prefixes, so the backend
 * may hold keys from earlier runs.
 */
export function cacheStoreContract(
  adapter: string,
  createStore: (keyPrefix: string) => Promise<CacheStore>,
): void {
  describe(`cache store contract: ${adapter}`, () => {
    const runPrefix = `contract-${randomUUID()}:`;
    let store: CacheStore;
    before(async () => {
      store = await createStore(runPrefix);
    });
    after(async () => {
      await store.close();
    });

    const MINUTE = 60_000;

    it('answers a ping', async () => {
      await store.ping();
    });

    it('reads back a value it stored', async () => {
      await store.set('plan:1', '{"source":"model"}', MINUTE);
      assert.equal(await store.get('plan:1'), '{"source":"model"}');
    });

    it('returns null for a key it never stored', async () => {
      assert.equal(await store.get('never-stored'), null);
    });

    it('replaces the value of a key stored twice', async () => {
      await store.set('replaced', 'first', MINUTE);
      await store.set('replaced', 'second', MINUTE);
      assert.equal(await store.get('replaced'), 'second');
    });

    it('forgets a value once its TTL has passed, and only that value', async () => {
      await store.set('short-lived', 'soon gone', 150);
      await store.set('long-lived', 'still here', MINUTE);
      await sleep(400);
      assert.equal(await store.get('short-lived'), null);
      assert.deepEqual(await store.getMany(['short-lived', 'long-lived']), [null, 'still here']);
    });

    it('reads several keys in the order asked, with null for each miss', async () => {
      await store.set('many:a', 'A', MINUTE);
      await store.set('many:c', 'C', MINUTE);
      assert.deepEqual(await store.getMany(['many:c', 'many:missing', 'many:a', 'many:c']), [
        'C',
        null,
        'A',
        'C',
      ]);
    });

    it('reads an empty list of keys as an empty list', async () => {
      assert.deepEqual(await store.getMany([]), []);
    });

    it('deletes several keys at once and leaves the others alone', async () => {
      await store.set('del:1', 'one', MINUTE);
      await store.set('del:2', 'two', MINUTE);
      await store.set('del:keep', 'kept', MINUTE);
      await store.delete(['del:1', 'del:2', 'del:never-stored']);
      assert.deepEqual(await store.getMany(['del:1', 'del:2', 'del:keep']), [null, null, 'kept']);
      await store.delete([]);
      assert.equal(await store.get('del:keep'), 'kept');
    });

    it('keeps stores with different prefixes apart on the same backend', async () => {
      const other = await createStore(`contract-${randomUUID()}:`);
      try {
        await store.set('shared-name', 'mine', MINUTE);
        assert.equal(await other.get('shared-name'), null);
        await other.set('shared-name', 'theirs', MINUTE);
        await other.delete(['shared-name']);
        assert.equal(await store.get('shared-name'), 'mine');
        assert.equal(await other.get('shared-name'), null);
      } finally {
        await other.close();
      }
    });

    it('returns unicode, control characters and protocol look-alikes unchanged', async () => {
      const value = 'Ada 🧠 mémoire — 記憶 عربى\n*3\r\n$-1\r\n\u0000 end';
      await store.set('unicode: clé 🔑', value, MINUTE);
      assert.equal(await store.get('unicode: clé 🔑'), value);
    });

    it('returns a value of about 100 KB unchanged', async () => {
      const value = JSON.stringify({
        memories: Array.from({ length: 1_800 }, (_, i) => `mémoire ${i}: ${'é✓'.repeat(20)}`),
      });
      assert.ok(Buffer.byteLength(value) > 100_000);
      await store.set('large', value, MINUTE);
      assert.equal(await store.get('large'), value);
      assert.deepEqual(await store.getMany(['large', 'never-stored']), [value, null]);
    });

    it('can be closed twice', async () => {
      const extra = await createStore(`contract-${randomUUID()}:`);
      await extra.close();
      await extra.close();
    });
  });
}
