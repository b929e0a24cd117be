import type { IndexingQueue } from '../ports/indexing-queue.ts';
import type { IndexTarget } from './indexer.ts';

export interface CoalescingQueueOptions {
  /**
   * The least time between two sends: requests made meanwhile gather and go
   * out together when it has passed. The first request after a quiet spell
   * (no send for this long) goes out at once, after the current turn of the
   * event loop.
   */
  windowMs: number;
  /**
   * Memories waiting at most: past this a request waits for the flush in
   * flight instead of returning at once, so a flood cannot grow the buffer.
   */
  maxPending: number;
  /** Sends tried again after a failure (default 3), after 1, 2, 4 × `backoffMs` (default 500). */
  retries?: number;
  backoffMs?: number;
  /** Told when a send fails for good; the memories stay `pending` and the reconciler asks again. */
  onError: (error: unknown, targets: readonly IndexTarget[]) => void;
}

/** An indexing queue that gathers requests and can be flushed and closed. */
export interface CoalescingIndexingQueue extends IndexingQueue {
  /** Sends what is gathered now; resolves when every flush so far has settled. */
  flush(): Promise<void>;
  /** Flushes and stops gathering: later requests go straight through. */
  close(): Promise<void>;
}

/**
 * Takes indexing requests off the save path. A save has committed its row
 * before it asks (so the memory is durable and `pending` whatever happens
 * next); asking Temporal is a network round trip that a busy server makes
 * slow. Sends are at least `windowMs` apart: requests made in between are
 * gathered and sent as one request to `inner` (which gives each user's run one
 * signal for all of them), while a request after a quiet spell goes out at
 * once. `request` returns once the targets are gathered. One send is in flight at a
 * time (later requests gather meanwhile); a failed send is tried again a few
 * times with backoff (a loaded server times out), then reported to `onError`
 * and left to the index reconciler, exactly as a failed direct request was.
 * Forced and plain requests are kept apart.
 */
export function createCoalescingIndexingQueue(
  inner: IndexingQueue,
  options: CoalescingQueueOptions,
): CoalescingIndexingQueue {
  const gathered = {
    plain: new Map<string, IndexTarget>(),
    forced: new Map<string, IndexTarget>(),
  };
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastSendAt = Number.NEGATIVE_INFINITY;
  // One send at a time: what arrives meanwhile joins the next, so a loaded Temporal sees
  // fewer, larger requests instead of a pile of overlapping ones that time out together.
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const send = async (targets: IndexTarget[], force: boolean): Promise<void> => {
    for (let attempt = 0; targets.length > 0; attempt++) {
      try {
        await inner.request(targets, force ? { force } : {});
        return;
      } catch (error) {
        if (attempt >= retries) {
          options.onError(error, targets);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** attempt));
      }
    }
  };

  const sendGathered = async () => {
    const plain = [...gathered.plain.values()];
    const forced = [...gathered.forced.values()];
    gathered.plain.clear();
    gathered.forced.clear();
    await Promise.all([send(plain, false), send(forced, true)]);
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    lastSendAt = Date.now();
    chain = chain.then(sendGathered);
    return chain;
  };

  return {
    async request(targets, requestOptions = {}) {
      if (closed) return inner.request(targets, requestOptions);
      const into = requestOptions.force ? gathered.forced : gathered.plain;
      for (const target of targets) into.set(target.memoryId, target);
      if (gathered.plain.size + gathered.forced.size >= options.maxPending) {
        await flush();
        return;
      }
      timer ??= setTimeout(
        () => void flush(),
        Math.max(0, lastSendAt + options.windowMs - Date.now()),
      );
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
}
