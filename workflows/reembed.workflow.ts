import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

export interface ReembedInput {
  spaceId: string;
  pageSize?: number;
  /** Where a continued run picks up. */
  afterId?: string;
  embedded?: number;
}

export interface ReembedResult {
  spaceId: string;
  embedded: number;
}

const { reembedPage, activateSpace } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

/** Pages per run before the history is handed to a fresh run. */
const PAGES_PER_RUN = 200;

/** The workflow id of a space's rebuild: one at a time per space. */
export const reembedWorkflowId = (spaceId: string) =>
  `reembed-${spaceId.replace(/[^A-Za-z0-9@._-]+/g, '-')}`;

/**
 * Fills a new embedding space with every memory, page by page, then makes it
 * the space searches read. The cursor lives in the workflow, so a restarted
 * worker resumes at the last finished page; memories saved meanwhile are
 * already written to both spaces by indexing.
 */
export async function reembedWorkflow(input: ReembedInput): Promise<ReembedResult> {
  const pageSize = input.pageSize ?? 256;
  let afterId = input.afterId;
  let embedded = input.embedded ?? 0;
  for (let pages = 0; ; pages++) {
    if (pages >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof reembedWorkflow>({ ...input, pageSize, afterId, embedded });
    }
    const page = await reembedPage({
      spaceId: input.spaceId,
      pageSize,
      ...(afterId ? { afterId } : {}),
    });
    embedded += page.embedded;
    if (page.next === null) break;
    afterId = page.next;
  }
  await activateSpace({ spaceId: input.spaceId });
  return { spaceId: input.spaceId, embedded };
}
