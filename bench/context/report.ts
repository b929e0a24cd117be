// The context benchmark's report: its JSON (what ran on what, the corpus, the floor,
// each pipeline's figures), the checks against the targets, and the Markdown summary.
import { LOOP_DELAY_FLAG_MS, machineInfo, type Json } from '../bench-kit.ts';
import type { ValidationFigures } from '../validation/measure.ts';
import type { Analysis } from './analyze.ts';
import { limiterComparison, limiterSection, type LimiterFigures } from './limiter.ts';
import { scaleOutSection } from './report-scale-out.ts';
import { MIX, PLAN_LATENCY, REPEAT_SHARE, ZIPF_S, type Options } from './options.ts';
import {
  layoutLines,
  targetChecks,
  targetsSection,
  TREE_RSS_TARGET_MB,
  type Check,
} from './report-targets.ts';

type Measured = Analysis & { peakRssMb: number; tree: { totalMb: number } };

const fmt = (v: number | null | undefined, unit = ' ms') => (v == null ? 'n/a' : `${v}${unit}`);

/** How the driver gives chat sessions their users, as the report states it. */
export const SESSION_RULE =
  'A chat session speaks for one user at a time, as a person does: it takes a user when it starts and again whenever it opens a new conversation, ' +
  "drawn by that activity among the users no other session holds, so no user sends more than one session's messages.";

export function buildReport(run: {
  o: Options;
  startedAt: Date;
  pinned: boolean;
  /** The layout in words (describeLayout). */
  layout: string;
  seeded: { users: unknown[] } & Json;
  narratives: Json;
  background: Json;
  floor: Json | undefined;
  pipelines: Record<string, Json>;
  /** The limiter on and off, and `parseInput` alone: measured with `--limiter-compare`. */
  limiter?: { on: LimiterFigures; off: LimiterFigures } | undefined;
  validation?: ValidationFigures[] | undefined;
  /** 1 vs 2 API processes: measured with `--scale-out`. */
  scaleOut?: Json | undefined;
}) {
  const { seeded, pipelines, limiter } = run;
  const measured = (['optimized', 'naive'] as const).find((n) => pipelines[n]);
  const seeding = { ...seeded, users: seeded.users.length };
  return {
    meta: {
      startedAt: run.startedAt.toISOString(),
      command: `npx tsx bench/context-bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
      options: run.o,
      pinned: run.pinned,
      layout: run.layout,
      machine: machineInfo(),
      planLatency: PLAN_LATENCY,
      mix: MIX,
      repeatShare: REPEAT_SHARE,
      zipfS: ZIPF_S,
    },
    seeding,
    narratives: run.narratives,
    background: run.background,
    floor: run.floor,
    pipelines,
    ...(measured
      ? { targets: { pipeline: measured, checks: targetChecks(pipelines[measured]!, seeding) } }
      : {}),
    comparisons: comparisons(
      pipelines.optimized as Measured | undefined,
      pipelines.naive as Measured | undefined,
    ),
    ...(run.scaleOut ? { scaleOut: run.scaleOut } : {}),
    ...(limiter
      ? { limiter: limiterComparison({ o: run.o, users: seeded.users.length, ...limiter, validation: run.validation ?? [] }) } // prettier-ignore
      : {}),
  };
}

/** The targets of the optimisation plan, checked against what was measured. */
function comparisons(optimized: Measured | undefined, naive: Measured | undefined): Check[] {
  return [
    ...(optimized && naive ? naiveChecks(optimized, naive) : []),
    ...(optimized ? optimizedChecks(optimized) : []),
    ...(
      [
        ['optimized', optimized],
        ['naive', naive],
      ] as const
    ).flatMap(([name, a]) =>
      a
        ? [
            {
              check: `peak RSS of the product's process tree (${name})`,
              target: `≤ ${TREE_RSS_TARGET_MB} MB`,
              measured: `${a.tree.totalMb} MB (main process ${a.peakRssMb} MB)`,
              pass: a.tree.totalMb <= TREE_RSS_TARGET_MB,
            },
          ]
        : [],
    ),
  ];
}

function naiveChecks(optimized: Measured, naive: Measured): Check[] {
  const factor =
    optimized.overall.mean && naive.overall.mean ? naive.overall.mean / optimized.overall.mean : null; // prettier-ignore
  const o = optimized.overall.modelCallsPerMessage;
  const n = naive.overall.modelCallsPerMessage;
  const reduction = o != null && n ? 1 - o / n : null;
  return [
    {
      check: 'optimized mean vs naive mean',
      target: '≥ 10× lower',
      measured: `${fmt(optimized.overall.mean)} vs ${fmt(naive.overall.mean)} (${factor ? factor.toFixed(1) : 'n/a'}× lower)`,
      pass: factor == null ? null : factor >= 10,
    },
    {
      check: 'model calls per message',
      target: '≥ 70 % fewer',
      measured: `${o} vs ${n} (${reduction == null ? 'n/a' : Math.round(reduction * 100) + ' % fewer'})`,
      pass: reduction == null ? null : reduction >= 0.7,
    },
  ];
}

