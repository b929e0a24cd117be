import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';

const cosine = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * (b[i] ?? 0), 0);
const norm = (v: number[]) => Math.sqrt(cosine(v, v));

describe('hashing embedder', () => {
  it('gives the same vectors for the same texts, across calls and instances', async () => {
    const texts = ['Dinner with Ana on Friday', 'Passport renewal is due in March'];
    const first = await createHashingEmbedder().embed(texts);
    const again = await createHashingEmbedder().embed(texts);
    assert.deepEqual(again, first);
  });

  it('defaults to 384 dimensions and names its space after the dimension', async () => {
    const embedder = createHashingEmbedder();
    assert.equal(embedder.dimension, 384);
    assert.equal(embedder.id, 'local:hashing@384');
    const [vector] = await embedder.embed(['hello']);
    assert.equal(vector?.length, 384);
  });

  it('honours a custom dimension', async () => {
    const embedder = createHashingEmbedder({ dimension: 64 });
    assert.equal(embedder.id, 'local:hashing@64');
    const vectors = await embedder.embed(['one text', 'another text']);
    assert.deepEqual(
      vectors.map((v) => v.length),
      [64, 64],
    );
  });

  it('returns unit-length vectors, even for empty or punctuation-only text', async () => {
    const vectors = await createHashingEmbedder().embed([
      'A long note about the garden, the tomatoes and the water bill.',
      '',
      '?!…',
      'ÉCOLE école',
    ]);
    for (const vector of vectors) assert.ok(Math.abs(norm(vector) - 1) < 1e-9);
  });

  it('scores related texts higher than unrelated ones', async () => {
    const [query, related, unrelated] = await createHashingEmbedder().embed([
      'my sister lives in Lisbon near the river',
      'my sister moved to Lisbon last year',
      'quarterly tax forms for the small business',
    ]);
    assert.ok(query && related && unrelated);
    assert.ok(cosine(query, related) > cosine(query, unrelated) + 0.2);
  });

  it('ignores case and keeps the order of the input texts', async () => {
    const embedder = createHashingEmbedder();
    const [upper, lower, other] = await embedder.embed([
      'Coffee With Bob',
      'coffee with bob',
      'tea',
    ]);
    assert.deepEqual(upper, lower);
    const [alone] = await embedder.embed(['tea']);
    assert.deepEqual(other, alone);
  });

  it('answers an empty list with an empty list', async () => {
    assert.deepEqual(await createHashingEmbedder().embed([]), []);
  });

  it('rejects a dimension that is not a positive whole number', () => {
    assert.throws(() => createHashingEmbedder({ dimension: 0 }), RangeError);
    assert.throws(() => createHashingEmbedder({ dimension: 12.5 }), RangeError);
  });
});
