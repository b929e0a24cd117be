import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withPriority } from '../../core/concurrency/work-priority.ts';
import { createE5Embedder, E5_PREFIXES } from '../../infra/local/e5/e5-embedder.ts';
import { ensureE5Model, type E5ModelFiles } from '../../infra/local/e5/install.ts';
import type { LocalEmbedder } from '../../infra/local/local-model.ts';
import { createThreadedEmbedder } from '../../infra/local/threaded-embedder.ts';
import { ROOT } from '../support/child-process.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';

const dot = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * (b[i] ?? 0), 0);

/**
 * Cosines of a (prefixed) text and a passage, each embedded alone, from a
 * reference outside the product: onnxruntime 1.32 for Python and Hugging Face
 * `tokenizers` over the same model.onnx and tokenizer.json, mean-pooled and
 * normalised in float64 numpy (infra/local/e5/reference_embeddings.py). The
 * first pair is e5's own model-card example.
 */
const REFERENCE: [string, 'query' | 'passage', string, number][] = [
  [
    'how much protein should a female eat',
    'query',
    "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day.",
    0.924117,
  ],
  [
    'how much protein should a female eat',
    'query',
    'Definition of summit for English Language Learners. : 1  the highest point of a mountain',
    0.751864,
  ],
  [
    'Where does my sister live?',
    'query',
    'My sister moved to Lisbon last year and loves the trams.',
    0.792065,
  ],
  ['Where does my sister live?', 'query', 'The quarterly tax return is due in April.', 0.681409],
  // Accents and CJK characters go through BERT's normaliser as in Python.
  ['Meeting at the café in Zürich on Friday', 'passage', '東京で寿司を食べた', 0.789173],
];

