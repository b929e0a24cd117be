export interface MicroBatcherOptions<I, O> {
  /** How long the first item of a batch waits for company (not with `maxInFlight`). */
  windowMs: number;
  /**
   * Batches by load instead of by time: while fewer than this many batches
   * are running, items go at once (all those of one turn of the event loop
   * together); while that many are running, items gather until one returns
   * (or `maxBatch` is reached). An idle backend adds no wait to an item, a
   * busy one gets batches as large as its own pace allows. `windowMs` is then
   * unused.
   */
  maxInFlight?: number;
  /** A batch is sent as soon as it holds this many distinct items. */
  maxBatch: number;
  /** Runs one batch; must answer in input order. */
  run(items: I[]): Promise<O[]>;
  /** Items with the same key in one window are sent once and share the answer. */
  key?(item: I): string;
  /**
   * Runs one item on its own. When given, a batch of several items whose
   * `run` fails is retried item by item, so an item the backend rejects fails
   * only its own callers and the rest of the batch still gets its answers.
   */
  runOne?(item: I): Promise<O>;
  /**
   * Whether a failed batch is worth retrying item by item (default: always).
   * Say no for failures every item would meet alike, such as a rate limit.
   */
  retryEach?(error: unknown): boolean;
}

export interface MicroBatcherStats {
  items: number;
  batches: number;
  /** Items answered by an identical item already in the batch. */
  deduplicated: number;
}

export interface MicroBatcher<I, O> {
  submit(item: I): Promise<O>;
  stats(): MicroBatcherStats;
}

interface Pending<I, O> {
  item: I;
  waiters: { resolve(value: O): void; reject(error: unknown): void }[];
}

const resolveAll = <I, O>(pending: Pending<I, O>, value: O) =>
  pending.waiters.forEach((w) => w.resolve(value));
const rejectAll = <I, O>(pending: Pending<I, O>, error: unknown) =>
  pending.waiters.forEach((w) => w.reject(error));

/** Answers every waiter of a batch from `run`'s results, in input order. */
async function runBatch<I, O>(options: MicroBatcherOptions<I, O>, sending: Pending<I, O>[]) {
  const results = await options.run(sending.map((p) => p.item));
  if (!Array.isArray(results)) throw new Error('batch answered something other than a list');
  sending.forEach((pending, i) => {
    if (i < results.length) resolveAll(pending, results[i] as O);
    else rejectAll(pending, new Error('batch answered too few results'));
  });
}

/** Whether a failed batch goes item by item; a `retryEach` that throws counts as no. */
function retriesEach<I, O>(options: MicroBatcherOptions<I, O>, error: unknown): boolean {
  try {
    return options.retryEach?.(error) ?? true;
  } catch {
    return false;
  }
}

/** After a failed batch: each item on its own, so one item's failure stays its own. */
function runEach<I, O>(runOne: (item: I) => Promise<O>, sending: Pending<I, O>[]) {
  for (const pending of sending) {
    // Through a promise, so a `runOne` that throws synchronously still rejects its waiters.
    void Promise.resolve()
      .then(() => runOne(pending.item))
      .then(
        (value) => resolveAll(pending, value),
        (error: unknown) => rejectAll(pending, error),
      );
  }
}

/**
 * Gathers items submitted within a short window into one call of `run`, and
 * answers identical items once: concurrent callers share round trips to a
 * model or an index instead of each paying for one. With `runOne`, a failed
 * batch is retried item by item, so batching never makes callers share a fate.
 */
export function createMicroBatcher<I, O>(options: MicroBatcherOptions<I, O>): MicroBatcher<I, O> {
  const keyOf = options.key ?? (() => Math.random().toString(36));
  const { maxInFlight } = options;
  let batch = new Map<string, Pending<I, O>>();
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Immediate | undefined;
  let inFlight = 0;
  const counters: MicroBatcherStats = { items: 0, batches: 0, deduplicated: 0 };

  const failed = (sending: Pending<I, O>[], error: unknown) => {
    const { runOne } = options;
    if (runOne && sending.length > 1 && retriesEach(options, error)) runEach(runOne, sending);
    else sending.forEach((p) => rejectAll(p, error));
  };

  /** By load: the gathered items go after this turn, if a batch may start now. */
  const sendWhenFree = () => {
    if (soon || batch.size === 0 || inFlight >= maxInFlight!) return;
    soon = setImmediate(flush);
  };

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (soon) clearImmediate(soon);
    soon = undefined;
    const sending = [...batch.values()];
    batch = new Map();
    if (sending.length === 0) return;
    counters.batches++;
    inFlight++;
    // Through a promise, so a `run` that throws synchronously still reaches `failed`.
    void Promise.resolve()
      .then(() => runBatch(options, sending))
      .catch((error: unknown) => failed(sending, error))
      .finally(() => {
        inFlight--;
        if (maxInFlight !== undefined) sendWhenFree();
      });
  };

  return {
    submit(item) {
      counters.items++;
      return new Promise<O>((resolve, reject) => {
        const key = keyOf(item);
        const existing = batch.get(key);
        if (existing) {
          counters.deduplicated++;
          existing.waiters.push({ resolve, reject });
          return;
        }
        batch.set(key, { item, waiters: [{ resolve, reject }] });
        if (batch.size >= options.maxBatch) flush();
        else if (maxInFlight !== undefined) sendWhenFree();
        else timer ??= setTimeout(flush, options.windowMs);
      });
    },
    stats: () => ({ ...counters }),
  };
}
