import type {
  LoadTestRun,
  MemoryEngineClient,
  StartLoadTestInput,
} from '../../client/src/index.ts';
import type { LoadTestProgress, LoadTestResult } from '../../workflows/index.ts';
import {
  intOption,
  pause,
  stringOption,
  UsageError,
  type Command,
  type CommandContext,
} from '../command.ts';

// The load test over the API (`/v1/admin/loadtests`): the run is a workflow on
// the stack's load-test worker, followed here. `npm run loadtest` remains the
// way to run the generator in a process of its own.

const POLL_MS = 2_000;

/** `60s`, `2m` or a bare number of seconds, in whole seconds. */
function seconds(text: string): number {
  const m = /^(\d+)(s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--duration expects seconds such as 60s or 2m, got ${text}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

function startInput(ctx: CommandContext): StartLoadTestInput {
  const v = ctx.values;
  const duration = stringOption(v, 'duration');
  const given: StartLoadTestInput = {
    target: stringOption(v, 'target'),
    sessions: intOption(v, 'sessions', 1, 1000),
    duration_s: duration === undefined ? undefined : seconds(duration),
    saves: intOption(v, 'saves', 1, 1000),
    users: intOption(v, 'users', 1, 10_000),
    memories_per_user: intOption(v, 'memories', 1, 1000),
    ramp_max_sessions: intOption(v, 'ramp-max', 1, 5000),
    p95_threshold_ms: intOption(v, 'p95-threshold', 1, 600_000),
  };
  // A smoke run: a few users for a few seconds.
  const short = v.short
    ? { sessions: 3, duration_s: 5, saves: 5, users: 3, memories_per_user: 8, ramp_max_sessions: 4 }
    : {};
  const defined = Object.entries(given).filter(([, value]) => value !== undefined);
  return { ...short, ...Object.fromEntries(defined) };
}

function progressLine(p: LoadTestProgress | null): string {
  if (!p) return 'running';
  if (p.phase === 'report') return 'writing the report';
  const live = p.live;
  if (!live) return `${p.phase}: starting`;
  const extra = [
    live.p95Ms === null ? '' : `recent p95 ${live.p95Ms} ms`,
    live.rssMb === null ? '' : `target RSS ${live.rssMb} MB`,
    live.indexed === undefined ? '' : `${live.indexed} indexed`,
  ].filter(Boolean);
  return (
    `${live.scenario}: ${live.sessions} sessions, ${live.requests} requests, ${live.errors} errors` +
    `${extra.length ? `, ${extra.join(', ')}` : ''} (${Math.round(live.elapsedMs / 1000)} s)`
  );
}

function reportLines(run: LoadTestRun): string[] {
  if (run.status !== 'COMPLETED') {
    return [`${run.workflow_id}: ${run.status}${run.failure ? `: ${run.failure}` : ''}`];
  }
  const { report } = run.result as LoadTestResult;
  const h = report.headline;
  const pct = Math.round(h.errorRate * 1000) / 10;
  return [
    `${run.workflow_id}: completed`,
    `chat p95 ${h.chatP95Ms ?? 'n/a'} ms at ${h.chatThroughputPerS} requests/s, error rate ${pct} %`,
    `dominant stage at p95: ${h.dominantStage ?? 'n/a'}; sessions sustained: ${h.sustainedSessions}; peak RSS ${h.rssPeakMb ?? 'n/a'} MB`,
    `first to run out: ${h.firstLimit ? `${h.firstLimit.resource} at ≈${h.firstLimit.users} concurrent users` : 'nothing measured'}`,
    '',
    ...report.successMetrics.map(
      (m) =>
        `${m.pass === null ? '  —  ' : m.pass ? ' PASS' : ' FAIL'}  ${m.metric}: ${m.measured} (target ${m.target})`,
    ),
    '',
    `report: ${report.markdownPath}`,
    `        ${report.jsonPath}`,
  ];
}

/** Polls the run until it ends, showing its progress; Ctrl-C stops following, not the run. */
async function follow(
  client: MemoryEngineClient,
  ctx: CommandContext,
  workflowId: string,
): Promise<LoadTestRun> {
  for (;;) {
    const run = await client.admin.loadTest(workflowId, { signal: ctx.signal });
    if (run.status !== 'RUNNING') {
      ctx.out.done();
      return run;
    }
    ctx.out.progress(progressLine(run.progress as LoadTestProgress | null));
    await pause(POLL_MS, ctx.signal);
  }
}

/** Shows a finished run; resolves to the exit code (1 when it did not complete). */
function showRun(ctx: CommandContext, run: LoadTestRun): number {
  ctx.out.result(run, reportLines);
  return run.status === 'COMPLETED' ? 0 : 1;
}

const start: Command = {
  name: 'loadtest',
  synopsis: '',
  summary: "run a load test on the stack's worker and follow it (admin)",
  options: {
    target: { type: 'string' },
    sessions: { type: 'string' },
    duration: { type: 'string' },
    saves: { type: 'string' },
    users: { type: 'string' },
    memories: { type: 'string' },
    'ramp-max': { type: 'string' },
    'p95-threshold': { type: 'string' },
    short: { type: 'boolean' },
    detach: { type: 'boolean' },
  },
  optionHelp: [
    '--target <url>      the API under test, loopback only (default: the API itself)',
    '--sessions <n>      concurrent chat sessions (100)',
    '--duration <d>      chat scenario length: 60s, 2m (60s)',
    '--saves <n>         parallel memory saves (50)',
    '--users <n>         users seeded (= sessions)',
    '--memories <n>      memories seeded per user (20)',
    '--ramp-max <n>      the peak ramp stops at n sessions (300)',
    '--p95-threshold <ms> the ramp stops when a step’s p95 passes this (1000)',
    '--short             a smoke run: 3 users, 5 s of chat',
    '--detach            start it and print its id; `loadtest status <id>` follows it',
  ],
  async run(ctx) {
    const client = ctx.client('admin');
    const started = await client.admin.startLoadTest(startInput(ctx), { signal: ctx.signal });
    if (ctx.values.detach) {
      ctx.out.result(started, (s) => [`started ${s.workflow_id}`]);
      return;
    }
    ctx.out.note(`started ${started.workflow_id} (Ctrl-C stops following; the run goes on)`);
    return showRun(ctx, await follow(client, ctx, started.workflow_id));
  },
};

const status: Command = {
  name: 'loadtest status',
  synopsis: '<load test id>',
  summary: 'a load test: its progress, or its report summary (admin)',
  options: { follow: { type: 'boolean' } },
  optionHelp: ['--follow            follow it until it ends'],
  async run(ctx) {
    if (ctx.args.length !== 1) throw new UsageError('expected one load test id (loadtest-…)');
    const client = ctx.client('admin');
    const id = ctx.args[0]!;
    const run = ctx.values.follow
      ? await follow(client, ctx, id)
      : await client.admin.loadTest(id, { signal: ctx.signal });
    if (run.status !== 'RUNNING') return showRun(ctx, run);
    ctx.out.result(run, (r) => [
      `${r.workflow_id}: ${progressLine(r.progress as LoadTestProgress | null)}`,
    ]);
  },
};

export const loadTestCommands: Command[] = [start, status];
