import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { NarrativeRequest } from '../core/ports/narrative-queue.ts';

// The narrative scheduler's messages and what they carry: the names and shapes
// clients and running schedulers agree on. Renaming one breaks both.

export interface Counters {
  /** Generations finished: written or found current. */
  processed: number;
  generated: number;
  /** Found already current for the user's data version (no model call, no new version). */
  skipped: number;
  /** Gave up after the retries; the user was dropped from the queue. */
  failed: number;
  /** Requests turned away because the queue was full. */
  dropped: number;
}

export interface FailureRecord {
  userId: string;
  error: string;
  at: string;
}

export type PauseReason = 'operator' | 'memory';

export interface NarrativeSchedulerStatus extends Counters {
  queueLength: number;
  /** The next user to be served, or null when the queue is empty. */
  head: NarrativeRequest | null;
  /** The first few users in serving order. */
  upNext: NarrativeRequest[];
  inFlight: string[];
  maxInFlight: number;
  paused: boolean;
  /** Why it is paused; `operator` wins when both apply. */
  pauseReason: PauseReason | null;
  /** The operator's note when paused by an operator. */
  operatorNote: string | null;
  memoryPaused: boolean;
  /** The latest memory reading of this run, when there was one. */
  memory: { usedMb: number; budgetMb: number; readings: number } | null;
  recentFailures: FailureRecord[];
  /** Runs so far, this one included (one more after each continue-as-new). */
  runs: number;
  /** Finishing in-flight work before continuing as new. */
  draining: boolean;
}

export interface EnqueueNarrativesInput {
  users: NarrativeRequest[];
}

export interface PauseInput {
  /** The operator's note, shown in the status (at most 200 characters). */
  reason?: string;
}

/** Queues users, or raises the priority of queued ones. */
export const enqueueNarrativesSignal = defineSignal<[EnqueueNarrativesInput]>('enqueueNarratives');
/** Stops starting generations (running ones finish) until `resumeUpdate`. */
export const pauseUpdate = defineUpdate<NarrativeSchedulerStatus, [PauseInput]>('pause');
/** Lifts an operator's pause; a memory pause lifts itself once memory falls. */
export const resumeUpdate = defineUpdate<NarrativeSchedulerStatus, []>('resume');
export const statusQuery = defineQuery<NarrativeSchedulerStatus>('status');

/** Refuses a pause whose note is not a short string, before it reaches the history. */
export function validatePauseInput(input: PauseInput | undefined): void {
  if (
    input?.reason !== undefined &&
    (typeof input.reason !== 'string' || input.reason.length > 200)
  ) {
    throw new Error('reason must be a string of at most 200 characters');
  }
}
