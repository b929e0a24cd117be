import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type {
  NarrativePriority,
  NarrativeQueue,
  NarrativeRequest,
} from '../../core/ports/narrative-queue.ts';
import {
  enqueueNarrativesSignal,
  narrativeSchedulerId,
  narrativeSchedulerWorkflow,
  pauseUpdate,
  resumeUpdate,
  statusQuery,
  type NarrativeSchedulerInput,
  type NarrativeSchedulerStatus,
} from '../../workflows/index.ts';
import { startTagged, type MemoryTags } from './search-attributes.ts';

export interface TemporalNarrativeQueueOptions {
  /** The scheduler's settings when a request has to start it (it keeps its own once running). */
  scheduler?: Omit<NarrativeSchedulerInput, 'carry'>;
  /** Low-priority requests within this window go out as one signal (default 1000 ms; 0 sends at once). */
  coalesceMs?: number;
  /**
   * Normal- and high-priority requests within this window go out as one
   * signal (default the smaller of `coalesceMs` and
   * {@link URGENT_COALESCE_MS}; 0 sends each at once). Under load every new
   * conversation of a user with a stale portrait asks at high priority, and
   * each signal is a workflow task of the scheduler (at 100 sessions about 3
   * of the dev server's 10 signals a second; the index shards sent the rest).
   */
  urgentCoalesceMs?: number;
  /**
   * A user delivered at a priority is not sent again at that priority or a
   * lower one for this long (default 30 000 ms; 0 sends every request): the
   * scheduler has them queued already, and every new conversation of a user
   * with a stale portrait would otherwise cost a signal and a workflow task.
   */
  repeatWindowMs?: number;
  /** A coalesced delivery that failed (nobody awaits it). */
  onError?: (error: unknown, requests: NarrativeRequest[]) => void;
}

/** The narrative queue over Temporal, plus the operator's controls. */
export interface TemporalNarrativeQueue extends NarrativeQueue {
  readonly workflowId: string;
  /** Stops new generations (running ones finish); starts the scheduler paused if it was not running. */
  pause(reason?: string): Promise<NarrativeSchedulerStatus>;
  resume(): Promise<NarrativeSchedulerStatus>;
  /** The scheduler's state, or null when it is not running. */
  status(): Promise<NarrativeSchedulerStatus | null>;
  /** Delivers coalesced requests (urgent and low-priority) now. */
  flush(): Promise<void>;
  /** Flushes and stops the coalescing timer. */
  close(): Promise<void>;
}

// Keeps each signal's payload small however many users a feed or a batch carries.
const SIGNAL_BATCH = 500;
/**
 * The default window for urgent requests: a portrait takes a model call of a
 * second or more to write, so waiting this long to share a signal costs the
 * user nothing they could notice.
 */
export const URGENT_COALESCE_MS = 200;
const RANK: Record<NarrativePriority, number> = { high: 0, normal: 1, low: 2 };

/** Drops repeats of a user, keeping their most urgent priority. */
function dedupe(requests: readonly NarrativeRequest[]): NarrativeRequest[] {
  const best = new Map<string, NarrativePriority>();
  for (const { userId, priority } of requests) {
    const seen = best.get(userId);
    if (!seen || RANK[priority] < RANK[seen]) best.set(userId, priority);
  }
  return [...best].map(([userId, priority]) => ({ userId, priority }));
}

/**
 * Requests narratives from the scheduler of `taskQueue` with signal-with-start,
 * so the first request starts it (workflow id `narrative-scheduler-<task
 * queue>`). Low-priority requests, one per saved memory, are coalesced.
 */
