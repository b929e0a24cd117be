import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import {
  enqueueNarrativesSignal,
  pauseUpdate,
  resumeUpdate,
  statusQuery,
  validatePauseInput,
} from './narrative-scheduler.messages.ts';
import type { NarrativeSchedulerInput } from './narrative-scheduler.settings.ts';
import { NarrativeScheduler } from './narrative-scheduler.state.ts';

export {
  enqueueNarrativesSignal,
  pauseUpdate,
  resumeUpdate,
  statusQuery,
  type Counters,
  type EnqueueNarrativesInput,
  type FailureRecord,
  type NarrativeSchedulerStatus,
  type PauseInput,
  type PauseReason,
} from './narrative-scheduler.messages.ts';
export type {
  GenerationSettings,
  NarrativeSchedulerCarry,
  NarrativeSchedulerInput,
} from './narrative-scheduler.settings.ts';

/** One scheduler per task queue, under a name operators recognise. */
export const narrativeSchedulerId = (taskQueue: string) => `narrative-scheduler-${taskQueue}`;

/**
 * The narrative pre-computation actor (workflow id `narrative-scheduler-<task
 * queue>`): a priority queue of users fed by `enqueueNarrativesSignal`, at most
 * `maxInFlight` generations at once, paused by an operator or by memory
 * pressure, and continued as new (queue, counters and pause carried) before
 * its history grows large.
 */
export async function narrativeSchedulerWorkflow(input: NarrativeSchedulerInput): Promise<void> {
  const scheduler = new NarrativeScheduler(input);
  setHandler(enqueueNarrativesSignal, (batch) => scheduler.enqueue(batch));
  setHandler(pauseUpdate, (pause) => scheduler.pause(pause), { validator: validatePauseInput });
  setHandler(resumeUpdate, () => scheduler.resume());
  setHandler(statusQuery, () => scheduler.status());

  scheduler.showDetails();
  const watcher = scheduler.watchMemory();
  try {
    for (;;) {
      await condition(() => scheduler.historyTooLong() || scheduler.canStart());
      if (scheduler.historyTooLong()) break;
      scheduler.startNext();
    }
    scheduler.startDraining();
  } finally {
    // Cancellation rejects the loop, the watcher and each running generation at
    // once; awaiting them all here observes every rethrown cancellation.
    await Promise.all([watcher, scheduler.generationsDone()]);
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof narrativeSchedulerWorkflow>({ ...input, carry: scheduler.carry() });
}
