import type { ActivityOptions } from '@temporalio/workflow';
import type { PriorityQueueSnapshot } from '../core/narrative/priority-queue.ts';
import type { Counters, FailureRecord } from './narrative-scheduler.messages.ts';

// The narrative scheduler's input, what it carries across continue-as-new, and
// the settings and activity options resolved from them.

/** How each generation is run; every field has a default. */
export interface GenerationSettings {
  startToCloseSeconds: number;
  /** A worker that dies mid-generation is noticed after this long. */
  heartbeatSeconds: number;
  retryInitialMs: number;
  /** Attempts before the user is recorded as failed and dropped. */
  maxAttempts: number;
}

/** What a run hands to the next one when it continues as new. */
export interface NarrativeSchedulerCarry {
  queue: PriorityQueueSnapshot;
  counters: Counters;
  recentFailures: FailureRecord[];
  operatorPause: string | null;
  memoryPaused: boolean;
  runs: number;
}

export interface NarrativeSchedulerInput {
  /** Generations running at once (default 3). */
  maxInFlight?: number;
  /** How often memory is read while there is work (default 10 s). */
  memoryPollMs?: number;
  /** Pause when used/budget goes above this (default 0.70). */
  pauseAbove?: number;
  /** Resume when used/budget falls below this (default 0.65; the gap stops flapping). */
  resumeBelow?: number;
  /** Continue as new past this many history events (default 10,000), or when the server suggests. */
  continueAsNewAfterEvents?: number;
  /**
   * Users held at most (default 10,000): the queue is carried across
   * continue-as-new in one payload, which must stay well under Temporal's 2 MB.
   * Beyond it the least urgent request is dropped (counted); the feeder asks again.
   */
  maxQueued?: number;
  generation?: Partial<GenerationSettings>;
  /** Set by the scheduler itself when it continues as new. */
  carry?: NarrativeSchedulerCarry;
}

const DEFAULT_GENERATION: GenerationSettings = {
  startToCloseSeconds: 120,
  heartbeatSeconds: 20,
  retryInitialMs: 2_000,
  maxAttempts: 5,
};

/** The input with every default filled in and every bound applied. */
export function schedulerSettings(input: NarrativeSchedulerInput) {
  const maxInFlight = Math.max(1, Math.min(50, Math.floor(input.maxInFlight ?? 3)));
  const pauseAbove = input.pauseAbove ?? 0.7;
  return {
    maxInFlight,
    memoryPollMs: Math.max(100, input.memoryPollMs ?? 10_000),
    pauseAbove,
    resumeBelow: Math.min(pauseAbove, input.resumeBelow ?? 0.65),
    // Below a few dozen events a run could not do anything before continuing again.
    continueAsNewAfterEvents: Math.max(40, input.continueAsNewAfterEvents ?? 10_000),
    maxQueued: Math.max(1, Math.min(40_000, input.maxQueued ?? 10_000)),
    generation: { ...DEFAULT_GENERATION, ...input.generation },
  };
}

/** How one user's generation is run and retried. */
export function generationOptions(g: GenerationSettings, userId: string): ActivityOptions {
  return {
    startToCloseTimeout: g.startToCloseSeconds * 1000,
    heartbeatTimeout: g.heartbeatSeconds * 1000,
    retry: {
      initialInterval: g.retryInitialMs,
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: g.maxAttempts,
      nonRetryableErrorTypes: ['UnknownUser', 'BadInput'],
    },
    summary: `narrative for user ${userId}`,
  };
}

export type SchedulerSettings = ReturnType<typeof schedulerSettings>;
