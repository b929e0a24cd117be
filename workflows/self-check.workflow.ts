import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { retriedWithBackoff } from './activity-options.ts';

export interface SelfCheckInput {
  /** Who asked, for the record (an operator name, `npm test`, ...). */
  requestedBy: string;
}

export interface SelfCheckResult {
  selfCheckId: string;
  workflowId: string;
  recordedAt: string;
}

const { recordSelfCheck } = proxyActivities<Activities>(
  retriedWithBackoff('30 seconds', '1 second'),
);

/**
 * Proves the whole chain works: the workflow engine schedules an activity on
 * a real worker, which writes to the relational store.
 */
export async function selfCheckWorkflow(input: SelfCheckInput): Promise<SelfCheckResult> {
  const { workflowId } = workflowInfo();
  const check = await recordSelfCheck({ workflowId, note: `requested by ${input.requestedBy}` });
  return {
    selfCheckId: check.id,
    workflowId,
    recordedAt: new Date(check.createdAt).toISOString(),
  };
}
