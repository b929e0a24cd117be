import type { NarrativePriority, NarrativeRequest } from '../ports/narrative-queue.ts';

const RANK: Record<NarrativePriority, number> = { high: 0, normal: 1, low: 2 };

interface Entry {
  userId: string;
  priority: NarrativePriority;
  /** Arrival order inside the priority: smaller is older. */
  seq: number;
}

/**
 * The queue as plain JSON, in serving order per priority: what a workflow
 * carries across continue-as-new. Sequence numbers are not kept; order is.
 */
export interface PriorityQueueSnapshot {
  high: string[];
  normal: string[];
  low: string[];
}

/**
 * What `enqueue` did with a request. At capacity a request is `dropped`,
 * unless it outranks the last queued user, who is then dropped instead
 * (`displaced`); either way one user fewer is served than was asked for.
 */
export type EnqueueOutcome = 'added' | 'raised' | 'unchanged' | 'dropped' | 'displaced';

const before = (a: Entry, b: Entry) => RANK[a.priority] - RANK[b.priority] || a.seq - b.seq;

/**
 * A priority queue of users, at most one entry per user: highest priority
 * first, first come first served within a priority. Deterministic and free
 * of I/O, so workflow code can hold it.
 */
export class UserPriorityQueue {
  // Kept sorted in serving order; the index finds a user without a scan.
  readonly #entries: Entry[] = [];
  readonly #byUser = new Map<string, Entry>();
  #nextSeq = 0;
  readonly #capacity: number;

  /** `capacity` bounds the users held (a workflow must carry them all across continue-as-new). */
  constructor(capacity = Number.POSITIVE_INFINITY) {
    this.#capacity = Math.max(1, capacity);
  }

  /** A queue holding `snapshot`'s users in the same order (as many as fit). */
  static fromSnapshot(
    snapshot: PriorityQueueSnapshot | undefined,
    capacity?: number,
  ): UserPriorityQueue {
    const queue = new UserPriorityQueue(capacity);
    if (!snapshot) return queue;
    for (const priority of ['high', 'normal', 'low'] as const) {
      for (const userId of snapshot[priority] ?? []) queue.enqueue(userId, priority);
    }
    return queue;
  }

  get size(): number {
    return this.#entries.length;
  }

  has(userId: string): boolean {
    return this.#byUser.has(userId);
  }

  /**
   * Queues the user, or raises a queued user's priority (moving them behind
   * those already waiting at the new priority). Never lowers a priority and
   * never adds a second entry.
   */
  enqueue(userId: string, priority: NarrativePriority): EnqueueOutcome {
    const existing = this.#byUser.get(userId);
    let outcome: EnqueueOutcome = existing ? 'raised' : 'added';
    if (existing) {
      if (RANK[priority] >= RANK[existing.priority]) return 'unchanged';
      this.#entries.splice(this.#indexOf(existing), 1);
    } else if (this.#entries.length >= this.#capacity) {
      const last = this.#entries[this.#entries.length - 1]!;
      if (RANK[priority] >= RANK[last.priority]) return 'dropped';
      this.#entries.pop();
      this.#byUser.delete(last.userId);
      outcome = 'displaced';
    }
    const entry: Entry = { userId, priority, seq: this.#nextSeq++ };
    this.#entries.splice(this.#insertionPoint(entry), 0, entry);
    this.#byUser.set(userId, entry);
    return outcome;
  }

  /**
   * Removes and returns the first request in serving order whose user
   * `skip` does not exclude (users being worked on stay queued for later).
   */
  take(skip: (userId: string) => boolean = () => false): NarrativeRequest | undefined {
    const index = this.#entries.findIndex((e) => !skip(e.userId));
    if (index < 0) return undefined;
    const [entry] = this.#entries.splice(index, 1);
    this.#byUser.delete(entry!.userId);
    return { userId: entry!.userId, priority: entry!.priority };
  }

  /** True when some queued user is not excluded by `skip`. */
  hasTakeable(skip: (userId: string) => boolean): boolean {
    return this.#entries.some((e) => !skip(e.userId));
  }

  /** The first `count` requests in serving order, left in place. */
  peek(count = 1): NarrativeRequest[] {
    return this.#entries.slice(0, count).map(({ userId, priority }) => ({ userId, priority }));
  }

  snapshot(): PriorityQueueSnapshot {
    const snapshot: PriorityQueueSnapshot = { high: [], normal: [], low: [] };
    for (const e of this.#entries) snapshot[e.priority].push(e.userId);
    return snapshot;
  }

  // Binary search: entries are unique by (priority, seq), so this lands on the entry.
  #indexOf(entry: Entry): number {
    return this.#insertionPoint(entry);
  }

  #insertionPoint(entry: Entry): number {
    let low = 0;
    let high = this.#entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (before(this.#entries[mid]!, entry) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
