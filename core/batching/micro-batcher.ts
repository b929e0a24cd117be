export interface MicroBatcherOptions<I, O> {
  /** How long the first item of a batch waits for company. */
  windowMs: number;
  /** A batch is sent as soon as it holds this many distinct items. */
  maxBatch: number;
  /** Runs one batch; must answer in input order. */
  run(items: I[]): Promise<O[]>;
  /** Items with the same key in one window are sent once and share the answer. */
  key?(item: I): string;
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

/**
 * Gathers items submitted within a short window into one call of `run`, and
 * answers identical items once: concurrent callers share round trips to a
 * model or an index instead of each paying for one.
 */
export function createMicroBatcher<I, O>(options: MicroBatcherOptions<I, O>): MicroBatcher<I, O> {
  const keyOf = options.key ?? (() => Math.random().toString(36));
  let batch = new Map<string, Pending<I, O>>();
  let timer: NodeJS.Timeout | undefined;
  const counters: MicroBatcherStats = { items: 0, batches: 0, deduplicated: 0 };

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const sending = [...batch.values()];
    batch = new Map();
    if (sending.length === 0) return;
    counters.batches++;
    // Through a promise, so a `run` that throws synchronously still rejects every waiter.
    void Promise.resolve()
      .then(() => options.run(sending.map((p) => p.item)))
      .then((results) => {
        if (!Array.isArray(results)) throw new Error('batch answered something other than a list');
        sending.forEach((pending, i) => {
          if (i < results.length) pending.waiters.forEach((w) => w.resolve(results[i] as O));
          else
            pending.waiters.forEach((w) => w.reject(new Error('batch answered too few results')));
        });
      })
      .catch((error: unknown) => sending.forEach((p) => p.waiters.forEach((w) => w.reject(error))));
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
        else timer ??= setTimeout(flush, options.windowMs);
      });
    },
    stats: () => ({ ...counters }),
  };
}