function optimizedChecks(optimized: Measured): Check[] {
  const simple = optimized.classes.simple!.p95;
  const cached = optimized.cachedComplex.p95;
  const uncached = optimized.uncachedComplex.p95;
  const limit = PLAN_LATENCY.p95Ms + 100;
  return [
    {
      check: 'simple p95 (optimized)',
      target: '≤ 50 ms',
      measured: fmt(simple),
      pass: simple == null ? null : simple <= 50,
    },
    {
      check: 'cached complex p95 (optimized, cache.plan hit)',
      target: '≤ 50 ms',
      measured: `${fmt(cached)} (n=${optimized.cachedComplex.count})`,
      pass: cached == null ? null : cached <= 50,
    },
    {
      check: 'uncached complex p95 (optimized)',
      target: `≤ model latency + 100 ms = ${limit} ms (emulated p95 ${PLAN_LATENCY.p95Ms} ms)`,
      measured: `${fmt(uncached)} (n=${optimized.uncachedComplex.count})`,
      pass: uncached == null ? null : uncached <= limit,
    },
  ];
}

export function markdown(report: Json): string {
  return (
    [
      ...header(report),
      ...corpus(report),
      ...targetsSection(report),
      ...scaleOutSection(report),
      ...comparisonTable(report),
      ...floorSection(report),
      ...pipelineSection(report, 'optimized'),
      ...pipelineSection(report, 'naive'),
      ...limiterSection(report),
    ].join('\n') + '\n'
  );
}

function header(report: Json): string[] {
  const m = report.meta;
  return [
    `# /v1/context benchmark — ${m.startedAt}`,
    '',
    `Command: \`${m.command}\``,
    '',
    `Machine: ${m.machine.cpus} × ${m.machine.cpuModel}, ${m.machine.memGb} GB, ${m.machine.platform}, Node ${m.machine.node}.`,
    '',
    m.layout,
    '',
    `Load${m.options.scaleOut ? ' (of the scale-out steps: open loop, see below; sessions and duration unused)' : ''}: ${m.options.sessions} sessions, think time ${m.options.thinkMs} ms (×0.5–1.5), ${m.options.durationS} s per pipeline after ${m.options.warmupS} s of warm-up; ` +
      `${m.options.saveShare * 100} % of messages save a short fact (\`POST /v1/memories\`), the rest ` +
      `mix ${MIX.simple * 100} % simple / ${MIX.complex * 100} % complex / ${MIX.new_conversation * 100} % new conversation, ` +
      `${REPEAT_SHARE * 100} % repeats of a user's recent questions, Zipf(s=${ZIPF_S}) user activity. ` +
      `${SESSION_RULE} ` +
      `Emulated planning latency median ${PLAN_LATENCY.medianMs} ms, p95 ${PLAN_LATENCY.p95Ms} ms; embedding latency ${m.options.embedMs} ms.`,
    '',
    `The Gemini emulator${m.options.model === 'none' ? ' (started, but not given to the product: `--model none`)' : ''} and the sampler of the product's process tree (/proc every 500 ms) run as processes of their own, so this load generator only sends requests and records timings; its own event-loop delay is measured in every run and flagged above ${LOOP_DELAY_FLAG_MS} ms at p99.`, // prettier-ignore
    '',
  ];
}

function corpus(report: Json): string[] {
  const m = report.meta;
  const s = report.seeding;
  return [
    '## Corpus',
    '',
    `${s.users} users × ≤${m.options.memories} memories = **${s.submitted} memories** (requested ${m.options.users} users${s.stoppedEarly ? `; stopped early to fit the ${m.options.seedBudgetS} s seeding budget` : ''}). ` +
      `Saved in ${s.saveSeconds} s, indexed ${s.indexed} (${s.failed} failed) in ${s.seconds} s: **indexed at ${s.indexedPerSecond} memories/s end to end** (target ≥ 200/s) ` +
      `(model latency during seeding: ${m.options.seedWithLatency ? 'real' : 'none'}).`,
    '',
    report.narratives.drained
      ? `The portraits the seeding left stale were regenerated before measuring (narrative queue drained in ${report.narratives.seconds} s).`
      : `The narrative queue was not drained within ${m.options.narrativeBudgetS} s (${report.narratives.remaining ?? 'unknown'} users still queued): their generation ran during the measurement.`,
    '',
  ];
}

function comparisonTable(report: Json): string[] {
  if ((report.comparisons as Check[]).length === 0) return [];
  const out = ['## Comparison', '', '| check | target | measured | |', '|---|---|---|---|'];
  for (const c of report.comparisons as Check[]) {
    out.push(`| ${c.check} | ${c.target} | ${c.measured} | ${c.pass == null ? '—' : c.pass ? 'PASS' : 'FAIL'} |`); // prettier-ignore
  }
  out.push('');
  return out;
}

