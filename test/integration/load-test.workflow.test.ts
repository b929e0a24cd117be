import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { LoadReport } from '../../loadtest/types.ts';
import { createMetrics } from '../../infra/metrics/metrics.ts';
import {
  loadTestProgressQuery,
  loadTestWorkflow,
  loadTestWorkflowId,
  type LoadTestInput,
  type LoadTestProgress,
} from '../../workflows/index.ts';
import type { RunningWorker } from '../../workers/worker.ts';
import { deepPlan, planningResponder } from '../support/emulated-model.ts';
import { LOAD_REPORT_HEADINGS } from '../support/load-report-headings.ts';
import { useMonitoredApp } from '../support/monitored-app.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { ADMIN_KEY, call, eventually } from '../support/test-api.ts';
import { startTestWorker } from '../support/test-worker.ts';

describe('load-test workflow against the real API, worker and dev server', () => {
  const taskQueue = `test-loadtests-${randomUUID()}`;
  let worker: RunningWorker;
  let reports: TempDir;
  let reportsDir: string;
  // Registered before the app's hooks, so the worker stops before the app does.
  after(async () => {
    await worker?.stop();
    await reports?.remove();
  });
  const { api, engine } = useMonitoredApp({
    // Planning prompts get a plan (so some messages cost a model call); extraction an empty graph.
    responder: planningResponder((request) => deepPlan([request.prompt.slice(0, 200)])),
    budgetMb: 2048,
    intervalMs: 250,
    metrics: createMetrics(),
    loadTestsQueue: taskQueue,
  });

  before(async () => {
    reports = await createTempDir('loadtests-');
    reportsDir = reports.path;
    worker = await startTestWorker(engine, taskQueue, {
      loadTest: { adminApiKey: ADMIN_KEY, reportsDir },
    });
  });

  it('starts and follows a run through /v1/admin/loadtests, refusing non-loopback targets', async () => {
    const start = (body: unknown, key: string | null = ADMIN_KEY) =>
      call(api.url, 'POST', '/v1/admin/loadtests', { ...(key ? { key } : {}), body });
    assert.equal((await start({}, null)).status, 401);
    assert.equal((await start({}, 'not-the-admin-key-000000')).status, 401);
    const remote = await start({ target: 'http://93.184.216.34:8080' });
    assert.equal(remote.status, 400);
    assert.match(remote.body.error.message, /body\.target: expected a loopback target/);
    assert.equal((await start({ sessions: 0 })).status, 400);

    const started = await start({
      users: 2,
      memories_per_user: 3,
      sessions: 2,
      duration_s: 2,
      saves: 3,
      ramp_max_sessions: 2,
      p95_threshold_ms: 60_000,
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = started.body.workflow_id as string;
    assert.match(id, /^loadtest-/);
    let run: { status: string; result: any } | undefined;
    await eventually(
      'the run completes',
      async () => {
        const res = await call(api.url, 'GET', `/v1/admin/loadtests/${id}`, { key: ADMIN_KEY });
        assert.equal(res.status, 200);
        run = res.body;
        assert.ok(['RUNNING', 'COMPLETED'].includes(res.body.status), JSON.stringify(res.body));
        return res.body.status === 'COMPLETED';
      },
      300_000,
    );
    assert.ok(run!.result.report.capacity.length > 0);
    const missing = await call(api.url, 'GET', '/v1/admin/loadtests/loadtest-nope', {
      key: ADMIN_KEY,
    });
    assert.equal(missing.status, 404);
  });

  it('runs a short load test end to end and stores a report with the capacity projection', async () => {
    const input: LoadTestInput = {
      target: api.url,
      users: 3,
      memoriesPerUser: 8,
      indexWaitMs: 60_000,
      chat: { sessions: 3, durationMs: 5_000, thinkMs: 200 },
      saves: { count: 5 },
      // A threshold no test machine reaches: the ramp runs both of its steps.
      ramp: {
        startSessions: 2,
        step: 2,
        stepDurationMs: 2_000,
        maxSessions: 4,
        p95ThresholdMs: 60_000,
      },
      assumptions: { vectorDimension: 64 },
    };
    const workflowId = `${loadTestWorkflowId()}-${randomUUID().slice(0, 8)}`;
    const handle = await api.client.workflow.start(loadTestWorkflow, {
      taskQueue,
      workflowId,
      args: [input],
    });
    const phases = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const p: LoadTestProgress | null = await handle
          .query(loadTestProgressQuery)
          .catch(() => null);
        if (p) phases.add(p.phase);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const result = await handle.result().finally(() => (polling = false));
    await poller;

    assert.equal(result.workflowId, workflowId);
    assert.ok(phases.size >= 1, 'the progress query answered while the run went on');
    assert.equal(path.dirname(result.report.jsonPath), path.join(reportsDir, workflowId));
    const md = await fs.readFile(result.report.markdownPath, 'utf8');
    const report = JSON.parse(await fs.readFile(result.report.jsonPath, 'utf8')) as LoadReport;

    for (const heading of LOAD_REPORT_HEADINGS) {
      assert.ok(md.includes(heading), `the Markdown report has ${heading}`);
    }

    const { chat, saves, ramp, prepare } = report.scenarios;
    assert.equal(prepare.memoriesCreated, 24);
    assert.ok(chat.requests > 0 && chat.errors === 0, JSON.stringify(chat.errorKinds));
    assert.equal(chat.sessions, 3);
    assert.equal(saves.count, 5);
    assert.equal(saves.errors, 0, JSON.stringify(saves.errorKinds));
    assert.deepEqual(
      ramp.steps.map((s) => s.sessions),
      [2, 4],
    );
    assert.ok(report.bottleneck.dominantStage, 'a stage is named as dominating p95');
    assert.equal(report.successMetrics.length, 5);
    assert.ok(report.recommendations.length > 0);

    // A figure per resource: a finite, positive number of users, or explicitly not limiting.
    const resources = report.capacity.resources;
    for (const name of [
      'memory budget',
      'CPU',
      'vector index (Qdrant MICRO',
      'vector index (Qdrant SMALL',
      'model quota',
      'database connections',
    ]) {
      const row = resources.find((r) => r.resource.startsWith(name));
      assert.ok(row, `the projection covers ${name}`);
      assert.ok(
        row.notLimiting || (Number.isFinite(row.limitUsers) && row.limitUsers! > 0),
        `${name}: ${JSON.stringify(row)}`,
      );
    }
    assert.equal(report.capacity.perUser.cpuSource, 'process_cpu_seconds_total');
    assert.ok(report.capacity.timeline.length > 0);
    assert.deepEqual(result.report.capacity, resources);
    assert.match(
      md,
      /\| vector index \(Qdrant MICRO, 1024 MB RAM, \$9\.68\/month\) \| (≈\d+ stored users|not limiting) \|/,
    );

    const final = await handle.query(loadTestProgressQuery);
    assert.equal(final.phase, 'done');
    assert.deepEqual(final.completed, ['prepare', 'chat', 'saves', 'ramp', 'report']);
  });

  it('refuses a target that is not on loopback, without retrying', async () => {
    const handle = await api.client.workflow.start(loadTestWorkflow, {
      taskQueue,
      workflowId: `${loadTestWorkflowId()}-${randomUUID().slice(0, 8)}`,
      args: [{ target: 'http://example.com:8080' }],
    });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.match(String((error.cause?.cause as Error | undefined)?.message), /loopback/);
      return true;
    });
    const history = await handle.fetchHistory();
    const attempts = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
    assert.equal(attempts.length, 1);
  });
});
