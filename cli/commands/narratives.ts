import type { NarrativePriority } from '../../core/ports/narrative-queue.ts';
import type { TemporalNarrativeQueue } from '../../infra/temporal/temporal-narrative-queue.ts';
import type { NarrativeSchedulerStatus } from '../../workflows/index.ts';
import { UsageError, stringOption, type Command, type CommandContext } from '../command.ts';
import { fields } from '../output.ts';
import { answeredWithin, withTemporal } from '../temporal.ts';

// Steers the narrative scheduler of a running stack through Temporal, as
// `npm run narratives` does.

const ANSWER_MS = 20_000;
const PRIORITIES: readonly string[] = ['high', 'normal', 'low'];

async function withQueue<T>(work: (queue: TemporalNarrativeQueue) => Promise<T>): Promise<T> {
  const { createTemporalNarrativeQueue } =
    await import('../../infra/temporal/temporal-narrative-queue.ts');
  return withTemporal(({ client, config }) =>
    work(createTemporalNarrativeQueue(client, config.TASK_QUEUE_NARRATIVES, { coalesceMs: 0 })),
  );
}

function statusLines(s: NarrativeSchedulerStatus): string[] {
  const paused = s.paused
    ? `yes (${s.pauseReason === 'operator' ? `operator: ${s.operatorNote ?? ''}` : 'memory'})`
    : 'no';
  return fields([
    [
      'queue',
      `${s.queueLength} waiting${s.upNext.length ? `; next ${s.upNext.map((r) => `${r.userId} (${r.priority})`).join(', ')}` : ''}`,
    ],
    ['in flight', `${s.inFlight.length} of ${s.maxInFlight}`],
    ['paused', paused],
    ['memory', s.memory ? `${s.memory.usedMb} of ${s.memory.budgetMb} MB` : 'no reading yet'],
    [
      'done',
      `${s.processed} (${s.generated} written, ${s.skipped} already current, ${s.failed} failed)`,
    ],
    ...s.recentFailures
      .slice(0, 3)
      .map((f): [string, string] => ['failure', `${f.at} ${f.userId}: ${f.error}`]),
  ]);
}

function showStatus(ctx: CommandContext, status: NarrativeSchedulerStatus | null): void {
  ctx.out.result(status, (s) => (s ? statusLines(s) : ['the narrative scheduler is not running']));
}

const enqueue: Command = {
  name: 'narratives enqueue',
  synopsis: '<user id>...',
  summary: 'request narratives for users (default priority high)',
  options: { priority: { type: 'string' } },
  optionHelp: ['--priority <p>      high (default), normal or low'],
  async run(ctx) {
    const last = ctx.args[ctx.args.length - 1] ?? '';
    const trailing = PRIORITIES.includes(last);
    const priority = stringOption(ctx.values, 'priority') ?? (trailing ? last : 'high');
    if (!PRIORITIES.includes(priority))
      throw new UsageError('--priority expects high, normal or low');
    const userIds = trailing ? ctx.args.slice(0, -1) : ctx.args;
    if (userIds.length === 0) throw new UsageError('expected at least one user id');
    const workflowId = await withQueue(async (queue) => {
      await queue.enqueue(
        userIds.map((userId) => ({ userId, priority: priority as NarrativePriority })),
      );
      return queue.workflowId;
    });
    ctx.out.result({ requested: userIds, priority, workflow_id: workflowId }, (r) => [
      `requested ${r.requested.length} narrative(s) at ${r.priority} priority on ${r.workflow_id}`,
    ]);
  },
};

const pauseScheduler: Command = {
  name: 'narratives pause',
  synopsis: '[reason]...',
  summary: 'stop starting narrative generations (running ones finish)',
  async run(ctx) {
    const reason = ctx.args.join(' ') || 'paused from the command line';
    ctx.out.progress('asking the scheduler to pause…');
    showStatus(
      ctx,
      await withQueue((q) => answeredWithin(q.pause(reason), ANSWER_MS, 'narratives worker')),
    );
  },
};

const resume: Command = {
  name: 'narratives resume',
  synopsis: '',
  summary: "lift an operator's pause",
  async run(ctx) {
    ctx.out.progress('asking the scheduler to resume…');
    showStatus(
      ctx,
      await withQueue((q) => answeredWithin(q.resume(), ANSWER_MS, 'narratives worker')),
    );
  },
};

const status: Command = {
  name: 'narratives status',
  synopsis: '',
  summary: "the narrative scheduler's queue, work in flight and pause",
  async run(ctx) {
    showStatus(
      ctx,
      await withQueue((q) => answeredWithin(q.status(), ANSWER_MS, 'narratives worker')),
    );
  },
};

export const narrativeCommands: Command[] = [enqueue, pauseScheduler, resume, status];
