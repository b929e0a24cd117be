import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createByteLruCache } from '../../core/cache/byte-lru-cache.ts';
import { createTieredCache } from '../../core/cache/tiered-cache.ts';
import { cachingQueryEmbedder } from '../../core/retrieval/query-embeddings.ts';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';
import { countingEmbedder } from '../support/counting-embedder.ts';

function vectorCache(enabled = true, maxBytes = 1024 * 1024) {
  return createTieredCache<number[]>({
    name: 'embedding',
    enabled,
    ttlMs: 60_000,
    l1: createByteLruCache<number[]>({
      name: 'embedding',
      maxBytes,
      ttlMs: 60_000,
      sizeOf: (value, key) => value.length * 8 + key.length * 2 + 64,
    }),
    l2: null,
    l3: null,
  });
}

describe('query embeddings through the cache', () => {
  it('embeds a text once, answers repeats from the cache with the same vector, in order', async () => {
    const inner = countingEmbedder(createHashingEmbedder());
    const cache = vectorCache();
    const embedder = cachingQueryEmbedder(inner, 'space-a', cache);

    const [first] = await embedder.embed(['where do I work?']);
    const [again, other, third] = await embedder.embed([
      'where do I work?',
      'who is my doctor?',
      'who is my doctor?',
    ]);
    assert.deepEqual(inner.calls, [['where do I work?'], ['who is my doctor?']]);
    assert.deepEqual(again, first);
    assert.deepEqual(third, other);
    assert.deepEqual(other, (await createHashingEmbedder().embed(['who is my doctor?']))[0]);
    assert.equal(cache.stats().l1?.hits, 1);
  });

  it('never answers one space with the vectors of another', async () => {
    const cache = vectorCache();
    const a = countingEmbedder(createHashingEmbedder());
    const b = countingEmbedder(createHashingEmbedder());
    await cachingQueryEmbedder(a, 'space-a', cache).embed(['hello']);
    await cachingQueryEmbedder(b, 'space-b', cache).embed(['hello']);
    assert.equal(a.calls.length, 1);
    assert.equal(b.calls.length, 1);
  });

  it('asks the model every time when the cache is off, and stays within its byte bound', async () => {
    const off = countingEmbedder(createHashingEmbedder());
    const uncached = cachingQueryEmbedder(off, 's', vectorCache(false));
    await uncached.embed(['x']);
    await uncached.embed(['x']);
    assert.equal(off.calls.length, 2);

    const small = vectorCache(true, 20_000);
    const embedder = cachingQueryEmbedder(createHashingEmbedder(), 's', small);
    for (let i = 0; i < 50; i++) await embedder.embed([`question ${i}`]);
    assert.ok(small.bytes() <= 20_000, `holds ${small.bytes()} bytes`);
    assert.ok((small.stats().lru?.evictions ?? 0) > 0);
  });

  it('keeps a question and a passage of the same words apart, and passes the kind on', async () => {
    const kinds: string[] = [];
    const inner = createHashingEmbedder();
    const probe = {
      id: inner.id,
      dimension: inner.dimension,
      embed(texts: readonly string[], options?: { kind?: 'query' | 'passage' }) {
        kinds.push(options?.kind ?? 'passage');
        return inner.embed(texts);
      },
    };
    const embedder = cachingQueryEmbedder(probe, 's', vectorCache());
    await embedder.embed(['where do I work?'], { kind: 'query' });
    await embedder.embed(['where do I work?']);
    await embedder.embed(['where do I work?'], { kind: 'query' });
    assert.deepEqual(kinds, ['query', 'passage']);
  });
});
