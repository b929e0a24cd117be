// The load generator's own event-loop delay: how late its timers and I/O callbacks
// ran while it drove the product. A measured latency includes that wait, so a run
// whose p99 delay passes LOOP_DELAY_FLAG_MS measured the client side as well.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { roundTo } from './report-files.ts';

/** Above this p99 delay (ms) a report says the load generator may have been the bottleneck. */
export const LOOP_DELAY_FLAG_MS = 10;

// The histogram records the whole interval between two ticks of its timer, the
// resolution included: an idle loop reads about RESOLUTION_MS, so it is subtracted.
const RESOLUTION_MS = 5;

export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** p99 above {@link LOOP_DELAY_FLAG_MS}: the figures include the client's own queueing. */
  flagged: boolean;
}

/** Starts measuring this process's event-loop delay; `stop()` returns it (ms beyond the timer's resolution). */
export function watchLoopDelay() {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const ms = (ns: number) => (Number.isFinite(ns) ? roundTo(Math.max(0, ns / 1e6 - RESOLUTION_MS), 1) : 0); // prettier-ignore
  return {
    stop(): LoopDelay {
      histogram.disable();
      const p99Ms = ms(histogram.percentile(99));
      return {
        p50Ms: ms(histogram.percentile(50)),
        p99Ms,
        maxMs: ms(histogram.max),
        meanMs: ms(histogram.mean),
        flagged: p99Ms > LOOP_DELAY_FLAG_MS,
      };
    },
  };
}
