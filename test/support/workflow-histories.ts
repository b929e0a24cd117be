import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { format, resolveConfig } from 'prettier';
import type { Activities } from '../../activities/index.ts';
import type { MemoryUsage } from '../../activities/narrative-activities.ts';
import { emptyCounts } from '../../core/consolidation/counts.ts';
import { importStubs } from './import-history.ts';

// Committed workflow histories: recorded from a real Temporal server with stub
// activities (the replay never runs activities, only the workflow code), then
// replayed by test/integration/workflow-replay.test.ts against the current code.

/** Histories replayed against `workflows/index.ts`, one JSON file each. */
export const HISTORIES_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
/** The versioning example: variants of a workflow and a history recorded with one of them. */
export const VERSIONING_DIR = path.join(HISTORIES_DIR, 'versioning');
export const PRODUCT_WORKFLOWS = fileURLToPath(
  new URL('../../workflows/index.ts', import.meta.url),
);

// The SDK's historyFromJSON/historyToJSON fail here ("type must be a Type"): this
// install holds two copies of protobufjs 8 (under @temporalio/common and under
// @temporalio/proto, as the root has protobufjs 7), and the SDK mixes them. The
// same conversion with the copy @temporalio/proto's types were built with works.
interface ProtoJson {
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History;
  toJson(type: unknown, message: unknown): unknown;
}
const protoRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const protojson = protoRequire('protobufjs/ext/protojson') as ProtoJson;
const protoRoot = patchProtobufRoot(proto as unknown as { lookupType(name: string): unknown });
const historyType = protoRoot.lookupType('temporal.api.history.v1.History');

/** Proto JSON (as `temporal workflow show -o json` writes it) to a History. */
export function historyFromJson(json: unknown): History {
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
}

function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export interface CommittedHistory {
  /** The file name without `.json`: `<workflow>--<scenario>`. */
  name: string;
  history: History;
}

/** Reads every `*.json` history directly in `dir`, in name order. */
export async function readHistories(dir: string): Promise<CommittedHistory[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      name: file.slice(0, -'.json'.length),
      history: historyFromJson(JSON.parse(await fs.readFile(path.join(dir, file), 'utf8'))),
    })),
  );
}

/** Writes a history as the proto JSON the Web UI and `temporal workflow show -o json` use. */
export async function writeHistory(dir: string, name: string, history: History): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  // Formatted as the project's format check expects, so a re-recording passes it.
  const options = { ...(await resolveConfig(file)), filepath: file };
  await fs.writeFile(file, await format(JSON.stringify(historyToJson(history)), options));
}

/** What the stub activities answer; scenarios change it while a workflow runs. */
export interface StubControl {
  memory: MemoryUsage;
  /** Resolves once `open(name)` is called, or the recorder stops. */
  gate(name: string): Promise<void>;
  open(name: string): void;
  openAll(): void;
}

export function stubControl(): StubControl {
  const gates = new Map<string, { opened: Promise<void>; open: () => void }>();
  const gateOf = (name: string) => {
    let gate = gates.get(name);
    if (!gate) {
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { opened, open };
      gates.set(name, gate);
    }
    return gate;
  };
  return {
    memory: { usedMb: 100, budgetMb: 1000 },
    gate: (name) => gateOf(name).opened,
    open: (name) => gateOf(name).open(),
    openAll: () => gates.forEach((gate) => gate.open()),
  };
}

/** A page of `ids` after `afterId`, as the store's keyset paging returns it. */
function page(ids: readonly string[], limit: number, afterId?: string): string[] {
  const from = afterId ? ids.indexOf(afterId) + 1 : 0;
  return ids.slice(from, from + limit);
}

/** Users the paging stubs know, in id order. */
export const STUB_USERS = ['user-1', 'user-2', 'user-3', 'user-4', 'user-5'] as const;
const flakyAttempts = new Map<string, number>();

type Stubbed = Pick<
  Activities,
  | 'readMemoryUsage'
  | 'generateNarrative'
  | 'activeUsers'
  | 'requestNarratives'
  | 'pageUsers'
  | 'consolidateUser'
  | 'requeueStaleIndexing'
  | 'reembedPage'
  | 'activateSpace'
>;

/**
 * The activities of the recorded workflows, answering from `control`. User
 * ids choose the outcome of a generation: `current-` is skipped, `unknown-`
 * fails for good, `flaky-` fails once then succeeds, `held-` waits at the
 * `held` gate. A load test's preparation waits at the `prepare` gate.
 */
