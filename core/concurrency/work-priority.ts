import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is waiting for a piece of CPU-bound work: a person (`interactive`: a
 * context query, a search) or nobody in particular (`background`: indexing,
 * re-embedding, consolidation, narratives). Work started inside
 * {@link withPriority} carries its priority through every await, so an
 * adapter deep below (the local embedder) can keep the two apart without
 * every caller passing it along. Outside any, work is `interactive`.
 */
export type WorkPriority = 'interactive' | 'background';

const storage = new AsyncLocalStorage<WorkPriority>();

export function currentPriority(): WorkPriority {
  return storage.getStore() ?? 'interactive';
}

/** Runs `fn` (and everything it starts) at `priority`. */
export function withPriority<T>(priority: WorkPriority, fn: () => T): T {
  return storage.run(priority, fn);
}
