import type { Activities } from '../../activities/index.ts';
import type { ImportPageResult } from '../../activities/import-activities.ts';
import { importProgressQuery, importWorkflow, importWorkflowId } from '../../workflows/index.ts';
import { eventually } from './test-api.ts';
import type { Recorded } from './workflow-histories-scenarios.ts';
import type { Recorder } from './workflow-histories.ts';

// The recorded history of an import's indexing run: stub activities that page through an
// upload arriving in two parts, and the scenario that drives the run as the API starts it.

type ImportStubbed = Pick<Activities, 'indexImportPage' | 'finishImportIndexing'>;

/** Lines of the recorded upload: 200 arrive first, the rest after the run has found none. */
const FIRST_PART = 200;
const ALL_LINES = 300;
const PAGE = 128;

/**
 * An import's page activities over a pretend upload: 200 lines at first;
 * once the run has found nothing more (while still receiving), the other
 * 100 have arrived and the upload has ended.
 */
export function importStubs(): ImportStubbed {
  const waited = new Map<string, number>();
  return {
    async indexImportPage({ importId, afterLine }): Promise<ImportPageResult> {
      const polls = waited.get(importId) ?? 0;
      const arrived = polls === 0 ? FIRST_PART : ALL_LINES;
      const taken = Math.max(0, Math.min(PAGE, arrived - afterLine));
      if (taken === 0) waited.set(importId, polls + 1);
      return {
        afterLine: afterLine + taken,
        taken,
        indexed: Math.max(0, taken - 1),
        failed: taken > 0 ? 1 : 0,
        requeued: 0,
        receiving: taken > 0 || polls === 0,
      };
    },
    finishImportIndexing: async () => {},
  };
}

/**
 * An import's run as the API starts it: pages while the upload arrives, a
 * wait while it is ahead of nothing (answering a progress query),
 * continue-as-new after three pages carrying its place, and the finish.
 */
export async function importRun(r: Recorder): Promise<Recorded> {
  const importId = '00000000-0000-4000-8000-000000000001';
  const handle = await r.client.workflow.start(importWorkflow, {
    taskQueue: r.taskQueue('import'),
    workflowId: `${importWorkflowId(importId)}-recorded`,
    args: [{ importId, userId: 'user-1', pagesPerRun: 3, idleMs: 200 }],
  });
  // Queries are answered throughout (they leave no events, but must not disturb replay).
  await eventually(
    'progress answered',
    async () => (await handle.query(importProgressQuery)).pages > 0,
    60_000,
  );
  await handle.result();
  const runs = await r.runs(handle.workflowId, handle.firstExecutionRunId);
  return Object.fromEntries(
    runs.map((h, i) => [`import--pages-wait-continue-as-new-run-${i + 1}`, h]),
  );
}
