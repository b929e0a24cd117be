import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ApplicationFailure,
  Context,
  activityInfo,
  getClient,
  heartbeat,
} from '@temporalio/activity';
import {
  complexMessage,
  makeMemories,
  makePersona,
  newConversationMessage,
  seededRandom,
  simpleMessage,
} from '../loadtest/context-corpus.ts';
import { analyze } from '../loadtest/analyze.ts';
import { loadTestTargetProblem } from '../loadtest/loopback.ts';
import { LOAD_TEST_PROGRESS_SIGNAL, type LiveProgress } from '../loadtest/progress.ts';
import { renderMarkdown } from '../loadtest/render.ts';
import { runChat, runRamp } from '../loadtest/chat-load.ts';
import { runSaves } from '../loadtest/parallel-saves.ts';
import type {
  PersonaCorpus,
  ProgressCounts,
  ProgressHook,
  ScenarioContext,
} from '../loadtest/scenario-context.ts';
import { seedUsers } from '../loadtest/seed-users.ts';
import { createTargetClient } from '../loadtest/target-client.ts';
import type {
  CapacityAssumptions,
  ChatMeasurement,
  LoadReport,
  LoadTestMeasurements,
  PreparedUser,
  PrepareResult,
  RampMeasurement,
  SaveMeasurement,
} from '../loadtest/types.ts';

/** What the load-test activities need from the worker; secrets stay here, never in history. */
export interface LoadTestDeps {
  /** The target's admin key (the worker's `ADMIN_API_KEY`): creates users, issues and revokes keys. */
  adminApiKey?: string;
  /** Reports go to `<reportsDir>/<workflow id>/` (`<DATA_DIR>/loadtests`). */
  reportsDir: string;
  /** Limits the capacity projection measures against (model quota, pool size, ...). */
  assumptions?: Partial<CapacityAssumptions>;
}

interface TargetInput {
  /** The API under test; loopback only. */
  target: string;
}

export interface PrepareLoadTestInput extends TargetInput {
  users: number;
  memoriesPerUser: number;
  seed: number;
  /** How long to wait for the seeded memories to be indexed before going on anyway. */
  indexWaitMs: number;
}

interface ScenarioInput extends TargetInput {
  users: PreparedUser[];
  seed: number;
}

export interface ChatSessionsInput extends ScenarioInput {
  sessions: number;
  durationMs: number;
  thinkMs: number;
}

export interface ParallelSavesInput extends ScenarioInput {
  count: number;
}

export interface PeakRampInput extends ScenarioInput {
  startSessions: number;
  step: number;
  stepDurationMs: number;
  p95ThresholdMs: number;
  maxSessions: number;
  thinkMs: number;
}

export interface StoreLoadReportInput {
  measurements: LoadTestMeasurements;
  assumptions?: Partial<CapacityAssumptions>;
}

export interface StoredLoadReport {
  markdownPath: string;
  jsonPath: string;
  headline: LoadReport['headline'];
  successMetrics: LoadReport['successMetrics'];
  capacity: LoadReport['capacity']['resources'];
  recommendations: number;
}

const HEARTBEAT_EVERY_MS = 2_000;
const SIGNAL_EVERY_MS = 3_000;

const badInput = (message: string) => ApplicationFailure.nonRetryable(message, 'BadInput');

/** The target's origin; refuses anything but http(s) on a loopback host (a load test is an attack elsewhere). */
export function loopbackTarget(raw: string): string {
  const problem = loadTestTargetProblem(raw);
  if (problem) throw badInput(problem);
  return new URL(raw).origin;
}

/** The context benchmark's synthetic people (loadtest/context-corpus.ts), seeded per user. */
const corpus: PersonaCorpus = {
  random: seededRandom,
  memories: (seed, index, count, random) =>
    makeMemories(makePersona(seededRandom(seed * 100_003 + index)), count, random),
  messages(seed, index, random) {
    const p = makePersona(seededRandom(seed * 100_003 + index));
    return {
      simple: () => simpleMessage(p, random),
      complex: () => complexMessage(p, random),
      newConversation: () => newConversationMessage(p, random),
    };
  },
};

/** The activity's context, or a stand-in when called directly (a unit test). */
function activityContext() {
  try {
    const ctx = Context.current();
    return { signal: ctx.cancellationSignal, info: activityInfo(), inActivity: true };
  } catch {
    return { signal: new AbortController().signal, info: undefined, inActivity: false };
  }
}

const IDLE: ProgressCounts = { sessions: 0, requests: 0, errors: 0, p95Ms: null, rssMb: null };

