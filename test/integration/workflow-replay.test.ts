import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { createLogger } from '../../infra/logger.ts';
import { installTemporalRuntime } from '../../infra/temporal/runtime-logger.ts';
import {
  HISTORIES_DIR,
  PRODUCT_WORKFLOWS,
  readHistories,
  VERSIONING_DIR,
  type CommittedHistory,
} from '../support/workflow-histories.ts';

// Every committed history (test/fixtures/histories/*.json, recorded from a real
// Temporal server; `node scripts/bootstrap.mjs record-histories` records them
// again) must replay against the workflow code as it is now: a change that would
// break a run in flight fails here, not in production.

installTemporalRuntime(createLogger('silent'));

const histories = await readHistories(HISTORIES_DIR);
const afterChange = await readHistories(VERSIONING_DIR);
const quiet = new DefaultLogger('WARN');

type EventAttributes = keyof temporal.api.history.v1.IHistoryEvent & `${string}Attributes`;
const workflowType = (h: History) =>
  h.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '';
const has = (h: History, attributes: EventAttributes) => h.events?.some((e) => e[attributes]);
const historiesOf = (type: string) => histories.filter((h) => workflowType(h.history) === type);

function named(list: CommittedHistory[], name: string): History {
  const found = list.find((h) => h.name === name);
  assert.ok(found, `the committed history ${name} is missing`);
  return found.history;
}

describe('committed workflow histories', () => {
  it('cover every long-running and scheduled workflow', () => {
    for (const type of [
      'narrativeSchedulerWorkflow',
      'narrativeFeederWorkflow',
      'consolidationWorkflow',
      'indexReconcilerWorkflow',
      'indexUserWorkflow',
      'indexShardWorkflow',
      'reembedWorkflow',
      'loadTestWorkflow',
      'importWorkflow',
    ]) {
      assert.ok(historiesOf(type).length > 0, `no history of ${type}`);
    }
  });

  it("walk the scheduler's signals, updates, activities, cancellation and continue-as-new", () => {
    const scheduler = historiesOf('narrativeSchedulerWorkflow').map((h) => h.history);
    for (const attributes of [
      'workflowExecutionSignaledEventAttributes',
      'workflowExecutionUpdateCompletedEventAttributes',
      'activityTaskCompletedEventAttributes',
      'activityTaskFailedEventAttributes',
      'timerFiredEventAttributes',
      'workflowExecutionCancelRequestedEventAttributes',
      'workflowExecutionCanceledEventAttributes',
      'workflowExecutionContinuedAsNewEventAttributes',
    ] as const) {
      assert.ok(
        scheduler.some((h) => has(h, attributes)),
        `no scheduler history has ${attributes}`,
      );
    }
    const continued = historiesOf('consolidationWorkflow').map((h) => h.history);
    assert.ok(continued.some((h) => has(h, 'workflowExecutionContinuedAsNewEventAttributes')));
  });

  // The per-user run takes a refused batch apart in the workflow (a failed activity in its
  // history); the shard's batched activity does that inside itself.
  for (const [type, refused] of [
    ['indexUserWorkflow', ['activityTaskFailedEventAttributes'] as const],
    ['indexShardWorkflow', [] as const],
  ] as const) {
    it(`walk an indexing run (${type}): requests, batches, idle end, continue-as-new`, () => {
      const indexing = historiesOf(type).map((h) => h.history);
      for (const attributes of [
        'workflowExecutionSignaledEventAttributes',
        'activityTaskCompletedEventAttributes',
        ...refused,
        'timerFiredEventAttributes',
        'workflowExecutionContinuedAsNewEventAttributes',
        'workflowExecutionCompletedEventAttributes',
      ] as const) {
        assert.ok(
          indexing.some((h) => has(h, attributes)),
          `no ${type} history has ${attributes}`,
        );
      }
    });
  }
});

describe('replaying the committed histories against workflows/index.ts', () => {
  let bundle: WorkflowBundle;
  before(async () => {
    bundle = await bundleWorkflowCode({ workflowsPath: PRODUCT_WORKFLOWS, logger: quiet });
  });

  for (const { name, history } of histories) {
    it(`${name} replays without non-determinism`, async () => {
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: name }, history, name);
    });
  }
});

describe('changing workflow code: a run recorded before the change still replays', () => {
  // The example change: the index reconciler waits a second before requeueing.
  const variant = (file: string) => path.join(VERSIONING_DIR, file);
  const beforeChange = named(histories, 'index-reconciler--requeue');
  const replay = (file: string, history: History) =>
    Worker.runReplayHistory({ workflowsPath: variant(file), replayName: file }, history);

  it('fails replay when the change is made without patched()', async () => {
    await assert.rejects(
      replay('reconciler-pause-unguarded.workflow.ts', beforeChange),
      DeterminismViolationError,
    );
  });

  it('replays the old run along the old path when the change is behind patched()', async () => {
    await replay('reconciler-pause-patched.workflow.ts', beforeChange);
  });

  it('replays a run recorded on the changed code, patch marker included', async () => {
    const recordedAfter = named(afterChange, 'index-reconciler--after-pause-patch');
    assert.ok(has(recordedAfter, 'markerRecordedEventAttributes'), 'the run took the new path');
    await replay('reconciler-pause-patched.workflow.ts', recordedAfter);
  });
});
