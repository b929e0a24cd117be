import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { UserPriorityQueue } from '../core/narrative/priority-queue.ts';
import type { NarrativeRequest } from '../core/ports/narrative-queue.ts';
import type {
  Counters,
  EnqueueNarrativesInput,
  FailureRecord,
  NarrativeSchedulerStatus,
  PauseInput,
} from './narrative-scheduler.messages.ts';
import {
  generationOptions,
  schedulerSettings,
  type NarrativeSchedulerCarry,
  type NarrativeSchedulerInput,
  type SchedulerSettings,
} from './narrative-scheduler.settings.ts';

const { readMemoryUsage } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 3 },
  summary: 'read worker memory',
});

const { generateNarrative } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes' });

const MAX_RECENT_FAILURES = 20;
const UP_NEXT = 10;
const MAX_BATCH = 1_000;

function describeFailure(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * One run's state of the narrative scheduler: the queue, what runs, the
 * pauses and the counters, with the handlers' effects and the two loops'
 * steps (memory watching, generation) as methods. What continues as new is
 * `carry()`.
 */
export class NarrativeScheduler {
  private readonly config: SchedulerSettings;
  private readonly queue: UserPriorityQueue;
  private readonly counters: Counters;
  private readonly recentFailures: FailureRecord[];
  private operatorPause: string | null;
  private memoryPaused: boolean;
  private readonly runs: number;
  private readonly inFlight = new Set<string>();
  private readonly generations = new Set<Promise<void>>();
  private readonly isInFlight = (userId: string) => this.inFlight.has(userId);
  private memory: NarrativeSchedulerStatus['memory'] = null;
  // No generation starts on a memory reading older than the current busy spell.
  private readingFresh = false;
  private draining = false;

  constructor(input: NarrativeSchedulerInput) {
    const carry = input.carry;
    this.config = schedulerSettings(input);
    this.queue = UserPriorityQueue.fromSnapshot(carry?.queue, this.config.maxQueued);
    this.counters = {
      processed: 0,
      generated: 0,
      skipped: 0,
      failed: 0,
      dropped: 0,
      ...carry?.counters,
    };
    this.recentFailures = carry?.recentFailures ?? [];
    this.operatorPause = carry?.operatorPause ?? null;
    this.memoryPaused = carry?.memoryPaused ?? false;
    this.runs = (carry?.runs ?? 0) + 1;
  }

  enqueue({ users }: EnqueueNarrativesInput): void {
    for (const { userId, priority } of users.slice(0, MAX_BATCH)) {
      if (typeof userId !== 'string' || !['high', 'normal', 'low'].includes(priority)) continue;
      const outcome = this.queue.enqueue(userId, priority);
      if (outcome === 'dropped' || outcome === 'displaced') this.counters.dropped++;
    }
    this.showDetails();
  }

  pause({ reason }: PauseInput): NarrativeSchedulerStatus {
    this.operatorPause = reason?.trim() || 'paused by an operator';
    log.info('narrative scheduler paused', { reason: this.operatorPause });
    this.showDetails();
    return this.status();
  }

  resume(): NarrativeSchedulerStatus {
    this.operatorPause = null;
    log.info('narrative scheduler resumed by an operator');
    this.showDetails();
    return this.status();
  }

  status(): NarrativeSchedulerStatus {
    const upNext = this.queue.peek(UP_NEXT);
    const { operatorPause, memoryPaused } = this;
    return {
      queueLength: this.queue.size,
      head: upNext[0] ?? null,
      upNext,
      inFlight: [...this.inFlight],
      maxInFlight: this.config.maxInFlight,
      paused: operatorPause !== null || memoryPaused,
      pauseReason: operatorPause !== null ? 'operator' : memoryPaused ? 'memory' : null,
      operatorNote: operatorPause,
      memoryPaused,
      memory: this.memory,
      ...this.counters,
      recentFailures: [...this.recentFailures],
      runs: this.runs,
      draining: this.draining,
    };
  }

  /** The one-line summary the Web UI shows for the run. */
  showDetails(): void {
    const s = this.status();
    setCurrentDetails(
      `queue ${s.queueLength}, in flight ${s.inFlight.length}/${s.maxInFlight}, ` +
        `${s.paused ? `paused (${s.pauseReason})` : 'running'}; ` +
        `processed ${s.processed} (skipped ${s.skipped}), failed ${s.failed}, ` +
        `dropped ${s.dropped}; run ${this.runs}`,
    );
  }

  historyTooLong(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > this.config.continueAsNewAfterEvents;
  }

  canStart(): boolean {
    return (
      this.operatorPause === null &&
      !this.memoryPaused &&
      this.readingFresh &&
      this.inFlight.size < this.config.maxInFlight &&
      this.queue.hasTakeable(this.isInFlight)
    );
  }

  /** Starts a generation for the queue's head, skipping users already being generated. */
  startNext(): void {
    // A user already being generated stays queued and is served once that run ends.
    const next = this.queue.take(this.isInFlight);
    if (!next) return;
    const generation = this.generate(next);
    this.generations.add(generation);
    // Only a cancellation rejects it (rethrown): it stays for `generationsDone` to rethrow.
    generation.then(
      () => this.generations.delete(generation),
      () => undefined,
    );
  }

  /** Stops the memory watcher and starts no more generations. */
  startDraining(): void {
    this.draining = true;
    this.showDetails();
  }

  /** Settles once every started generation has; rejects with a generation's cancellation. */
  async generationsDone(): Promise<void> {
    await Promise.all(this.generations);
  }

  carry(): NarrativeSchedulerCarry {
    return {
      queue: this.queue.snapshot(),
      counters: this.counters,
      recentFailures: this.recentFailures,
      operatorPause: this.operatorPause,
      memoryPaused: this.memoryPaused,
      runs: this.runs,
    };
  }

  /** Reads memory every `memoryPollMs` while there is work, until draining starts. */
  async watchMemory(): Promise<void> {
    for (;;) {
      if (!this.busy()) {
        this.readingFresh = false;
        await condition(() => this.busy() || this.draining);
      }
      if (this.draining) return;
      await this.takeReading();
      await sleep(this.config.memoryPollMs);
    }
  }

  private busy(): boolean {
    return (this.queue.size > 0 && this.operatorPause === null) || this.inFlight.size > 0;
  }

  private async takeReading(): Promise<void> {
    try {
      const reading = await readMemoryUsage();
      const used = reading.usedMb / reading.budgetMb;
      this.memory = { ...reading, readings: (this.memory?.readings ?? 0) + 1 };
      if (!this.memoryPaused && used > this.config.pauseAbove) {
        this.memoryPaused = true;
        log.warn('narrative scheduler paused: memory above budget share', { ...reading });
      } else if (this.memoryPaused && used < this.config.resumeBelow) {
        this.memoryPaused = false;
        log.info('narrative scheduler resumed: memory back under budget share', { ...reading });
      }
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A reader that cannot answer keeps the last state rather than stopping the queue.
      log.warn('memory reading failed', { error: describeFailure(error) });
    }
    this.readingFresh = true;
    this.showDetails();
  }

  private async generate(request: NarrativeRequest): Promise<void> {
    this.inFlight.add(request.userId);
    this.showDetails();
    try {
      const result = await generateNarrative.executeWithOptions(
        generationOptions(this.config.generation, request.userId),
        [{ userId: request.userId }],
      );
      this.counters.processed++;
      if (result.skipped) this.counters.skipped++;
      else this.counters.generated++;
    } catch (error) {
      // A cancelled run is not the user's failure: the cancellation ends the run instead.
      if (isCancellation(error)) throw error;
      this.recordFailure(request.userId, error);
    } finally {
      this.inFlight.delete(request.userId);
      this.showDetails();
    }
  }

  private recordFailure(userId: string, error: unknown): void {
    this.counters.failed++;
    const record = { userId, error: describeFailure(error), at: new Date().toISOString() };
    this.recentFailures.push(record);
    this.recentFailures.splice(0, Math.max(0, this.recentFailures.length - MAX_RECENT_FAILURES));
    log.warn('narrative generation failed; user dropped', { ...record });
  }
}