/**
 * Reports progress from the activity's first moment to its last: a heartbeat
 * every 2 s (so a dead worker is noticed, and cancellation arrives) and, best
 * effort, a signal to the workflow every 3 s for its `progress` query
 * (history grows by one signal per 3 s). The scenario sets what is read.
 */
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
  report();
  const timer = setInterval(report, HEARTBEAT_EVERY_MS);
  return {
    hook: ((reader) => {
      read = reader;
      return { stop: () => (read = () => IDLE), now: report };
    }) satisfies ProgressHook,
    stop: () => clearInterval(timer),
  };
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

  /** Runs `work` over the validated target, heartbeating from start to end. */
  async function withScenario<T>(
    target: string,
    name: LiveProgress['scenario'],
    work: (ctx: ScenarioContext) => Promise<T>,
  ): Promise<T> {
    const origin = loopbackTarget(target);
    const adminKey = config().adminApiKey;
    if (!adminKey) {
      throw ApplicationFailure.nonRetryable(
        "the worker has no ADMIN_API_KEY: it needs the target's admin key to create users",
        'NotConfigured',
      );
    }
    const reporter = progressReporter(name);
    try {
      const client = createTargetClient(origin, activityContext().signal);
      return await work({ client, adminKey, corpus, progress: reporter.hook });
    } finally {
      reporter.stop();
    }
  }

  const checkUsers = (users: readonly PreparedUser[]) => {
    if (!Array.isArray(users) || users.length === 0) {
      throw badInput('the scenario needs prepared users');
    }
  };

  return {
    /** Creates the run's users through the admin API and seeds their memories; waits for indexing. */
    async prepareLoadTest(input: PrepareLoadTestInput): Promise<PrepareResult> {
      if (
        !(input.users >= 1 && input.users <= 10_000) ||
        !(input.memoriesPerUser >= 1 && input.memoriesPerUser <= 1000)
      ) {
        throw badInput('users must be 1–10000 and memoriesPerUser 1–1000');
      }
      const workflowId = activityContext().info?.workflowExecution?.workflowId ?? 'direct';
      return withScenario(input.target, 'prepare', (ctx) =>
        seedUsers(ctx, { ...input, label: `load test ${workflowId}` }),
      );
    },

    /** `sessions` virtual users chatting for `durationMs`, each thinking `thinkMs` between messages. */
    async runChatSessions(input: ChatSessionsInput): Promise<ChatMeasurement> {
      checkUsers(input.users);
      if (!(input.sessions >= 1 && input.sessions <= 5000) || !(input.durationMs >= 100)) {
        throw badInput('sessions must be 1–5000 and durationMs at least 100');
      }
      return withScenario(input.target, 'chat', (ctx) => runChat(ctx, input));
    },

    /** `count` memory saves sent at once, spread over the users. */
    async runParallelSaves(input: ParallelSavesInput): Promise<SaveMeasurement> {
      checkUsers(input.users);
      if (!(input.count >= 1 && input.count <= 10_000)) throw badInput('count must be 1–10000');
      // Salted per attempt, so a retried or repeated run saves new content, not duplicates.
      return withScenario(input.target, 'saves', (ctx) =>
        runSaves(ctx, { ...input, runSalt: Date.now() % 1_000_000 }),
      );
    },

    /** Adds sessions step by step until a step's p95 crosses the threshold. */
    async runPeakRamp(input: PeakRampInput): Promise<RampMeasurement> {
      checkUsers(input.users);
      if (
        !(
          input.startSessions >= 1 &&
          input.step >= 1 &&
          input.maxSessions >= input.startSessions
        ) ||
        !(input.stepDurationMs >= 100 && input.p95ThresholdMs > 0) ||
        input.maxSessions > 5000
      ) {
        throw badInput(
          'ramp: startSessions ≥ 1, step ≥ 1, startSessions ≤ maxSessions ≤ 5000, stepDurationMs ≥ 100, p95ThresholdMs > 0',
        );
      }
      return withScenario(input.target, 'ramp', (ctx) => runRamp(ctx, input));
    },

    /** Analyses the run and writes `report.md` and `report.json` under the run's directory. */
    async storeLoadReport(input: StoreLoadReportInput): Promise<StoredLoadReport> {
      const { reportsDir, assumptions } = config();
      const id = input.measurements.workflowId;
      if (!/^[A-Za-z0-9._-]{1,200}$/.test(id) || id.startsWith('.')) {
        throw badInput('workflowId is not a safe directory name');
      }
      const report = analyze(input.measurements, { ...assumptions, ...input.assumptions });
      const dir = path.join(reportsDir, id);
      await fs.mkdir(dir, { recursive: true });
      const markdownPath = path.join(dir, 'report.md');
      const jsonPath = path.join(dir, 'report.json');
      await fs.writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
      await fs.writeFile(markdownPath, renderMarkdown(report));
      return {
        markdownPath,
        jsonPath,
        headline: report.headline,
        successMetrics: report.successMetrics,
        capacity: report.capacity.resources,
        recommendations: report.recommendations.length,
      };
    },
  };
}
