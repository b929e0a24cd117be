import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { UserPriorityQueue, type PriorityQueueSnapshot } from '../core/narrative/priority-queue.ts';
import type { NarrativeRequest } from '../core/ports/narrative-queue.ts';

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

/** Queues users, or raises the priority of queued ones. */
export const enqueueNarrativesSignal = defineSignal<[EnqueueNarrativesInput]>('enqueueNarratives');
/** Stops starting generations (running ones finish) until `resumeUpdate`. */
export const pauseUpdate = defineUpdate<NarrativeSchedulerStatus, [{ reason?: string }]>('pause');
/** Lifts an operator's pause; a memory pause lifts itself once memory falls. */
export const resumeUpdate = defineUpdate<NarrativeSchedulerStatus, []>('resume');
export const statusQuery = defineQuery<NarrativeSchedulerStatus>('status');

/** One scheduler per task queue, under a name operators recognise. */
export const narrativeSchedulerId = (taskQueue: string) => `narrative-scheduler-${taskQueue}`;

const DEFAULT_GENERATION: GenerationSettings = {
  startToCloseSeconds: 120,
  heartbeatSeconds: 20,
  retryInitialMs: 2_000,
  maxAttempts: 5,
};

const { readMemoryUsage } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 3 },
  summary: 'read worker memory',
});

const { generateNarrative } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes' });

const MAX_RECENT_FAILURES = 20;
const UP_NEXT = 10;
const MAX_BATCH = 1_000;

