import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBatchingEmbedder } from '../../core/batching/batching-embedder.ts';
import { createMicroBatcher } from '../../core/batching/micro-batcher.ts';
import { withPriority } from '../../core/concurrency/work-priority.ts';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';
import { countingEmbedder } from '../support/counting-embedder.ts';

/** A `run` that records every batch it receives and answers each item with `answer(item)`. */
function recordingRun<I, O>(answer: (item: I) => O) {
  const batches: I[][] = [];
  return {
    batches,
    run: (items: I[]) => {
      batches.push([...items]);
      return Promise.resolve(items.map(answer));
    },
  };
}

describe('micro-batcher', () => {
  it('sends items submitted within one window as one run, in submission order', async () => {
    const { batches, run } = recordingRun((n: number) => n * 10);
    const batcher = createMicroBatcher({ windowMs: 5, maxBatch: 100, run });

    const answers = await Promise.all([3, 1, 2].map((n) => batcher.submit(n)));

    assert.deepEqual(batches, [[3, 1, 2]]);
    assert.deepEqual(answers, [30, 10, 20]);
    assert.deepEqual(batcher.stats(), { items: 3, batches: 1, deduplicated: 0 });
  });

  it('splits a burst larger than maxBatch into full batches and a remainder, keeping order', async () => {
    const { batches, run } = recordingRun((n: number) => `#${n}`);
    const batcher = createMicroBatcher({ windowMs: 5, maxBatch: 10, run });
    const items = Array.from({ length: 25 }, (_, i) => i);

    const answers = await Promise.all(items.map((n) => batcher.submit(n)));

    assert.deepEqual(
      batches.map((b) => b.length),
      [10, 10, 5],
    );
    assert.deepEqual(batches.flat(), items);
    assert.deepEqual(
      answers,
      items.map((n) => `#${n}`),
    );
    assert.deepEqual(batcher.stats(), { items: 25, batches: 3, deduplicated: 0 });
  });

  it('runs identical keys of one window once and gives every caller the same answer', async () => {
    const { batches, run } = recordingRun((text: string) => ({ text }));
    const batcher = createMicroBatcher({ windowMs: 5, maxBatch: 100, run, key: (t) => t });

    const [a1, b, a2, a3] = await Promise.all(['a', 'b', 'a', 'a'].map((t) => batcher.submit(t)));

    assert.deepEqual(batches, [['a', 'b']]);
    assert.equal(a1, a2);
    assert.equal(a1, a3);
    assert.deepEqual(a1, { text: 'a' });
    assert.deepEqual(b, { text: 'b' });
    assert.deepEqual(batcher.stats(), { items: 4, batches: 1, deduplicated: 2 });
  });

  it('counts only distinct items towards maxBatch', async () => {
    const { batches, run } = recordingRun((text: string) => text.toUpperCase());
    const batcher = createMicroBatcher({ windowMs: 5, maxBatch: 2, run, key: (t) => t });

    const answers = await Promise.all(['a', 'a', 'a', 'b'].map((t) => batcher.submit(t)));

    assert.deepEqual(batches, [['a', 'b']]);
    assert.deepEqual(answers, ['A', 'A', 'A', 'B']);
  });

  it('runs an identical key again when it comes in a later window', async () => {
    const { batches, run } = recordingRun((text: string) => text.length);
    const batcher = createMicroBatcher({ windowMs: 5, maxBatch: 100, run, key: (t) => t });

    assert.equal(await batcher.submit('same'), 4);
    assert.equal(await batcher.submit('same'), 4);

    assert.deepEqual(batches, [['same'], ['same']]);
    assert.deepEqual(batcher.stats(), { items: 2, batches: 2, deduplicated: 0 });
  });

  it('sends equal items separately when no key function is given', async () => {
    const { batches, run } = recordingRun((text: string) => text);
    const batcher = createMicroBatcher({ windowMs: 5, maxBatch: 100, run });

    await Promise.all(['x', 'x'].map((t) => batcher.submit(t)));

    assert.deepEqual(batches, [['x', 'x']]);
    assert.equal(batcher.stats().deduplicated, 0);
  });

  it('rejects every waiter of a failed batch, and answers the next batch normally', async () => {
    const failure = new Error('index unavailable');
    let calls = 0;
    const batcher = createMicroBatcher<string, string>({
      windowMs: 5,
      maxBatch: 2,
      key: (t) => t,
      run: (items) => {
        calls++;
        return calls === 1 ? Promise.reject(failure) : Promise.resolve(items.map((t) => `ok:${t}`));
      },
    });

    // 'a', 'a' (deduplicated) and 'b' fill the first batch; 'c' and 'd' the second.
    const first = ['a', 'a', 'b'].map((t) => batcher.submit(t));
    const second = ['c', 'd'].map((t) => batcher.submit(t));

    await Promise.all(first.map((waiter) => assert.rejects(waiter, (error) => error === failure)));
    assert.deepEqual(await Promise.all(second), ['ok:c', 'ok:d']);
    assert.equal(calls, 2);
  });

  it('rejects the items a run left without an answer and resolves the others', async () => {
    const batcher = createMicroBatcher<string, string>({
      windowMs: 5,
      maxBatch: 100,
      key: (t) => t,
      run: (items) => Promise.resolve(items.slice(0, 1).map((t) => `ok:${t}`)),
    });

    const answered = batcher.submit('a');
    // 'b' twice: the deduplicated waiter is rejected too.
    const unanswered = ['b', 'c', 'b'].map((t) => batcher.submit(t));

    await Promise.all(unanswered.map((w) => assert.rejects(w, /too few results/)));
    assert.equal(await answered, 'ok:a');
  });
});

