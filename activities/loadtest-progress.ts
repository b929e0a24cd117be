import { getClient, heartbeat } from '@temporalio/activity';
import { LOAD_TEST_PROGRESS_SIGNAL, type LiveProgress } from '../loadtest/progress.ts';
import type { ProgressCounts, ProgressHook } from '../loadtest/scenario-context.ts';
import { activityContext } from './activity-context.ts';
import { beatingWhile } from './heartbeat.ts';

const HEARTBEAT_EVERY_MS = 2_000;
const SIGNAL_EVERY_MS = 3_000;

const IDLE: ProgressCounts = { sessions: 0, requests: 0, errors: 0, p95Ms: null, rssMb: null };

/**
 * Runs `work`, reporting its progress from the first moment to the last: a
 * heartbeat every 2 s (so a dead worker is noticed, and cancellation arrives)
 * and, best effort, a signal to the workflow every 3 s for its `progress`
 * query (history grows by one signal per 3 s). The scenario sets what is read
 * through the hook `work` receives.
 */
export function reportingProgress<T>(
  scenario: LiveProgress['scenario'],
  work: (progress: ProgressHook) => Promise<T>,
): Promise<T> {
  const reporter = progressReporter(scenario);
  return beatingWhile(() => work(reporter.hook), reporter.report, HEARTBEAT_EVERY_MS, {
    beatFirst: true,
  });
}

function progressReporter(scenario: LiveProgress['scenario']) {
  const { info, inActivity } = activityContext();
  const started = Date.now();
  let read: () => ProgressCounts = () => IDLE;
  let signalling = inActivity;
  let lastSignal = started;
  const report = () => {
    const progress: LiveProgress = { scenario, ...read(), elapsedMs: Date.now() - started };
    if (!inActivity) return;
    heartbeat(progress);
    const execution = info?.workflowExecution;
    if (signalling && execution && Date.now() - lastSignal >= SIGNAL_EVERY_MS) {
      lastSignal = Date.now();
      try {
        getClient()
          .workflow.getHandle(execution.workflowId, execution.runId)
          .signal(LOAD_TEST_PROGRESS_SIGNAL, progress)
          .catch(() => {
            signalling = false; // the heartbeat still carries it
          });
      } catch {
        signalling = false; // a worker without a client: the heartbeat still carries it
      }
    }
  };
  const hook: ProgressHook = (reader) => {
    read = reader;
    return { stop: () => (read = () => IDLE), now: report };
  };
  return { hook, report };
}
