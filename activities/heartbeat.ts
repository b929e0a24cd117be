import { Context, heartbeat } from '@temporalio/activity';
import { activityContext } from './activity-context.ts';

// Heartbeats keep a long attempt visibly alive, so that only a dead worker
// times out, and carry cancellation to the activity. Every activity that
// heartbeats while it works does it through `beatingWhile`.

/** Calls `beat` every `everyMs` while `work` runs (and once before it starts, with `beatFirst`). */
export async function beatingWhile<T>(
  work: () => Promise<T>,
  beat: () => void,
  everyMs: number,
  { beatFirst = false } = {},
): Promise<T> {
  if (beatFirst) beat();
  const timer = setInterval(beat, everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Progress heartbeats are skipped for this long after an activity starts. An
 * indexing batch usually ends within a second, and each heartbeat is a call to
 * Temporal and a write of the run's state (Temporal sends the first at once):
 * at 100 sessions nearly every activity sent one, about 4.5 a second, and
 * about 1.3 a second without them (the dev server's `--metrics-port` counts).
 * A longer batch still beats on progress, and {@link heartbeating}
 * beats every 5 s whatever the progress.
 */
export const PROGRESS_BEATS_AFTER_MS = 5_000;

/** A progress callback that heartbeats, once the activity has run {@link PROGRESS_BEATS_AFTER_MS}. */
export function progressBeat(
  beat: () => void = () => Context.current().heartbeat(),
  now: () => number = Date.now,
): () => void {
  const started = now();
  return () => {
    if (now() - started >= PROGRESS_BEATS_AFTER_MS) beat();
  };
}

/** Heartbeats every 5 s while `work` runs, for activities with a longer heartbeat timeout. */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  return beatingWhile(work, () => context.heartbeat(), 5_000);
}

/**
 * Heartbeats from the start at a third of the activity's heartbeat timeout
 * while `work` runs (a slow model call, say). Without a heartbeat timeout, or
 * outside an activity (a direct call in a test), it just runs `work`.
 */
export async function heartbeatingWithinTimeout<T>(work: () => Promise<T>): Promise<T> {
  const timeoutMs = activityContext().info?.heartbeatTimeoutMs;
  if (!timeoutMs) return work();
  return beatingWhile(work, () => heartbeat(), Math.max(200, timeoutMs / 3), { beatFirst: true });
}