export function stubActivities(control: StubControl): Stubbed {
  return {
    readMemoryUsage: async () => ({ ...control.memory }),
    async generateNarrative({ userId }) {
      if (userId.startsWith('unknown-')) {
        throw ApplicationFailure.nonRetryable(`no user ${userId}`, 'UnknownUser');
      }
      if (userId.startsWith('flaky-') && !flakyAttempts.has(userId)) {
        flakyAttempts.set(userId, 1);
        throw new Error('the model fell over');
      }
      if (userId.startsWith('held-')) await control.gate('held');
      const skipped = userId.startsWith('current-');
      return { skipped, version: 1, dataVersion: 3, model: 'stub' };
    },
    activeUsers: async ({ limit, afterId }) => ({ userIds: page(STUB_USERS, limit, afterId) }),
    requestNarratives: async () => {},
    pageUsers: async ({ limit, afterId }) => ({ userIds: page(STUB_USERS, limit, afterId) }),
    async consolidateUser({ userId }) {
      if (userId === 'user-3') throw ApplicationFailure.nonRetryable('bad page size', 'BadInput');
      return { ...emptyCounts(), merged: 2, expired: 1, orphanVectors: 3, bytesFreed: 4608 };
    },
    requeueStaleIndexing: async () => ({ requeued: 3 }),
    reembedPage: async ({ pageSize, afterId }) => {
      const ids = page(STUB_USERS, pageSize, afterId);
      return { embedded: ids.length, next: ids.length < pageSize ? null : ids.at(-1)! };
    },
    activateSpace: async ({ spaceId }) => ({ activated: spaceId }),
  };
}

type LoadTestStubbed = Pick<
  Activities,
  'prepareLoadTest' | 'runChatSessions' | 'runParallelSaves' | 'runPeakRamp' | 'storeLoadReport'
>;

// The load test workflow reads only the prepared users; it hands every other
// measurement to the report unread, so the stubs fill in just the outline.
const measured = <T>(outline: object) => outline as T;

/** The load test's scenarios, measuring nothing; preparation waits at the `prepare` gate. */
export function loadTestStubs(control: StubControl): LoadTestStubbed {
  return {
    async prepareLoadTest({ users, seed, memoriesPerUser }) {
      await control.gate('prepare');
      const prepared = Array.from({ length: users }, (_, index) => ({
        id: `load-${index}`,
        index,
      }));
      return measured({ users: prepared, seed, memoriesPerUser, memoriesCreated: 0 });
    },
    runChatSessions: async ({ sessions }) => measured({ sessions, requests: 0, errors: 0 }),
    runParallelSaves: async ({ count }) => measured({ count, errors: 0 }),
    runPeakRamp: async ({ maxSessions }) => measured({ steps: [], sustainedSessions: maxSessions }),
    storeLoadReport: async () => measured({ markdownPath: 'report.md', jsonPath: 'report.json' }),
  };
}

/** Workers with stub activities, one per lane (a task queue of its own), and a client beside them. */
export interface Recorder {
  client: Client;
  /** The task queue of a lane named at the start. */
  taskQueue(lane: string): string;
  control: StubControl;
  /** Every run of `workflowId` from `firstRunId` on, following continue-as-new. */
  runs(workflowId: string, firstRunId: string): Promise<History[]>;
  stop(): Promise<void>;
}

export async function startRecorder(
  address: string,
  workflowsPath: string,
  lanes: readonly string[],
): Promise<Recorder> {
  const run = randomUUID().slice(0, 8);
  const queues = new Map(lanes.map((lane) => [lane, `record-${lane}-${run}`]));
  const control = stubControl();
  const nativeConnection = await NativeConnection.connect({ address });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('WARN'),
  });
  const workers = await Promise.all(
    [...queues.values()].map((taskQueue) =>
      Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowBundle,
        activities: { ...stubActivities(control), ...loadTestStubs(control), ...importStubs() },
      }),
    ),
  );
  const running = workers.map((worker) => worker.run());
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    client,
    taskQueue(lane) {
      const taskQueue = queues.get(lane);
      if (!taskQueue) throw new Error(`no lane ${lane}: name it when starting the recorder`);
      return taskQueue;
    },
    control,
    runs: (workflowId, firstRunId) => followRuns(client, workflowId, firstRunId),
    async stop() {
      control.openAll();
      for (const worker of workers) worker.shutdown();
      await Promise.all(running);
      await nativeConnection.close();
      await connection.close();
    },
  };
}

async function followRuns(client: Client, workflowId: string, runId: string): Promise<History[]> {
  const histories: History[] = [];
  for (let next: string | null | undefined = runId; next;) {
    const history = await client.workflow.getHandle(workflowId, next).fetchHistory();
    histories.push(history);
    const last = history.events?.at(-1);
    next = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return histories;
}