function floorSection(report: Json): string[] {
  const f = report.floor;
  if (!f) return [];
  return [
    '## Floor: GET /healthz under the same concurrency',
    '',
    `n=${f.count}, p50 ${f.p50} ms, p95 ${f.p95} ms, p99 ${f.p99} ms, mean ${f.mean} ms, ${f.throughput} req/s, ${f.errors} errors`,
    '',
  ];
}

function pipelineSection(report: Json, name: string): string[] {
  const a = report.pipelines[name];
  if (!a) return [];
  const out = [`## ${name}`, ''];
  out.push(`Switches: ${JSON.stringify(a.switches)}. ${a.warmupMessages} warm-up messages not counted. Peak RSS of the main product process ${a.peakRssMb} MB (VmHWM ${a.vmHwmMb} MB).`, ''); // prettier-ignore
  out.push('| class | n | p50 | p95 | p99 | mean | req/s | model calls/msg | errors | served as |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  const row = (label: string, r: Json) =>
    out.push(`| ${label} | ${r.count} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.mean} | ${r.throughput} | ${r.modelCallsPerMessage} | ${r.errors} | ${r.servedAs ? JSON.stringify(r.servedAs) : ''} |`); // prettier-ignore
  row('all', a.overall);
  for (const [kind, r] of Object.entries(a.classes)) row(kind, r as Json);
  out.push('');
  out.push(`Plan sources: ${JSON.stringify(a.overall.planSources)}. Errors: ${JSON.stringify(a.overall.errorKinds)}.`); // prettier-ignore
  if (a.overall.planFallbacks) out.push(`Heuristic plans by why the model did not plan (\`plan.fallback\`): ${JSON.stringify(a.overall.planFallbacks)}.`); // prettier-ignore
  out.push(...repeatLines(a.complexRepeats));
  out.push(
    `Plan cache: hit rate ${a.cache.plan.hitRate ?? 'n/a'} of ${a.cache.plan.consulted} consulted, per tier ${JSON.stringify(a.cache.plan.tierRates)}, counts ${JSON.stringify(a.cache.plan.counts)}. ` +
      `Search cache: hit rate ${a.cache.search.hitRate ?? 'n/a'} of ${a.cache.search.consulted}, per tier ${JSON.stringify(a.cache.search.tierRates)}, counts ${JSON.stringify(a.cache.search.counts)}.`,
  );
  out.push(
    `Complex with a cached plan: ${JSON.stringify(a.cachedComplex)}; without: ${JSON.stringify(a.uncachedComplex)}; ` +
      `without and with a model call: ${JSON.stringify(a.uncachedComplexWithModelCall)}.`,
  );
  out.push(...serverTimeLines(a.serverTime));
  out.push(...layoutLines(a));
  out.push(`Emulator generateContent calls during the run: ${a.emulator.generateContent.calls} (peak in flight ${a.emulator.generateContent.peakInFlight}).`, ''); // prettier-ignore
  if (a.treeSampler) out.push(`Tree sampler (its own process): ${a.treeSampler.samples} samples of the product's tree, ${a.treeSampler.meanMs} ms of synchronous /proc reads each on average, ${a.treeSampler.maxMs} ms at most, none of it on the load generator's event loop.`, ''); // prettier-ignore
  return out;
}

/** Repeated complex messages against the plan cache (absent from reports before they were counted). */
function repeatLines(r: Json | undefined): string[] {
  if (!r) return [];
  const rate = (v: number | null) => (v == null ? 'n/a' : `${Math.round(v * 1000) / 10} %`);
  return [
    `Repeated complex messages: ${r.count}, ${r.fromCache} served from the plan cache (${rate(r.hitRate)}); ` +
      `of the ${r.afterModel} whose first occurrence got a model plan, ${r.afterModelFromCache} (${rate(r.afterModelHitRate)}); ` +
      `of the ${r.afterHeuristic ?? 0} whose first occurrence was planned heuristically, ${r.afterHeuristicFromCache ?? 0} (planned by the model since, in the background or for another occurrence). ` +
      `First occurrences got ${JSON.stringify(r.firstSources)}; the repeats that missed were served as ${JSON.stringify(r.missedServedAs)}.`,
  ];
}

/** The product's own stage timings against what the client waited (absent from earlier reports). */
function serverTimeLines(t: Json | undefined): string[] {
  if (!t) return [];
  const stages = ['classify', 'plan', 'retrieve', 'assemble', 'total', 'outside'];
  const cell = (f: Json) => `${f?.p50 ?? '–'} / ${f?.p95 ?? '–'}`;
  return [
    '',
    'Where the time went, p50 / p95 in ms: the stages the product timed in each answer (`timings`), and `outside` them (the client\'s wait less the product\'s total: queueing on the event loop, HTTP, authentication, the client\'s own queueing).', // prettier-ignore
    '',
    `| class | n | ${stages.join(' | ')} |`,
    `|---|---|${stages.map(() => '---').join('|')}|`,
    ...Object.entries(t).map(([kind, f]) => `| ${kind} | ${(f as Json).count} | ${stages.map((s) => cell((f as Json)[s])).join(' | ')} |`), // prettier-ignore
    '',
  ];
}
