import { ApplicationFailure } from '@temporalio/activity';
import { runChat, runRamp } from '../loadtest/chat-load.ts';
import { personaCorpus } from '../loadtest/context-corpus.ts';
import { runSaves } from '../loadtest/parallel-saves.ts';
import type { LiveProgress } from '../loadtest/progress.ts';
import type { ScenarioContext } from '../loadtest/scenario-context.ts';
import { seedUsers } from '../loadtest/seed-users.ts';
import { createTargetClient } from '../loadtest/target-client.ts';
import type {
  CapacityAssumptions,
  ChatMeasurement,
  PrepareResult,
  RampMeasurement,
  SaveMeasurement,
} from '../loadtest/types.ts';
import { activityContext } from './activity-context.ts';
import {
  checkChatInput,
  checkPrepareInput,
  checkRampInput,
  checkSavesInput,
  loopbackTarget,
  type ChatSessionsInput,
  type ParallelSavesInput,
  type PeakRampInput,
  type PrepareLoadTestInput,
} from './loadtest-inputs.ts';
import { reportingProgress } from './loadtest-progress.ts';
import {
  writeLoadReport,
  type StoreLoadReportInput,
  type StoredLoadReport,
} from './loadtest-report.ts';

export { loopbackTarget };
export type {
  ChatSessionsInput,
  ParallelSavesInput,
  PeakRampInput,
  PrepareLoadTestInput,
  StoreLoadReportInput,
  StoredLoadReport,
};

/** What the load-test activities need from the worker; secrets stay here, never in history. */
export interface LoadTestDeps {
  /** The target's admin key (the worker's `ADMIN_API_KEY`): creates users, issues and revokes keys. */
  adminApiKey?: string;
  /** Reports go to `<reportsDir>/<workflow id>/` (`<DATA_DIR>/loadtests`). */
  reportsDir: string;
  /** Limits the capacity projection measures against (model quota, pool size, ...). */
  assumptions?: Partial<CapacityAssumptions>;
}

/**
 * The load-test activities: each scenario runs against the loopback target
 * with the worker's admin key (never in workflow history), heartbeats every
 * 2 s, and returns compact measurements; the last one writes the report.
 */
export function createLoadTestActivities(deps: { loadTest?: LoadTestDeps }) {
  const config = () => {
    if (!deps.loadTest) {
      throw ApplicationFailure.nonRetryable(
        'this worker has no load-test settings (ActivityDeps.loadTest)',
        'NotConfigured',
      );
    }
    return deps.loadTest;
  };
  const withScenario = scenarioRunner(config);

  return {
    /** Creates the run's users through the admin API and seeds their memories; waits for indexing. */
    async prepareLoadTest(input: PrepareLoadTestInput): Promise<PrepareResult> {
      checkPrepareInput(input);
      const workflowId = activityContext().info?.workflowExecution?.workflowId ?? 'direct';
      return withScenario(input.target, 'prepare', (ctx) =>
        seedUsers(ctx, { ...input, label: `load test ${workflowId}` }),
      );
    },

    /** `sessions` virtual users chatting for `durationMs`, each thinking `thinkMs` between messages. */
    async runChatSessions(input: ChatSessionsInput): Promise<ChatMeasurement> {
      checkChatInput(input);
      return withScenario(input.target, 'chat', (ctx) => runChat(ctx, input));
    },

    /** `count` memory saves sent at once, spread over the users. */
    async runParallelSaves(input: ParallelSavesInput): Promise<SaveMeasurement> {
      checkSavesInput(input);
      // Salted per attempt, so a retried or repeated run saves new content, not duplicates.
      return withScenario(input.target, 'saves', (ctx) =>
        runSaves(ctx, { ...input, runSalt: Date.now() % 1_000_000 }),
      );
    },

    /** Adds sessions step by step until a step's p95 crosses the threshold. */
    async runPeakRamp(input: PeakRampInput): Promise<RampMeasurement> {
      checkRampInput(input);
      return withScenario(input.target, 'ramp', (ctx) => runRamp(ctx, input));
    },

    /** Analyses the run and writes `report.md` and `report.json` under the run's directory. */
    async storeLoadReport(input: StoreLoadReportInput): Promise<StoredLoadReport> {
      const { reportsDir, assumptions } = config();
      return writeLoadReport(reportsDir, assumptions, input);
    },
  };
}

/** Runs a scenario's `work` over the validated target, reporting progress from start to end. */
function scenarioRunner(config: () => LoadTestDeps) {
  return async <T>(
    target: string,
    name: LiveProgress['scenario'],
    work: (ctx: ScenarioContext) => Promise<T>,
  ): Promise<T> => {
    const origin = loopbackTarget(target);
    const adminKey = config().adminApiKey;
    if (!adminKey) {
      throw ApplicationFailure.nonRetryable(
        "the worker has no ADMIN_API_KEY: it needs the target's admin key to create users",
        'NotConfigured',
      );
    }
    return reportingProgress(name, (progress) => {
      const client = createTargetClient(origin, activityContext().signal);
      return work({ client, adminKey, corpus: personaCorpus, progress });
    });
  };
}