function settings(input: NarrativeSchedulerInput) {
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

function generationOptions(g: GenerationSettings, userId: string): ActivityOptions {
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

function describeFailure(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * The narrative pre-computation actor (workflow id `narrative-scheduler-<task
 * queue>`): a priority queue of users fed by `enqueueNarrativesSignal`, at most
 * `maxInFlight` generations at once, paused by an operator or by memory
 * pressure, and continued as new (queue, counters and pause carried) before
 * its history grows large.
 */
export async function narrativeSchedulerWorkflow(input: NarrativeSchedulerInput): Promise<void> {
  const config = settings(input);
  const carry = input.carry;
  const queue = UserPriorityQueue.fromSnapshot(carry?.queue, config.maxQueued);
  const counters: Counters = {
    processed: 0,
    generated: 0,
    skipped: 0,
    failed: 0,
    dropped: 0,
    ...carry?.counters,
  };
  const recentFailures: FailureRecord[] = carry?.recentFailures ?? [];
  let operatorPause: string | null = carry?.operatorPause ?? null;
  let memoryPaused = carry?.memoryPaused ?? false;
  const runs = (carry?.runs ?? 0) + 1;
  const inFlight = new Set<string>();
  let memory: NarrativeSchedulerStatus['memory'] = null;
  // No generation starts on a memory reading older than the current busy spell.
  let readingFresh = false;
  let draining = false;

  const status = (): NarrativeSchedulerStatus => {
    const upNext = queue.peek(UP_NEXT);
    return {
      queueLength: queue.size,
      head: upNext[0] ?? null,
      upNext,
      inFlight: [...inFlight],
      maxInFlight: config.maxInFlight,
      paused: operatorPause !== null || memoryPaused,
      pauseReason: operatorPause !== null ? 'operator' : memoryPaused ? 'memory' : null,
      operatorNote: operatorPause,
      memoryPaused,
      memory,
      ...counters,
      recentFailures: [...recentFailures],
      runs,
      draining,
    };
  };
  const showDetails = () => {
    const s = status();
    setCurrentDetails(
      `queue ${s.queueLength}, in flight ${s.inFlight.length}/${s.maxInFlight}, ` +
        `${s.paused ? `paused (${s.pauseReason})` : 'running'}; ` +
        `processed ${s.processed} (skipped ${s.skipped}), failed ${s.failed}, ` +
        `dropped ${s.dropped}; run ${runs}`,
    );
  };

  setHandler(enqueueNarrativesSignal, ({ users }) => {
    for (const { userId, priority } of users.slice(0, MAX_BATCH)) {
      if (typeof userId !== 'string' || !['high', 'normal', 'low'].includes(priority)) continue;
      const outcome = queue.enqueue(userId, priority);
      if (outcome === 'dropped' || outcome === 'displaced') counters.dropped++;
    }
    showDetails();
  });
  setHandler(
    pauseUpdate,
    ({ reason }) => {
      operatorPause = reason?.trim() || 'paused by an operator';
      log.info('narrative scheduler paused', { reason: operatorPause });
      showDetails();
      return status();
    },
    {
      validator: (arg) => {
        if (
          arg?.reason !== undefined &&
          (typeof arg.reason !== 'string' || arg.reason.length > 200)
        ) {
          throw new Error('reason must be a string of at most 200 characters');
        }
      },
    },
  );
  setHandler(resumeUpdate, () => {
    operatorPause = null;
    log.info('narrative scheduler resumed by an operator');
    showDetails();
    return status();
  });
  setHandler(statusQuery, status);

  const busy = () => (queue.size > 0 && operatorPause === null) || inFlight.size > 0;

  async function takeReading(): Promise<void> {
    try {
      const reading = await readMemoryUsage();
      const used = reading.usedMb / reading.budgetMb;
      memory = { ...reading, readings: (memory?.readings ?? 0) + 1 };
      if (!memoryPaused && used > config.pauseAbove) {
        memoryPaused = true;
        log.warn('narrative scheduler paused: memory above budget share', { ...reading });
      } else if (memoryPaused && used < config.resumeBelow) {
        memoryPaused = false;
        log.info('narrative scheduler resumed: memory back under budget share', { ...reading });
      }
    } catch (error) {
      // A reader that cannot answer keeps the last state rather than stopping the queue.
      log.warn('memory reading failed', { error: describeFailure(error) });
    }
    readingFresh = true;
    showDetails();
  }

  async function watchMemory(): Promise<void> {
    for (;;) {
      if (!busy()) {
        readingFresh = false;
        await condition(() => busy() || draining);
      }
      if (draining) return;
      await takeReading();
      await sleep(config.memoryPollMs);
    }
  }

  async function generate(request: NarrativeRequest): Promise<void> {
    inFlight.add(request.userId);
    showDetails();
    try {
      const result = await generateNarrative.executeWithOptions(
        generationOptions(config.generation, request.userId),
        [{ userId: request.userId }],
      );
      counters.processed++;
      if (result.skipped) counters.skipped++;
      else counters.generated++;
    } catch (error) {
      counters.failed++;
      const record = {
        userId: request.userId,
        error: describeFailure(error),
        at: new Date().toISOString(),
      };
      recentFailures.push(record);
      recentFailures.splice(0, Math.max(0, recentFailures.length - MAX_RECENT_FAILURES));
      log.warn('narrative generation failed; user dropped', { ...record });
    } finally {
      inFlight.delete(request.userId);
      showDetails();
    }
  }

  const historyTooLong = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > config.continueAsNewAfterEvents;
  };
  const isInFlight = (userId: string) => inFlight.has(userId);
  const canStart = () =>
    operatorPause === null &&
    !memoryPaused &&
    readingFresh &&
    inFlight.size < config.maxInFlight &&
    queue.hasTakeable(isInFlight);

  showDetails();
  const watcher = watchMemory();
  for (;;) {
    await condition(() => historyTooLong() || canStart());
    if (historyTooLong()) break;
    // A user already being generated stays queued and is served once that run ends.
    const next = queue.take(isInFlight);
    if (next) void generate(next);
  }

  draining = true;
  showDetails();
  await condition(() => inFlight.size === 0 && allHandlersFinished());
  await watcher;
  const nextCarry: NarrativeSchedulerCarry = {
    queue: queue.snapshot(),
    counters,
    recentFailures,
    operatorPause,
    memoryPaused,
    runs,
  };
  await continueAsNew<typeof narrativeSchedulerWorkflow>({ ...input, carry: nextCarry });
}
