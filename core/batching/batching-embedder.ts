import { AppError, type ErrorCode } from '../errors.ts';
import { currentPriority, withPriority, type WorkPriority } from '../concurrency/work-priority.ts';
import type { Embedder } from '../ports/embedder.ts';
import { createMicroBatcher, type MicroBatcherStats } from './micro-batcher.ts';

/** Failures of the model itself: every text would meet them, so they are not retried text by text. */
const SHARED_FAILURES = new Set<ErrorCode>([
  'rate_limited',
  'overloaded',
  'dependency_unavailable',
  'timeout',
]);

const failsEveryText = (error: unknown) =>
  error instanceof AppError && SHARED_FAILURES.has(error.code);

/**
 * An embedder that merges concurrent `embed` calls made within `windowMs`
 * into batched calls of the inner embedder (at most `maxBatch` texts each),
 * embedding identical texts once. A batch the model rejects for its content
 * is retried text by text, so one caller's text cannot fail another's; an
 * outage or a rate limit fails the batch at once.
 */
export function createBatchingEmbedder(
  inner: Embedder,
  options: { windowMs: number; maxBatch: number },
): Embedder & { stats(): MicroBatcherStats } {
  // One batcher per priority: a query's text never waits in a batch of indexing texts, and
  // each batch reaches the inner embedder at the priority of the callers it holds.
  const batcherFor = (priority: WorkPriority) =>
    createMicroBatcher<string, number[]>({
      ...options,
      key: (text) => text,
      run: (texts) => withPriority(priority, () => inner.embed(texts)),
      runOne: (text) =>
        withPriority(priority, async () => {
          const [vector] = await inner.embed([text]);
          if (!vector) throw new Error('embedder answered no vector');
          return vector;
        }),
      retryEach: (error) => !failsEveryText(error),
    });
  const batchers = { interactive: batcherFor('interactive'), background: batcherFor('background') };
  return {
    id: inner.id,
    dimension: inner.dimension,
    embed: (texts) => {
      const batcher = batchers[currentPriority()];
      return Promise.all(texts.map((t) => batcher.submit(t)));
    },
    stats: () => sumStats(batchers.interactive.stats(), batchers.background.stats()),
  };
}

function sumStats(a: MicroBatcherStats, b: MicroBatcherStats): MicroBatcherStats {
  return {
    items: a.items + b.items,
    batches: a.batches + b.batches,
    deduplicated: a.deduplicated + b.deduplicated,
  };
}
