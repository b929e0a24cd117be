import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { retriedWithBackoff } from './activity-options.ts';

export interface NarrativeFeederInput {
  /** Users active (saved or queried) within this window are requested (default 48 h). */
  activeWithinMs?: number;
  /** Users per page and per signal to the scheduler (default 500). */
  pageSize?: number;
  /** Set by the feeder itself when a long run continues as new. */
  resume?: { since: string; afterId: string; requested: number };
}

export interface NarrativeFeederResult {
  requested: number;
  since: string;
}

const { activeUsers, requestNarratives } = proxyActivities<Activities>(
  retriedWithBackoff('1 minute', '2 seconds'),
);

const HOUR_MS = 3_600_000;

/**
 * Run by a schedule (`narrative-feeder-<task queue>`): pages through every
 * user active in the window and requests their narratives at normal
 * priority. The scheduler skips users whose narrative is already current, so
 * a re-run costs reads, not model calls.
 */
export async function narrativeFeederWorkflow(
  input: NarrativeFeederInput = {},
): Promise<NarrativeFeederResult> {
  const pageSize = Math.max(1, Math.min(5000, input.pageSize ?? 500));
  // Fixed once per feed (workflow time is deterministic), so pages do not shift underneath.
  const since =
    input.resume?.since ??
    new Date(Date.now() - (input.activeWithinMs ?? 48 * HOUR_MS)).toISOString();
  let afterId = input.resume?.afterId;
  let requested = input.resume?.requested ?? 0;
  for (;;) {
    const { userIds } = await activeUsers({
      since,
      limit: pageSize,
      ...(afterId ? { afterId } : {}),
    });
    if (userIds.length > 0) {
      await requestNarratives({ users: userIds.map((userId) => ({ userId, priority: 'normal' })) });
      requested += userIds.length;
    }
    if (userIds.length < pageSize) return { requested, since };
    afterId = userIds[userIds.length - 1]!;
    if (workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof narrativeFeederWorkflow>({
        ...input,
        resume: { since, afterId, requested },
      });
    }
  }
}
