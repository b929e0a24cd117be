/** A tier that did not answer in time; counted apart from other failures. */
export class TierTimeout extends Error {}

/**
 * Runs `run` and rejects with {@link TierTimeout} when it has not settled
 * within `ms`. Unlike `withTimeout` in `core/concurrency`, a synchronous throw
 * becomes a rejection and the timer never keeps the process alive.
 */
export function withDeadline<T>(run: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    // A tier that throws synchronously fails like one that rejects.
    new Promise<T>((resolve) => resolve(run())),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TierTimeout(`no answer within ${ms} ms`)), ms);
      // A tier that hangs must not keep a process that is shutting down alive.
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
