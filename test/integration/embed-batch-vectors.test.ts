import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { withPriority } from '../../core/concurrency/work-priority.ts';
import { seededRandom } from '../../core/util/seeded-random.ts';
import { createE5Embedder } from '../../infra/local/e5/e5-embedder.ts';
import { ensureE5Model, type E5ModelFiles } from '../../infra/local/e5/install.ts';
import type { LocalEmbedder } from '../../infra/local/local-model.ts';
import { createThreadedEmbedder } from '../../infra/local/threaded-embedder.ts';
import { ROOT } from '../support/child-process.ts';

const DIMENSION = 384;
/** The model quantises activations per call, so a text's batch mates are part of its vector. */
const RUN = 8;
const WORDS =
  'we hiked to the lake with the kids last weekend and my sister started her new job at the hospital on monday after the support group meeting'.split(
    ' ',
  );

/** LoCoMo-shaped memories of 1 to 90 words, seeded: one call's worth of indexing. */
function sampleMemories(count: number): string[] {
  const random = seededRandom(17);
  return Array.from({ length: count }, (_, i) => {
    const words = 1 + Math.floor(random() * random() * 90);
    const text = Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]);
    return `[${1 + (i % 28)} May, 2023] ${i % 2 ? 'Caroline' : 'Melanie'}: ${text.join(' ')}`;
  });
}

const cosine = (a: readonly number[], b: readonly number[]) =>
  a.reduce((sum, v, i) => sum + v * (b[i] ?? 0), 0);

/**
 * e5 fed as the product has fed it since it became the default embedder: the
 * prefixed texts of one call sorted by token count, run in groups of 8, each
 * padded with zeros at the end; token states averaged over a text's own tokens
 * and scaled to length 1. Only onnxruntime and the tokenizer, none of the
 * embedder's code.
 */
async function referenceEmbedder(files: E5ModelFiles) {
  const tokenizer = new Tokenizer(
    JSON.parse(await fs.readFile(files.tokenizerPath, 'utf8')) as object,
    { do_lower_case: true, model_max_length: 512 },
  );
  const session = await InferenceSession.create(files.modelPath, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const runGroup = async (ids: number[][]) => {
    const length = Math.max(...ids.map((seq) => seq.length));
    const dims = [ids.length, length];
    const input = new BigInt64Array(ids.length * length);
    const mask = new BigInt64Array(ids.length * length);
    ids.forEach((seq, row) =>
      seq.forEach((id, column) => {
        input[row * length + column] = BigInt(id);
        mask[row * length + column] = 1n;
      }),
    );
    const output = await session.run({
      input_ids: new Tensor('int64', input, dims),
      attention_mask: new Tensor('int64', mask, dims),
      token_type_ids: new Tensor('int64', new BigInt64Array(input.length), dims),
    });
    const states = output.last_hidden_state!.data as Float32Array;
    return ids.map((seq, row) => {
      const sum = new Array<number>(DIMENSION).fill(0);
      for (let token = 0; token < seq.length; token++) {
        for (let d = 0; d < DIMENSION; d++) {
          sum[d] = sum[d]! + states[(row * length + token) * DIMENSION + d]!;
        }
      }
      const norm = Math.hypot(...sum);
      return sum.map((v) => v / norm);
    });
  };
  return {
    async embed(texts: string[], prefix: string): Promise<number[][]> {
      const ids = texts.map((text) => tokenizer.encode(prefix + text).ids);
      const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length);
      const vectors = new Array<number[]>(texts.length);
      for (let start = 0; start < order.length; start += RUN) {
        const group = order.slice(start, start + RUN);
        const pooled = await runGroup(group.map((i) => ids[i]!));
        group.forEach((textIndex, row) => (vectors[textIndex] = pooled[row]!));
      }
      return vectors;
    },
    close: () => session.release(),
  };
}

describe('e5 vectors as indexing has produced them', () => {
  let files: E5ModelFiles;
  let embedder: LocalEmbedder;
  let reference: Awaited<ReturnType<typeof referenceEmbedder>>;
  const memories = sampleMemories(48);

  before(async () => {
    files = await ensureE5Model({ projectRoot: ROOT });
    embedder = await createE5Embedder({ modelDir: files.dir });
    reference = await referenceEmbedder(files);
  });
  after(async () => {
    await embedder?.close();
    await reference?.close();
  });

  it('gives one call of memories the vectors of the reference feeding (cosine ≥ 0.999 each)', async () => {
    const expected = await reference.embed(memories, 'passage: ');
    const actual = await embedder.embed(memories);
    for (const [i, vector] of actual.entries()) {
      const similarity = cosine(vector, expected[i]!);
      assert.ok(similarity >= 0.999, `memory ${i} has cosine ${similarity.toFixed(6)}`);
    }
  });

  it('embeds questions one at a time as `query: …`, as the reference does', async () => {
    for (const question of ['When did Melanie start her new job?', 'Where did we hike?']) {
      const [expected] = await reference.embed([question], 'query: ');
      const [actual] = await embedder.embed([question], { kind: 'query' });
      assert.ok(cosine(actual!, expected!) >= 0.999, question);
    }
  });

  it('returns the same vectors through the background worker thread', async () => {
    const threaded = createThreadedEmbedder({
      model: 'e5',
      dir: files.dir,
      threads: { interactive: 1, background: 1 },
    });
    try {
      const fromThread = await withPriority('background', () => threaded.embed(memories));
      const inProcess = await embedder.embed(memories);
      assert.deepEqual(fromThread, inProcess);
    } finally {
      await threaded.close();
    }
  });
});
