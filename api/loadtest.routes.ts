import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { loadTestTargetProblem } from '../loadtest/loopback.ts';
import type { LoadTests } from '../core/ports/load-tests.ts';
import { givenFields } from './given-fields.ts';
import { routeGroup, type RouteSpec } from './route-registry.ts';

const startBody = z.strictObject({
  target: z
    .string()
    .superRefine((v, ctx) => {
      const problem = loadTestTargetProblem(v);
      if (problem)
        ctx.addIssue({ code: 'custom', message: `expected a loopback target: ${problem}` });
    })
    .optional()
    .describe('the API under test; default: this API'),
  sessions: z.number().int().min(1).max(1000).optional().describe('concurrent chat sessions (100)'),
  duration_s: z.number().int().min(1).max(3600).optional().describe('chat scenario length (60)'),
  saves: z.number().int().min(1).max(1000).optional().describe('parallel memory saves (50)'),
  users: z.number().int().min(1).max(10_000).optional().describe('users seeded (= sessions)'),
  memories_per_user: z.number().int().min(1).max(1000).optional().describe('memories each (20)'),
  ramp_max_sessions: z.number().int().min(1).max(5000).optional(),
  p95_threshold_ms: z.number().int().min(1).max(600_000).optional(),
});
const startOut = z.object({ workflow_id: z.string(), status_url: z.string() });
const statusOut = z.object({
  workflow_id: z.string(),
  status: z.string().describe('RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED or TIMED_OUT'),
  progress: z.unknown().describe('the running scenario and its counts'),
  result: z.unknown().describe('report summary and file paths, once completed'),
  failure: z.string().nullable(),
});
const idParam = z.strictObject({
  id: z.string().regex(/^loadtest-[A-Za-z0-9-]{1,80}$/, 'expected a load-test id (loadtest-…)'),
});

const adminRoute = routeGroup({ tag: 'admin', auth: 'admin' });

/**
 * `/v1/admin/loadtests`: start a load-test run (a Temporal workflow, also
 * visible in the Temporal UI) and follow it, with the admin key.
 */
export function loadTestRoutes(loadTests: LoadTests, selfUrl: () => string | null): RouteSpec[] {
  return [
    adminRoute({
      method: 'post',
      path: '/v1/admin/loadtests',
      summary: 'Start a load test against a loopback API (default: this one)',
      body: startBody,
      responses: { 202: { description: 'started', schema: startOut } },
      async handler({ body }) {
        const target = body.target ?? selfUrl();
        if (!target) throw new AppError('bad_request', 'body.target: required here');
        const { workflowId } = await loadTests.start({
          target,
          ...givenFields({
            sessions: body.sessions,
            durationS: body.duration_s,
            saves: body.saves,
            users: body.users,
            memoriesPerUser: body.memories_per_user,
            rampMaxSessions: body.ramp_max_sessions,
            p95ThresholdMs: body.p95_threshold_ms,
          }),
        });
        return {
          status: 202,
          body: { workflow_id: workflowId, status_url: `/v1/admin/loadtests/${workflowId}` },
        };
      },
    }),
    adminRoute({
      method: 'get',
      path: '/v1/admin/loadtests/:id',
      summary: 'A load test: its progress while it runs, its report summary when done',
      params: idParam,
      responses: { 200: { description: 'the run', schema: statusOut } },
      async handler({ params }) {
        const run = await loadTests.get(params.id);
        if (!run) throw new AppError('not_found', `load test ${params.id} not found`);
        return {
          status: 200,
          body: {
            workflow_id: run.workflowId,
            status: run.status,
            progress: run.progress,
            result: run.result,
            failure: run.failure,
          },
        };
      },
    }),
  ];
}