describe('batching embedder', () => {
  it('keeps the id and dimension of the embedder it wraps', () => {
    const inner = createHashingEmbedder({ dimension: 32 });
    const batching = createBatchingEmbedder(inner, { windowMs: 5, maxBatch: 10 });
    assert.equal(batching.id, inner.id);
    assert.equal(batching.dimension, 32);
  });

  it('returns vectors in input order for repeated texts, embedding each distinct text once', async () => {
    const reference = createHashingEmbedder({ dimension: 32 });
    const inner = countingEmbedder(createHashingEmbedder({ dimension: 32 }));
    const batching = createBatchingEmbedder(inner, { windowMs: 5, maxBatch: 10 });
    const texts = [
      'tea with Ana',
      'passport renewal',
      'tea with Ana',
      'garden',
      'passport renewal',
    ];

    const vectors = await batching.embed(texts);

    assert.deepEqual(vectors, await reference.embed(texts));
    assert.deepEqual(inner.calls, [['tea with Ana', 'passport renewal', 'garden']]);
    assert.ok(inner.calls.flat().length < texts.length);
    assert.deepEqual(batching.stats(), { items: 5, batches: 1, deduplicated: 2 });
  });

  it('merges concurrent embed calls of different callers into one inner call', async () => {
    const reference = createHashingEmbedder({ dimension: 32 });
    const inner = countingEmbedder(createHashingEmbedder({ dimension: 32 }));
    const batching = createBatchingEmbedder(inner, { windowMs: 5, maxBatch: 10 });

    const [one, two, three] = await Promise.all([
      batching.embed(['violin lessons']),
      batching.embed(['Ghent', 'violin lessons']),
      batching.embed(['students']),
    ]);

    assert.equal(inner.calls.length, 1);
    assert.deepEqual(inner.calls[0], ['violin lessons', 'Ghent', 'students']);
    assert.deepEqual(one, await reference.embed(['violin lessons']));
    assert.deepEqual(two, await reference.embed(['Ghent', 'violin lessons']));
    assert.deepEqual(three, await reference.embed(['students']));
  });

  it("embeds a request's question at once and background texts after the window", async () => {
    const inner = countingEmbedder(createHashingEmbedder({ dimension: 8 }));
    const batching = createBatchingEmbedder(inner, { windowMs: 500, maxBatch: 10 });
    const asked = await Promise.race([
      batching.embed(['when is the recital?'], { kind: 'query' }).then(() => 'answered'),
      new Promise((resolve) => setTimeout(() => resolve('waited'), 400)),
    ]);
    assert.equal(asked, 'answered', 'an interactive text waits for no window');
    let indexed = false;
    void withPriority('background', () => batching.embed(['a passage'])).then(() => (indexed = true)); // prettier-ignore
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(indexed, false, 'a background text still gathers for the window');
  });

  it('splits a large embed call into inner calls of at most maxBatch texts', async () => {
    const reference = createHashingEmbedder({ dimension: 16 });
    const inner = countingEmbedder(createHashingEmbedder({ dimension: 16 }));
    const batching = createBatchingEmbedder(inner, { windowMs: 5, maxBatch: 4 });
    const texts = Array.from({ length: 9 }, (_, i) => `note ${i}`);

    const vectors = await batching.embed(texts);

    assert.deepEqual(
      inner.calls.map((c) => c.length),
      [4, 4, 1],
    );
    assert.deepEqual(vectors, await reference.embed(texts));
  });
});

