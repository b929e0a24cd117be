import { ApplicationFailure } from '@temporalio/activity';
import type { RelationalStore, SelfCheck } from '../core/ports/relational-store.ts';

/** The ports activities run over; the worker builds the real ones. */
export interface ActivityDeps {
  store: RelationalStore;
}

export interface RecordSelfCheckInput {
  workflowId: string;
  note: string;
}

/**
 * Builds every activity over the given ports, as in Temporal's
 * dependency-injection sample: activities stay thin, logic lives in `core/`.
 */
export function createActivities({ store }: ActivityDeps) {
  return {
    /** Writes one self-check row (idempotent per workflow id) and returns it. */
    async recordSelfCheck(input: RecordSelfCheckInput): Promise<SelfCheck> {
      if (!input.workflowId || input.note.length > 1000) {
        throw ApplicationFailure.nonRetryable('self-check input is invalid', 'BadInput');
      }
      return store.recordSelfCheck(input);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
