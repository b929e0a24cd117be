import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  createConsolidator,
  type ConsolidationCounts,
  type ConsolidationProgress,
  type ConsolidatorDeps,
} from '../core/consolidation/consolidator.ts';

export interface ConsolidateUserActivityInput {
  userId: string;
  /** Cosine similarity at or above which memories are near-duplicates (0 < t ≤ 1). */
  threshold: number;
  /** The run's time (ISO 8601), fixed by the workflow, so a retry judges expiry the same way. */
  now: string;
  pageSize?: number;
}

export interface PageUsersInput {
  limit: number;
  afterId?: string;
}

/**
 * Activities of nightly consolidation. `consolidateUser` heartbeats its
 * progress after every page and, when retried, resumes from the last
 * heartbeat's progress; every page it finished is committed, and re-running
 * one finds nothing left to change.
 */
export function createConsolidationActivities(deps: ConsolidatorDeps) {
  const consolidator = createConsolidator(deps);
  return {
    /** Every user's id, in id order after `afterId`. */
    async pageUsers(input: PageUsersInput): Promise<{ userIds: string[] }> {
      return {
        userIds: await deps.store.pageUsers({
          limit: input.limit,
          ...(input.afterId ? { afterId: input.afterId } : {}),
        }),
      };
    },

    async consolidateUser(input: ConsolidateUserActivityInput): Promise<ConsolidationCounts> {
      const now = new Date(input.now);
      if (!(input.threshold > 0 && input.threshold <= 1) || Number.isNaN(now.getTime())) {
        throw ApplicationFailure.nonRetryable(
          `consolidation needs 0 < threshold <= 1 and an ISO time, got ${input.threshold} and ${input.now}`,
          'BadInput',
        );
      }
      const context = Context.current();
      const resume = context.info.heartbeatDetails as ConsolidationProgress | undefined;
      if (resume) {
        context.log.info('consolidation resumes from the last heartbeat', {
          userId: input.userId,
          phase: resume.phase,
        });
      }
      return consolidator.consolidateUser(
        {
          userId: input.userId,
          threshold: input.threshold,
          now,
          ...(input.pageSize ? { pageSize: input.pageSize } : {}),
        },
        {
          ...(resume ? { resume } : {}),
          onProgress: (progress) => {
            context.heartbeat(progress);
            // A cancelled run stops between pages, with everything so far committed.
            context.cancellationSignal.throwIfAborted();
          },
        },
      );
    },
  };
}
