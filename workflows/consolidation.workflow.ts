import {
  ActivityFailure,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { addCounts, emptyCounts, type ConsolidationCounts } from '../core/consolidation/counts.ts';
import { retriedWithBackoff } from './activity-options.ts';

export interface ConsolidationInput {
  /** Cosine similarity at or above which memories are near-duplicates (default 0.95). */
  threshold?: number;
  /** Users consolidated at once (default 2). */
  concurrency?: number;
  /** Users per page of the user walk (default 50). */
  usersPerPage?: number;
  /** Users per run before the history is handed to a fresh run (default 500). */
  usersPerRun?: number;
  /** Memories per page inside one user (default 100). */
  memoryPageSize?: number;
  /** Set by the workflow itself when it continues as new. */
  resume?: {
    now: string;
    afterId: string;
    totals: ConsolidationTotals;
    failures: ConsolidationResult['failures'];
  };
}

export interface ConsolidationTotals extends ConsolidationCounts {
  /** Users consolidated (failed ones included). */
  users: number;
  /** Users whose consolidation failed after its retries; the run went on without them. */
  failedUsers: number;
}

export interface ConsolidationResult extends ConsolidationTotals {
  /** The run's clock: expiry was judged against it. */
  now: string;
  /** The first few failures, for the operator. */
  failures: { userId: string; error: string }[];
}

const { pageUsers } = proxyActivities<Activities>(retriedWithBackoff('1 minute', '2 seconds'));

const { consolidateUser } = proxyActivities<Activities>({
  // One user's memories page by page; the heartbeat shows it is alive and where it is.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '5 seconds',
    maximumInterval: '2 minutes',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['BadInput'],
  },
});

const zeroTotals = (): ConsolidationTotals => ({ users: 0, failedUsers: 0, ...emptyCounts() });

/** One line an operator can read in the Web UI. */
export function describeTotals(totals: ConsolidationTotals): string {
  return (
    `${totals.users} users: merged ${totals.merged} duplicates, retired ${totals.expired} expired ` +
    `and ${totals.superseded} superseded memories, purged ${totals.purged ?? 0} memories past ` +
    `their expiry, freed ${totals.orphanVectors} orphan vectors ` +
    `(~${Math.round(totals.bytesFreed / 1024)} KB) and ${totals.orphanEntities} orphan entities` +
    (totals.skipped > 0 ? `; ${totals.skipped} changes skipped (edited meanwhile)` : '') +
    (totals.failedUsers > 0 ? `; ${totals.failedUsers} users failed` : '')
  );
}

/** The workflow id of the schedule's runs (the schedule appends the time). */
export const consolidationWorkflowId = (taskQueue: string) => `consolidation-${taskQueue}`;

/**
 * Nightly consolidation, run by a schedule: walks every user in id order and
 * consolidates each (merge near-duplicates, retire outdated memories, delete
 * orphaned vectors and graph entities), a few users at once. The time is
 * fixed once per run and handed to every activity, so retries and continued
 * runs judge expiry alike. Progress and totals are in the Web UI (current
 * details and memo) and the totals are the result. A second run finds
 * nothing to do.
 */
export async function consolidationWorkflow(
  input: ConsolidationInput = {},
): Promise<ConsolidationResult> {
  const threshold = input.threshold ?? 0.95;
  const concurrency = Math.max(1, Math.min(8, input.concurrency ?? 2));
  const usersPerPage = Math.max(1, Math.min(1000, input.usersPerPage ?? 50));
  const usersPerRun = Math.max(usersPerPage, input.usersPerRun ?? 500);
  const now = input.resume?.now ?? new Date().toISOString();
  let afterId = input.resume?.afterId;
  let totals = input.resume?.totals ?? zeroTotals();
  const failures: ConsolidationResult['failures'] = [...(input.resume?.failures ?? [])];
  const inFlight = new Set<string>();

  const show = () => {
    const running = inFlight.size > 0 ? `\n\nnow consolidating: ${[...inFlight].join(', ')}` : '';
    setCurrentDetails(`**Consolidation since ${now}**\n\n${describeTotals(totals)}${running}`);
  };

  const consolidate = async (userId: string) => {
    inFlight.add(userId);
    show();
    try {
      const counts = await consolidateUser({
        userId,
        threshold,
        now,
        ...(input.memoryPageSize ? { pageSize: input.memoryPageSize } : {}),
      });
      // Totals carried from a run that predates a count (resume) lack it: addCounts zeroes it.
      totals = { ...totals, ...addCounts(totals, counts), users: totals.users + 1 };
    } catch (error) {
      // One user's failure must not cost every other user their night: record it, go on.
      if (!(error instanceof ActivityFailure)) throw error;
      const message = error.cause?.message ?? error.message;
      log.warn('consolidating a user failed', { userId, error: message });
      totals = { ...totals, users: totals.users + 1, failedUsers: totals.failedUsers + 1 };
      if (failures.length < 20) failures.push({ userId, error: message });
    } finally {
      inFlight.delete(userId);
      show();
    }
  };

  show();
  let usersThisRun = 0;
  for (;;) {
    const { userIds } = await pageUsers({ limit: usersPerPage, ...(afterId ? { afterId } : {}) });
    let next = 0;
    const lane = async () => {
      while (next < userIds.length) await consolidate(userIds[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, userIds.length) }, lane));
    usersThisRun += userIds.length;
    upsertMemo({ consolidation: { now, ...totals } });
    if (userIds.length < usersPerPage) break;
    afterId = userIds[userIds.length - 1]!;
    if (usersThisRun >= usersPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof consolidationWorkflow>({
        ...input,
        resume: { now, afterId, totals, failures },
      });
    }
  }
  const summary = describeTotals(totals);
  log.info('consolidation finished', { now, ...totals });
  setCurrentDetails(`**Consolidation finished** (since ${now})\n\n${summary}`);
  return { now, ...totals, failures };
}
