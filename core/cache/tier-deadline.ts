import { withTimeout } from '../concurrency/limits.ts';

/** A tier that did not answer in time; counted apart from other failures. */
export class TierTimeout extends Error {}

/**
 * Runs `run` and rejects with {@link TierTimeout} when it has not settled
 * within `ms`; a tier that throws synchronously fails like one that rejects.
 */
export function withDeadline<T>(run: () => Promise<T>, ms: number): Promise<T> {
  return withTimeout(
    new Promise<T>((resolve) => resolve(run())),
    ms,
    'tier',
    () => new TierTimeout(`no answer within ${ms} ms`),
  );
}