describe('micro-batcher with a misbehaving run', () => {
  it('rejects every waiter of a batch whose run throws synchronously', async () => {
    const batcher = createMicroBatcher<string, string>({
      windowMs: 5,
      maxBatch: 2,
      run: () => {
        throw new Error('boom');
      },
    });
    const waiters = ['a', 'b'].map((t) => batcher.submit(t));
    await Promise.all(waiters.map((w) => assert.rejects(w, /boom/)));
  });

  it('rejects every waiter when run answers something other than a list', async () => {
    const batcher = createMicroBatcher<string, string>({
      windowMs: 5,
      maxBatch: 10,
      run: async () => 'nope' as unknown as string[],
    });
    await assert.rejects(batcher.submit('a'), /other than a list/);
  });
});

describe('micro-batcher by load (maxInFlight)', () => {
  /** A `run` whose batches stay open until `release` answers the oldest one. */
  function heldRun() {
    const batches: string[][] = [];
    const open: (() => void)[] = [];
    return {
      batches,
      release: () => open.shift()?.(),
      run: (items: string[]) => {
        batches.push([...items]);
        return new Promise<string[]>((resolve) => open.push(() => resolve(items.map((t) => t.toUpperCase())))); // prettier-ignore
      },
    };
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('sends an idle backend the items of one turn at once, never waiting for the window', async () => {
    const { batches, run } = recordingRun((t: string) => t.length);
    const batcher = createMicroBatcher({ windowMs: 60_000, maxInFlight: 1, maxBatch: 10, run });
    const answers = await Promise.all(['a', 'bb'].map((t) => batcher.submit(t)));
    assert.deepEqual(batches, [['a', 'bb']]);
    assert.deepEqual(answers, [1, 2]);
  });

  it('gathers what arrives while maxInFlight batches run and sends it when one returns', async () => {
    const held = heldRun();
    const batcher = createMicroBatcher({ windowMs: 60_000, maxInFlight: 2, maxBatch: 10, key: (t: string) => t, run: held.run }); // prettier-ignore
    const first = batcher.submit('a');
    await turn();
    const second = batcher.submit('b');
    await turn();
    const later = ['c', 'd', 'c'].map((t) => batcher.submit(t));
    await turn();
    assert.deepEqual(held.batches, [['a'], ['b']], 'two running: the third waits');
    held.release();
    assert.equal(await first, 'A');
    await turn();
    await turn();
    assert.deepEqual(held.batches, [['a'], ['b'], ['c', 'd']]);
    held.release();
    held.release();
    assert.deepEqual(await Promise.all([second, ...later]), ['B', 'C', 'D', 'C']);
    assert.deepEqual(batcher.stats(), { items: 5, batches: 3, deduplicated: 1 });
  });

  it('sends a full batch even while maxInFlight batches run', async () => {
    const held = heldRun();
    const batcher = createMicroBatcher({ windowMs: 60_000, maxInFlight: 1, maxBatch: 2, run: held.run }); // prettier-ignore
    void batcher.submit('a');
    await turn();
    void batcher.submit('b');
    void batcher.submit('c');
    await turn();
    assert.deepEqual(held.batches, [['a'], ['b', 'c']]);
  });

  it('keeps sending after a failed batch', async () => {
    let calls = 0;
    const batcher = createMicroBatcher({
      windowMs: 60_000,
      maxInFlight: 1,
      maxBatch: 10,
      run: (items: string[]) => (++calls === 1 ? Promise.reject(new Error('down')) : Promise.resolve(items)), // prettier-ignore
    });
    await assert.rejects(batcher.submit('a'), /down/);
    assert.equal(await batcher.submit('b'), 'b');
  });
});
