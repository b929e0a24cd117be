import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureMiniLmModel, type MiniLmModelFiles } from '../../infra/local/minilm/install.ts';
import {
  createMiniLmEmbedder,
  type MiniLmEmbedder,
} from '../../infra/local/minilm/minilm-embedder.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cosine = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * (b[i] ?? 0), 0);
const norm = (v: number[]) => Math.sqrt(cosine(v, v));

/**
 * Cosine similarities from infra/local/minilm/reference_embeddings.py: its own
 * BERT tokeniser and a float64 numpy forward pass over the same safetensors
 * weights, none of the ONNX graph's rewrites. The three weather/stadium pairs
 * also match the figures sentence-transformers publishes for this model
 * (0.6660, 0.1046, 0.1411).
 */
const REFERENCE: [string, string, number][] = [
  ['The weather is lovely today.', "It's so sunny outside!", 0.665955],
  ['The weather is lovely today.', 'He drove to the stadium.', 0.104584],
  ["It's so sunny outside!", 'He drove to the stadium.', 0.141145],
  ['A man is eating food.', 'A man is eating a piece of bread.', 0.755337],
  ['A man is eating food.', 'The new movie is awesome', -0.040166],
  ['cat', 'kitten', 0.788211],
  ['cat', 'stock market', 0.190355],
  // Accents stripped and CJK characters split, as BERT's normaliser does.
  [
    'Meeting at the café in Zürich on Friday',
    'Coffee with friends in Zurich at the weekend',
    0.749262,
  ],
  ['Meeting at the café in Zürich on Friday', '東京で寿司を食べた', 0.18656],
];

describe('all-MiniLM-L6-v2 embedder on onnxruntime', () => {
  let files: MiniLmModelFiles;
  let embedder: MiniLmEmbedder;

  before(async () => {
    files = await ensureMiniLmModel({ projectRoot });
    embedder = await createMiniLmEmbedder({ modelDir: files.dir });
  });
  after(() => embedder.close());

  it('names its space and gives 384-dimensional vectors', async () => {
    assert.equal(embedder.id, 'local:all-MiniLM-L6-v2@384');
    assert.equal(embedder.dimension, 384);
    const [vector] = await embedder.embed(['hello world']);
    assert.equal(vector?.length, 384);
  });

  it('scores sentence pairs as the independent numpy reference does (±0.01)', async () => {
    for (const [a, b, expected] of REFERENCE) {
      const [va, vb] = await embedder.embed([a, b]);
      const actual = cosine(va!, vb!);
      assert.ok(
        Math.abs(actual - expected) <= 0.01,
        `cos("${a}", "${b}") = ${actual.toFixed(6)}, reference ${expected}`,
      );
    }
  });

  it('ranks a paraphrase above an unrelated sentence', async () => {
    const [query, paraphrase, unrelated] = await embedder.embed([
      'Where does my sister live?',
      'My sister moved to Lisbon last year.',
      'The quarterly tax return is due in April.',
    ]);
    assert.ok(cosine(query!, paraphrase!) > cosine(query!, unrelated!) + 0.2);
  });

  it('returns unit vectors in the order of the input, for a mixed batch', async () => {
    const texts = [
      'A much longer memory about planning a two-week trip through the Scottish Highlands in late May with friends.',
      'tea',
      'Dentist on Tuesday at noon.',
    ];
    const batch = await embedder.embed(texts);
    assert.equal(batch.length, texts.length);
    for (const [i, text] of texts.entries()) {
      assert.ok(Math.abs(norm(batch[i]!) - 1) < 1e-6, `norm of vector ${i}`);
      const [single] = await embedder.embed([text]);
      const maxDiff = Math.max(...single!.map((v, d) => Math.abs(v - batch[i]![d]!)));
      assert.ok(maxDiff <= 1e-5, `text ${i}: batch and single differ by ${maxDiff}`);
    }
  });

  it('embeds batches larger than one model call, each vector as if alone', async () => {
    const texts = Array.from({ length: 70 }, (_, i) =>
      i % 7 === 0
        ? `Memory ${i}: ${'a rather long note about the garden '.repeat(4)}`
        : `note ${i}`,
    );
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, 70);
    for (const i of [0, 1, 35, 69]) {
      const [single] = await embedder.embed([texts[i]!]);
      const maxDiff = Math.max(...single!.map((v, d) => Math.abs(v - vectors[i]![d]!)));
      assert.ok(maxDiff <= 1e-5, `text ${i}: batch and single differ by ${maxDiff}`);
    }
  });

  it('answers concurrent calls as it answers one batch', async () => {
    const texts = Array.from(
      { length: 40 },
      (_, i) => `reminder ${i}: ${'water the plants '.repeat(i % 5)}`,
    );
    const together = await embedder.embed(texts);
    const apart = await Promise.all(texts.map(async (text) => (await embedder.embed([text]))[0]!));
    for (const [i, vector] of apart.entries()) {
      const maxDiff = Math.max(...vector.map((v, d) => Math.abs(v - together[i]![d]!)));
      assert.ok(maxDiff <= 1e-5, `text ${i}: concurrent and batched differ by ${maxDiff}`);
    }
  });

  it('gives the empty string and an empty batch sensible answers', async () => {
    const [empty] = await embedder.embed(['']);
    assert.equal(empty?.length, 384);
    assert.ok(Math.abs(norm(empty!) - 1) < 1e-6);
    assert.deepEqual(await embedder.embed([]), []);
  });

  it('cuts texts longer than 256 tokens, ignoring what follows the cut', async () => {
    const long = 'word '.repeat(300);
    const [a, b] = await embedder.embed([long, `${long} but a different ending entirely`]);
    assert.ok(Math.abs(norm(a!) - 1) < 1e-6);
    assert.deepEqual(a, b);
  });

  it('reuses the installed model on the next ensure instead of converting again', async () => {
    const before = (await fs.stat(files.modelPath)).mtimeMs;
    const again = await ensureMiniLmModel({ projectRoot });
    assert.deepEqual(again, files);
    assert.equal((await fs.stat(files.modelPath)).mtimeMs, before);
  });
});
