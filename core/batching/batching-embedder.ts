import { AppError, type ErrorCode } from '../errors.ts';
import { currentPriority, withPriority, type WorkPriority } from '../concurrency/work-priority.ts';
import { embedKind, type EmbedKind, type Embedder } from '../ports/embedder.ts';
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
 * How many batches of interactive texts (a request's question) run at once:
 * they batch by load, not by time, so a question waits for no window.
 */
export const INTERACTIVE_IN_FLIGHT = 2;

/**
 * An embedder that merges concurrent `embed` calls into batched calls of the
 * inner embedder (at most `maxBatch` texts each), embedding identical texts
 * once. Background texts (indexing) gather for `windowMs`; interactive ones
 * go at once while fewer than {@link INTERACTIVE_IN_FLIGHT} batches run and
 * gather only while the model is busy. A batch the model rejects for its content
 * is retried text by text, so one caller's text cannot fail another's; an
 * outage or a rate limit fails the batch at once.
 */
export function createBatchingEmbedder(
  inner: Embedder,
  options: { windowMs: number; maxBatch: number },
): Embedder & { stats(): MicroBatcherStats } {
  // One batcher per priority and kind: a query's text never waits in a batch of indexing
  // texts, each batch reaches the inner embedder at the priority of the callers it holds,
  // and a question is never embedded as a passage (or the other way round).
  const batcherFor = (priority: WorkPriority, kind: EmbedKind) =>
    createMicroBatcher<string, number[]>({
      ...options,
      ...(priority === 'interactive' ? { maxInFlight: INTERACTIVE_IN_FLIGHT } : {}),
      key: (text) => text,
      run: (texts) => withPriority(priority, () => inner.embed(texts, { kind })),
      runOne: (text) =>
        withPriority(priority, async () => {
          const [vector] = await inner.embed([text], { kind });
          if (!vector) throw new Error('embedder answered no vector');
          return vector;
        }),
      retryEach: (error) => !failsEveryText(error),
    });
  const batchers = new Map<string, ReturnType<typeof batcherFor>>();
  const batcher = (priority: WorkPriority, kind: EmbedKind) => {
    const key = `${priority}/${kind}`;
    let found = batchers.get(key);
    if (!found) {
      found = batcherFor(priority, kind);
      batchers.set(key, found);
    }
    return found;
  };
  return {
    id: inner.id,
    dimension: inner.dimension,
    embed: (texts, embedOptions) => {
      const chosen = batcher(currentPriority(), embedKind(embedOptions));
      return Promise.all(texts.map((t) => chosen.submit(t)));
    },
    stats: () => sumStats([...batchers.values()].map((b) => b.stats())),
  };
}

function sumStats(all: MicroBatcherStats[]): MicroBatcherStats {
  return all.reduce(
    (sum, s) => ({
      items: sum.items + s.items,
      batches: sum.batches + s.batches,
      deduplicated: sum.deduplicated + s.deduplicated,
    }),
    { items: 0, batches: 0, deduplicated: 0 },
  );
}