export function createTemporalNarrativeQueue(
  client: Client,
  taskQueue: string,
  options: TemporalNarrativeQueueOptions = {},
): TemporalNarrativeQueue {
  const workflowId = narrativeSchedulerId(taskQueue);
  const startInput: NarrativeSchedulerInput = { ...options.scheduler };
  const coalesceMs = options.coalesceMs ?? 1000;
  const staticSummary = `Narrative scheduler for task queue ${taskQueue}`;
  const staticDetails =
    'Priority queue of narrative generations (high, normal, low). ' +
    'Query `status`; updates `pause` and `resume`; signal `enqueueNarratives`.';
  const repeatWindowMs = options.repeatWindowMs ?? 30_000;
  const urgentMs = options.urgentCoalesceMs ?? Math.min(coalesceMs, URGENT_COALESCE_MS);
  let pending = new Map<string, NarrativePriority>();
  let timer: NodeJS.Timeout | undefined;
  /** Urgent requests gathered for the next urgent send, and that send once scheduled. */
  let urgent: NarrativeRequest[] = [];
  let urgentSend: { timer: NodeJS.Timeout; done: Promise<void>; go: () => void } | undefined;
  /** Users delivered lately: when, and at which priority. */
  const delivered = new Map<string, { at: number; priority: NarrativePriority }>();

  const deliveredLately = (r: NarrativeRequest, now: number) => {
    const seen = delivered.get(r.userId);
    return (
      seen !== undefined &&
      now - seen.at < repeatWindowMs &&
      RANK[seen.priority] <= RANK[r.priority]
    );
  };

  async function send(requests: readonly NarrativeRequest[]): Promise<void> {
    const now = Date.now();
    const users = dedupe(requests).filter((r) => !deliveredLately(r, now));
    if (users.length === 0) return;
    if (repeatWindowMs > 0) {
      if (delivered.size > 50_000) {
        for (const [id, seen] of delivered)
          if (now - seen.at >= repeatWindowMs) delivered.delete(id);
      }
      for (const r of users) delivered.set(r.userId, { at: now, priority: r.priority });
    }
    try {
      await deliver(users);
    } catch (error) {
      // Not delivered: the next request for these users must go out.
      for (const r of users) delivered.delete(r.userId);
      throw error;
    }
  }

  async function deliver(users: readonly NarrativeRequest[]): Promise<void> {
    for (let i = 0; i < users.length; i += SIGNAL_BATCH) {
      await startTagged(client, 'narrative', undefined, (tags) =>
        client.workflow.signalWithStart(narrativeSchedulerWorkflow, {
          workflowId,
          taskQueue,
          args: [startInput],
          signal: enqueueNarrativesSignal,
          signalArgs: [{ users: users.slice(i, i + SIGNAL_BATCH) }],
          staticSummary,
          staticDetails,
          ...tags,
        }),
      );
    }
  }

  /** Sends `requests` with the urgent ones gathered in the window; resolves once they went out. */
  function sendUrgent(requests: readonly NarrativeRequest[]): Promise<void> {
    if (urgentMs <= 0) return send(requests);
    urgent.push(...requests);
    if (!urgentSend) {
      let go!: () => void;
      const due = new Promise<void>((resolve) => (go = resolve));
      const done = due.then(() => {
        const batch = urgent;
        urgent = [];
        urgentSend = undefined;
        return send(batch);
      });
      urgentSend = { timer: setTimeout(go, urgentMs), done, go };
      // Nobody may be awaiting (requesters do not wait): a failure is theirs to catch.
      done.catch(() => undefined);
    }
    return urgentSend.done;
  }

  /** Sends the gathered urgent requests now, if any. */
  async function flushUrgent(): Promise<void> {
    if (!urgentSend) return;
    clearTimeout(urgentSend.timer);
    urgentSend.go();
    await urgentSend.done;
  }

  async function flush(): Promise<void> {
    await flushUrgent().catch(() => undefined); // its requesters were told
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return;
    const requests = [...pending].map(([userId, priority]) => ({ userId, priority }));
    pending = new Map();
    try {
      await send(requests);
    } catch (error) {
      options.onError?.(error, requests);
      throw error;
    }
  }

  const withStart = (tags: MemoryTags) =>
    new WithStartWorkflowOperation(narrativeSchedulerWorkflow, {
      workflowId,
      taskQueue,
      args: [startInput],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary,
      staticDetails,
      ...tags,
    });

  return {
    workflowId,

    async enqueue(requests) {
      const now = requests.filter((r) => r.priority !== 'low' || coalesceMs <= 0);
      for (const r of now) pending.delete(r.userId);
      for (const r of requests) {
        if (r.priority === 'low' && coalesceMs > 0) pending.set(r.userId, 'low');
      }
      if (pending.size > 0 && !timer) {
        timer = setTimeout(() => {
          timer = undefined;
          flush().catch(() => undefined); // reported through onError
        }, coalesceMs);
        // A pending refresh must not keep a finished process alive; the feeder catches up.
        timer.unref();
      }
      if (now.length > 0) await sendUrgent(now);
    },

    pause: (reason) =>
      startTagged(client, 'narrative', undefined, (tags) =>
        client.workflow.executeUpdateWithStart(pauseUpdate, {
          args: [reason === undefined ? {} : { reason }],
          startWorkflowOperation: withStart(tags),
        }),
      ),

    resume: () =>
      startTagged(client, 'narrative', undefined, (tags) =>
        client.workflow.executeUpdateWithStart(resumeUpdate, {
          args: [],
          startWorkflowOperation: withStart(tags),
        }),
      ),

    async status() {
      try {
        const handle = client.workflow.getHandle(workflowId);
        const { status } = await handle.describe();
        if (status.name !== 'RUNNING') return null;
        return await handle.query(statusQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return null;
        throw error;
      }
    },

    flush,

    async close() {
      await flush();
    },
  };
}
