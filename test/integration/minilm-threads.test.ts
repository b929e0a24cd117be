import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBatchingEmbedder } from '../../core/batching/batching-embedder.ts';
import { currentPriority, withPriority } from '../../core/concurrency/work-priority.ts';
import type { Embedder } from '../../core/ports/embedder.ts';
import { ensureMiniLmModel } from '../../infra/local/minilm/install.ts';
import {
  createMiniLmEmbedder,
  type MiniLmEmbedder,
} from '../../infra/local/minilm/minilm-embedder.ts';
import { createThreadedEmbedder } from '../../infra/local/threaded-embedder.ts';
import { ROOT } from '../support/child-process.ts';

describe('the local embedder off the event loop', () => {
  let modelDir: string;
  let inProcess: MiniLmEmbedder;
  let threaded: MiniLmEmbedder;

  before(async () => {
    const files = await ensureMiniLmModel({ projectRoot: ROOT, log: () => {} });
    modelDir = files.dir;
    inProcess = await createMiniLmEmbedder({ modelDir, threads: 1 });
    threaded = createThreadedEmbedder({
      model: 'minilm',
      dir: modelDir,
      threads: { interactive: 1, background: 1 },
    });
  });

  after(async () => {
    await threaded?.close();
    await inProcess?.close();
  });

  it('gives exactly the vectors of the in-process model, in order, at either priority', async () => {
    const texts = ['The weather is lovely today.', 'cat', 'He drove to the stadium.', ''];
    const expected = await inProcess.embed(texts);
    assert.deepEqual(await threaded.embed(texts), expected);
    assert.deepEqual(await withPriority('background', () => threaded.embed(texts)), expected);
    assert.deepEqual(await threaded.embed([]), []);
  });

  it('keeps the event loop free while a large background batch is embedded', async () => {
    const texts = Array.from(
      { length: 256 },
      (_, i) => `memory number ${i} about a walk by the lake`,
    );
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const batch = withPriority('background', () => threaded.embed(texts));
    // Queries meanwhile are answered by their own thread, not after the batch.
    const query = await threaded.embed(['where did I walk?']);
    const batchDoneFirst = await Promise.race([batch.then(() => true), Promise.resolve(false)]);
    const vectors = await batch;
    clearInterval(ticker);
    assert.equal(query.length, 1);
    assert.equal(vectors.length, 256);
    assert.equal(batchDoneFirst, false, 'the query waited for the whole background batch');
    assert.ok(ticks > 5, `the event loop ran ${ticks} timer ticks during the batch`);
  });

  it('fails the requests of a thread that cannot load its model, and leaves other embedders alone', async () => {
    const dir = path.join(modelDir, 'does-not-exist');
    const broken = createThreadedEmbedder({
      model: 'minilm',
      dir,
      threads: { interactive: 1, background: 1 },
    });
    await assert.rejects(broken.embed(['x']), /local embedder/);
    await assert.rejects(broken.embed(['y']), /local embedder/);
    await broken.close();
    assert.equal((await threaded.embed(['still fine'])).length, 1);
  });
});

describe('the batching embedder keeps priorities and kinds apart', () => {
  const probe = () => {
    const calls: { texts: readonly string[]; priority: string; kind: string }[] = [];
    const inner: Embedder = {
      id: 'probe',
      dimension: 1,
      embed: async (texts, options) => {
        calls.push({ texts, priority: currentPriority(), kind: options?.kind ?? 'passage' });
        return texts.map(() => [1]);
      },
    };
    return { calls, inner };
  };

  it('never merges a query into a background batch, and passes each batch its priority', async () => {
    const { calls, inner } = probe();
    const batching = createBatchingEmbedder(inner, { windowMs: 20, maxBatch: 64 });
    await Promise.all([
      withPriority('background', () => batching.embed(['a', 'b'])),
      batching.embed(['q']),
      withPriority('background', () => batching.embed(['c'])),
    ]);
    const byPriority = Object.fromEntries(
      calls.map((c) => [c.priority, [...c.texts].sort().join(',')]),
    );
    assert.deepEqual(byPriority, { background: 'a,b,c', interactive: 'q' });
    assert.equal(batching.stats().items, 4);
  });

  it('never embeds a question as a passage: the same text of two kinds goes in two batches', async () => {
    const { calls, inner } = probe();
    const batching = createBatchingEmbedder(inner, { windowMs: 20, maxBatch: 64 });
    await Promise.all([
      batching.embed(['where do I work?'], { kind: 'query' }),
      batching.embed(['where do I work?']),
      batching.embed(['who is my doctor?'], { kind: 'query' }),
    ]);
    const byKind = Object.fromEntries(calls.map((c) => [c.kind, [...c.texts].sort().join(',')]));
    assert.deepEqual(byKind, {
      query: 'where do I work?,who is my doctor?',
      passage: 'where do I work?',
    });
  });
});