describe('e5-small-v2 (int8) embedder on onnxruntime', () => {
  let files: E5ModelFiles;
  let embedder: LocalEmbedder;

  before(async () => {
    files = await ensureE5Model({ projectRoot: ROOT });
    embedder = await createE5Embedder({ modelDir: files.dir });
  });
  after(() => embedder?.close());

  it('names its space and gives unit vectors of 384 dimensions, in input order', async () => {
    assert.equal(embedder.id, 'local:e5-small-v2-q@384');
    assert.equal(embedder.dimension, 384);
    const texts = [
      'A much longer memory about planning a two-week trip through the Scottish Highlands in late May with friends.',
      'tea',
      '',
      'My sister moved to Lisbon last year.',
    ];
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, texts.length);
    for (const [i, vector] of vectors.entries()) {
      assert.equal(vector.length, 384);
      assert.ok(Math.abs(dot(vector, vector) - 1) < 1e-9, `vector ${i} is not unit length`);
      const [alone] = await embedder.embed([texts[i]!]);
      // The graph quantises activations per call (dynamic int8), so batch mates move a
      // vector a little (cosine ≥ 0.995 on 200 memories), never to another text's place.
      assert.ok(dot(vector, alone!) > 0.99, `text ${i} changed with its batch`);
    }
    assert.deepEqual(await embedder.embed([]), []);
  });

  it('embeds a question as `query: …` and a memory as `passage: …` (the default)', async () => {
    const text = 'Where does my sister live?';
    const [asQuery] = await embedder.embed([text], { kind: 'query' });
    const [asPassage] = await embedder.embed([text]);
    const [explicitPassage] = await embedder.embed([text], { kind: 'passage' });
    assert.ok(dot(asQuery!, asPassage!) < 0.99, 'a query and a passage gave the same vector');
    assert.deepEqual(asPassage, explicitPassage);
    assert.deepEqual(E5_PREFIXES, { query: 'query: ', passage: 'passage: ' });
  });

  it('ranks the memory that answers a question above unrelated ones', async () => {
    const memories = [
      'The quarterly tax return is due in April.',
      'My sister moved to Lisbon last year and loves the trams.',
      'I bought a new pair of running shoes on Saturday.',
      'The dentist appointment was moved to Thursday at 3 pm.',
    ];
    const [question] = await embedder.embed(['Which city does my sister live in?'], {
      kind: 'query',
    });
    const scores = (await embedder.embed(memories)).map((m) => dot(question!, m));
    const best = scores.indexOf(Math.max(...scores));
    assert.equal(best, 1, `scores ${scores.map((s) => s.toFixed(3)).join(', ')}`);
  });

  it('cuts a text longer than 512 tokens instead of failing', async () => {
    const long = 'word '.repeat(2000);
    const [a, b] = await embedder.embed([long, `${long} and a different ending`]);
    assert.equal(a?.length, 384);
    assert.ok(dot(a!, b!) > 0.9999, 'the text past the limit changed the vector');
  });

  it('scores pairs as the reference outside the product does (±0.001)', async () => {
    for (const [text, kind, passage, expected] of REFERENCE) {
      const [a] = await embedder.embed([text], { kind });
      const [b] = await embedder.embed([passage]);
      const actual = dot(a!, b!);
      assert.ok(
        Math.abs(actual - expected) <= 0.001,
        `cos("${kind}: ${text}", "passage: ${passage}") = ${actual.toFixed(6)}, reference ${expected}`,
      );
    }
  });

  it('gives the same vectors from its worker threads, with the kind passed along', async () => {
    const threaded = createThreadedEmbedder({
      model: 'e5',
      dir: files.dir,
      threads: { interactive: 1, background: 1 },
    });
    try {
      assert.equal(threaded.id, embedder.id);
      const texts = ['Where does my sister live?', 'tea'];
      assert.deepEqual(
        await threaded.embed(texts, { kind: 'query' }),
        await embedder.embed(texts, { kind: 'query' }),
      );
      assert.deepEqual(await threaded.embed(texts), await embedder.embed(texts));
    } finally {
      await threaded.close();
    }
  });

  it('runs the background lane on threads of its own, nicer than the process by what it is given (Linux)', async (t) => {
    if (process.platform !== 'linux') return t.skip('per-thread nice values are a Linux feature');
    const niceOf = async (tid: string) => {
      const stat = await fs.readFile(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const niceValues = async () => {
      const tids = await fs.readdir('/proc/self/task');
      return Promise.all(tids.map(niceOf));
    };
    const processNice = os.getPriority();
    const lowered = Math.min(19, processNice + 7);
    if (lowered === processNice) return t.skip('the process already runs at nice 19');
    const threaded = createThreadedEmbedder({
      model: 'e5',
      dir: files.dir,
      threads: { interactive: 1, background: 2 },
      niceness: { background: 7 },
    });
    try {
      const texts = ['Where does my sister live?'];
      const before = (await niceValues()).filter((n) => n === lowered).length;
      await withPriority('interactive', () => threaded.embed(texts, { kind: 'query' }));
      assert.equal(
        (await niceValues()).filter((n) => n === lowered).length,
        before,
        'the query lane keeps the process priority',
      );
      const vectors = await withPriority('background', () => threaded.embed(texts));
      assert.deepEqual(vectors, await embedder.embed(texts));
      // The lane's thread, and the intra-op thread the session started from it.
      assert.ok(
        (await niceValues()).filter((n) => n === lowered).length >= before + 2,
        `the background lane's threads at ${lowered}`,
      );
      assert.equal(os.getPriority(), processNice, 'the process itself keeps its priority');
    } finally {
      await threaded.close();
    }
  });
});

describe('installing e5-small-v2', () => {
  let scratch: TempDir;
  before(async () => {
    scratch = await createTempDir('e5-install-');
  });
  after(() => scratch?.remove());

  it('fetches, verifies and unpacks the artifact once; a second call only reads the manifest', async () => {
    const dir = path.join(scratch.path, 'e5-small-v2-q');
    const lines: string[] = [];
    const files = await ensureE5Model({ projectRoot: ROOT, dir, log: (m) => lines.push(m) });
    assert.ok(
      lines.some((l) => l.includes('SHA-1 verified')),
      lines.join('\n'),
    );
    assert.deepEqual((await fs.readdir(dir)).sort(), [
      'manifest.json',
      'model.onnx',
      'tokenizer.json',
    ]);
    // Nothing of the install is left beside it but its log and (released) lock.
    assert.deepEqual(
      (await fs.readdir(scratch.path)).filter((name) => name.includes('.tmp-')),
      [],
    );
    const started = Date.now();
    const again: string[] = [];
    assert.deepEqual(
      await ensureE5Model({ projectRoot: ROOT, dir, log: (m) => again.push(m) }),
      files,
    );
    assert.ok(Date.now() - started < 1000, `the second call took ${Date.now() - started} ms`);
    assert.equal(again.length, 1);
    assert.match(again[0]!, /^using /);
  });

  it('installs again over a damaged model', async () => {
    const dir = path.join(scratch.path, 'e5-small-v2-q');
    const files = await ensureE5Model({ projectRoot: ROOT, dir });
    await fs.truncate(files.modelPath, 1000);
    await ensureE5Model({ projectRoot: ROOT, dir });
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as {
      onnxBytes: number;
    };
    assert.equal((await fs.stat(files.modelPath)).size, manifest.onnxBytes);
  });
});
