/** Name of the signal a running scenario sends its workflow with live counts. */
export const LOAD_TEST_PROGRESS_SIGNAL = 'loadTestProgress';

/** Live counts of the running scenario (activity heartbeats carry the same). */
export interface LiveProgress {
  scenario: 'prepare' | 'chat' | 'saves' | 'ramp';
  /** Sessions running (chat and ramp), saves in flight, or users prepared. */
  sessions: number;
  requests: number;
  errors: number;
  /** p95 of the latest requests, ms. */
  p95Ms: number | null;
  /** Target RSS at its latest reading, MB. */
  rssMb: number | null;
  elapsedMs: number;
  /** While preparing: seeded memories already indexed. */
  indexed?: number;
}
