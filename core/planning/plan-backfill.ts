import type { WaitingTokenBucket } from '../concurrency/token-bucket.ts';
import type { PlanFallback } from './context-plan.ts';
import type { PlanCache } from './plan-service.ts';
import type { PlanOutcome } from './planner.ts';

/** The fallbacks worth planning again later: the model was busy or slow, not wrong. */
export const BACKFILL_REASONS: readonly PlanFallback[] = ['rate_limited', 'timeout'];

export interface PlanBackfillOptions {
  /** Messages waiting at most; beyond it the oldest is dropped (default 256). */
  capacity?: number;
  /** Background model calls in flight at most (default 4). */
  concurrency?: number;
  /** How long to wait before asking the bucket again after it had no token (default 200 ms). */
  retryMs?: number;
}

/** What the background planner did since start, and what it holds now (for `/metrics`). */
export interface PlanBackfillStats {
  /** Messages waiting for a token now. */
  queued: number;
  /** Background model calls in flight now. */
  inFlight: number;
  /** Messages accepted into the queue. */
  enqueued: number;
  /** Messages refused because the same key was already waiting or being planned. */
  deduplicated: number;
  /** Messages pushed out of a full queue unplanned (the oldest first). */
  dropped: number;
  /** Model plans written to the plan cache. */
  filled: number;
  /** Messages found already cached (or planned by a request meanwhile) when their turn came: no model call of their own. */
  skipped: number;
  /** Background calls that fell back again, by why; nothing was cached for them. */
  failed: Partial<Record<PlanFallback, number>>;
}

/** Plans one message with the model; `shared` when it joined a call already in flight. */
export type PlanFlight = (key: string, message: string) => { promise: Promise<PlanOutcome>; shared: boolean }; // prettier-ignore

/** What the background planner runs over. */
export interface PlanBackfillDeps {
  bucket: WaitingTokenBucket;
  cache: PlanCache;
  plan: PlanFlight;
  options?: PlanBackfillOptions;
}

/**
 * Plans in the background the messages whose request planned heuristically
 * because the model was busy (no token) or slow (timed out), so that the
 * message's next occurrence finds a model plan in the plan cache. Bounded:
 * at most `capacity` messages wait (one per cache key; the oldest is dropped
 * when full), newest first, since repeats are of recent messages; a model call
 * starts only when the bucket has a token at once (it never waits for one, so
 * requests keep first claim on the model's budget) and at most `concurrency`
 * run at a time. A call that falls back again is counted, never cached and
 * not retried: the next request that falls back queues the message again.
 * Nothing here is awaited by a request.
 */
export function createPlanBackfill(deps: PlanBackfillDeps): PlanBackfill {
  return new PlanBackfill(deps);
}

export class PlanBackfill {
  private readonly capacity: number;
  private readonly concurrency: number;
  private readonly retryMs: number;
  // Insertion order is age order: the last entry is the newest message.
  private readonly queue = new Map<string, string>();
  // Keys taken off the queue: being checked against the cache and the bucket, or in flight.
  private readonly active = new Set<string>();
  private readonly counts = { enqueued: 0, deduplicated: 0, dropped: 0, filled: 0, skipped: 0 };
  private readonly failed: PlanBackfillStats['failed'] = {};
  private inFlight = 0;
  private pumping = false;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly deps: PlanBackfillDeps) {
    this.capacity = Math.max(1, deps.options?.capacity ?? 256);
    this.concurrency = Math.max(1, deps.options?.concurrency ?? 4);
    this.retryMs = deps.options?.retryMs ?? 200;
  }

  /** Queues `message` to be planned by the model under `key`; returns at once. */
  enqueue(key: string, message: string): void {
    if (this.closed) return;
    if (this.queue.has(key) || this.active.has(key)) {
      this.counts.deduplicated++;
      return;
    }
    if (this.queue.size >= this.capacity) {
      const oldest = this.queue.keys().next();
      if (!oldest.done) {
        this.queue.delete(oldest.value);
        this.counts.dropped++;
      }
    }
    this.queue.set(key, message);
    this.counts.enqueued++;
    // While a retry is pending the bucket had no token a moment ago: the retry asks again.
    if (!this.retry) void this.pump();
  }

  stats(): PlanBackfillStats {
    // A message being checked against the cache and the bucket still waits.
    const queued = this.queue.size + this.active.size - this.inFlight;
    return { queued, inFlight: this.inFlight, ...this.counts, failed: { ...this.failed } };
  }

  /** Resolves once nothing waits and nothing is in flight (tests, orderly shutdown). */
  settled(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    this.retry?.ref();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops what waits and starts nothing more; calls in flight finish. */
  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.counts.dropped += this.queue.size;
    this.queue.clear();
    this.settle();
  }

  private idle(): boolean {
    return this.queue.size === 0 && this.active.size === 0;
  }

  private settle(): void {
    if (!this.idle()) return;
    const done = this.waiters;
    this.waiters = [];
    for (const resolve of done) resolve();
  }

  private newest(): [string, string] | undefined {
    let last: [string, string] | undefined;
    for (const entry of this.queue) last = entry;
    return last;
  }

  /** Starts model calls while messages wait, tokens come at once and slots are free. */
  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      while (!this.closed && this.queue.size > 0 && this.inFlight < this.concurrency) {
        const [key, message] = this.newest()!;
        this.queue.delete(key);
        this.active.add(key);
        const claimed = await this.claim(key);
        if (claimed === 'go') {
          this.start(key, message);
          continue;
        }
        this.active.delete(key);
        if (claimed === 'no_token') {
          if (!this.queue.has(key)) this.queue.set(key, message);
          this.retryLater();
          return;
        }
      }
    } finally {
      this.pumping = false;
      this.settle();
    }
  }

  private retryLater(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.pump();
    }, this.retryMs);
    // Waiting for tokens keeps no process alive, unless someone awaits `settled()`.
    if (this.waiters.length === 0) this.retry.unref();
  }

  /**
   * Whether a token came for `key` and it still needs a plan; never rejects. The
   * token first: under sustained load there is none, and asking the cache (its
   * L3 is the database) for every waiting message would load it for nothing.
   */
  private async claim(key: string): Promise<'go' | 'cached' | 'no_token' | 'error'> {
    try {
      if (!(await this.deps.bucket.take(0))) return 'no_token';
      if ((await this.deps.cache.get(key)).value) {
        this.counts.skipped++;
        return 'cached';
      }
      return 'go';
    } catch {
      this.fail('model_error');
      return 'error';
    }
  }

  private start(key: string, message: string): void {
    this.inFlight++;
    void this.fill(key, message).finally(() => {
      this.inFlight--;
      this.active.delete(key);
      this.settle();
      void this.pump();
    });
  }

  /** One background model call; only a model plan of its own is cached. */
  private async fill(key: string, message: string): Promise<void> {
    try {
      const flight = this.deps.plan(key, message);
      const outcome = await flight.promise;
      const why = outcome.plan.fallback;
      if (why) this.fail(why);
      else if (flight.shared) this.counts.skipped++;
      else if (outcome.plan.source === 'model') {
        this.deps.cache.set(key, outcome.plan);
        this.counts.filled++;
      }
    } catch {
      this.fail('model_error');
    }
  }

  private fail(why: PlanFallback): void {
    this.failed[why] = (this.failed[why] ?? 0) + 1;
  }
}
