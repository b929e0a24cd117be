import {
  continueAsNew,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { indexingActivityOptions } from './index-memory.workflow.ts';
import { ImportProgress, type ImportRunProgress, type ImportRunTotals } from './import.state.ts';

export type { ImportRunProgress, ImportRunTotals } from './import.state.ts';

export interface ImportWorkflowInput {
  importId: string;
  userId: string;
  /** The last line taken, carried over a continue-as-new. */
  afterLine?: number;
  /** The counts so far, carried over a continue-as-new. */
  totals?: ImportRunTotals;
  /** How long the run waits before looking again while the upload is ahead of nothing (default 1 s). */
  idleMs?: number;
  /** Pages after which the run continues as new (default 100). */
  pagesPerRun?: number;
}

/** The run's progress: counts, the last line taken, and whether it waits for lines. */
export const importProgressQuery = defineQuery<ImportRunProgress>('importProgress');

/** The workflow id of an import's indexing run: one run per import. */
export const importWorkflowId = (importId: string) => `import-${importId}`;

// A page runs a few batches of embedding and extraction (extraction may wait on the model):
// minutes. It heartbeats every 2 s, so a dead worker's page goes to another within 6 s (a
// retried page redoes nothing already recorded). Outages only delay it.
const { indexImportPage } = proxyActivities<Activities>({
  ...indexingActivityOptions,
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '6 seconds',
});
const { finishImportIndexing } = proxyActivities<Activities>(indexingActivityOptions);

const PAGES_PER_RUN = 100;
const DEFAULT_IDLE_MS = 1_000;

function report(progress: ImportProgress): void {
  setCurrentDetails(progress.details());
  upsertMemo({ import: progress.view() });
}

/**
 * Indexes the memories one import created (workflow id `import-<import
 * id>`), in file order, while the upload may still be arriving: one page
 * activity at a time (batches of 32 through the same idempotent steps as
 * every save's indexing), so an import holds one activity slot and never
 * starves other users' indexing. Waits while the upload is ahead of
 * nothing; ends once the upload has ended and every memory is taken, then
 * marks the import's indexing done. Progress shows in the Temporal UI
 * (current details, the `import` memo, `importProgress` query) and at
 * `GET /v1/imports/:id`. Continues as new every 100 pages, carrying its
 * place in the file.
 */
export async function importWorkflow(input: ImportWorkflowInput): Promise<ImportRunTotals> {
  const { importId, userId } = input;
  const progress = new ImportProgress({ importId, userId }, input);
  setHandler(importProgressQuery, () => progress.view());
  const pagesPerRun = input.pagesPerRun ?? PAGES_PER_RUN;
  for (let pages = 0; ; pages++) {
    if (pages >= pagesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof importWorkflow>({
        ...input,
        afterLine: progress.afterLine,
        totals: progress.totals,
      });
    }
    const page = await indexImportPage({ importId, userId, afterLine: progress.afterLine });
    progress.add(page);
    report(progress);
    if (page.taken === 0) {
      if (!page.receiving) break;
      await sleep(input.idleMs ?? DEFAULT_IDLE_MS);
    }
  }
  await finishImportIndexing({ importId, userId });
  progress.phase = 'done';
  report(progress);
  return progress.totals;
}
