// The rate limiter on vs off (`--limiter-compare`, issue #15): the optimized
// pipeline's cheap queries with the limiter on and with RATE_LIMIT_ENABLED=false,
// the p95 difference against its budget, and whether the load itself met the limit.
import { DEFAULT_USER_RATE } from '../../api/rate-limit.ts';
import type { RatePolicy } from '../../core/concurrency/token-bucket.ts';
import { roundTo, summarizeMs, type Json } from '../bench-kit.ts';
import type { ValidationFigures } from '../validation/measure.ts';
import { CACHE_HITS } from './analyze.ts';
import type { Sample } from './drive.ts';
import type { Options } from './options.ts';

/** What the limiter and validation may add at p95 to a cached context query. */
export const LIMITER_BUDGET_MS = 0.3;

export type LimiterFigures = ReturnType<typeof limiterFigures>;
type Latency = { count: number; p50: number | null; p95: number | null };

/** p50 and p95 to 0.01 ms (the budget is 0.3 ms); nulls when there were none. */
function latency(samples: Sample[]): Latency {
  const s = summarizeMs(samples.map((x) => x.ms));
  return s.count > 0 ? { count: s.count, p50: s.p50, p95: s.p95 } : { count: 0, p50: null, p95: null }; // prettier-ignore
}

/** The per-user policy the stack child runs with: the product's, unless this environment overrides it. */
export function userRatePolicy(env = process.env): RatePolicy {
  return {
    perSecond: Number(env.RATE_LIMIT_PER_S ?? DEFAULT_USER_RATE.perSecond),
    burst: Number(env.RATE_LIMIT_BURST ?? DEFAULT_USER_RATE.burst),
  };
}

/**
 * The busiest user's request rate if every answer were instant: a user is
 * held by one chat session at a time (see SessionUsers), so one session's
 * messages (one per think time on average), plus their share of the
 * background saves, which are spread uniformly over all users.
 */
export function busiestUserBound(o: Options, users: number): number {
  return roundTo(1000 / o.thinkMs + o.saveRate / Math.max(1, users), 1);
}

/** One driven run of a pipeline: its samples after the warm-up and how long they took. */
export interface DrivenRun {
  samples: Sample[];
  seconds: number;
}

/** The cheap queries' latency and the per-user load of one run. */
function runFigures({ samples, seconds }: DrivenRun) {
  const perUser = new Map<string, number>();
  const perUserSecond = new Map<string, number>();
  for (const s of samples) {
    if (!s.user) continue;
    perUser.set(s.user, (perUser.get(s.user) ?? 0) + 1);
    const key = `${s.user} ${Math.floor(s.at / 1000)}`;
    perUserSecond.set(key, (perUserSecond.get(key) ?? 0) + 1);
  }
  return {
    cachedComplex: latency(samples.filter(isCachedComplex)),
    simple: latency(samples.filter(isSimple)),
    rateLimited: samples.filter((s) => s.status === 429).length,
    busiestUserPerS: roundTo(Math.max(0, ...perUser.values()) / seconds, 1),
    busiestUserPeakSecond: Math.max(0, ...perUserSecond.values()),
  };
}

const isCachedComplex = (s: Sample) =>
  s.ok && s.kind === 'complex' && CACHE_HITS.includes(s.cachePlan ?? '');
const isSimple = (s: Sample) => s.ok && s.kind === 'simple';

/**
 * One side of the comparison over its runs: the cheap queries' latency over all
 * of them pooled, each run's own figures, the 429s in all and the busiest user.
 */
export function limiterFigures(runs: DrivenRun[]) {
  const all = runs.flatMap((r) => r.samples);
  const perRun = runs.map(runFigures);
  return {
    cachedComplex: latency(all.filter(isCachedComplex)),
    simple: latency(all.filter(isSimple)),
    rateLimited: perRun.reduce((n, r) => n + r.rateLimited, 0),
    busiestUserPerS: Math.max(...perRun.map((r) => r.busiestUserPerS)),
    busiestUserPeakSecond: Math.max(...perRun.map((r) => r.busiestUserPeakSecond)),
    runs: perRun,
  };
}

const delta = (a: number | null, b: number | null) => (a == null || b == null ? null : roundTo(a - b, 2)); // prettier-ignore

/** Limiter on (`on`) against off (`off`): p95 differences against the budget, and the load against the limit. */
export function limiterComparison(run: {
  o: Options;
  users: number;
  on: LimiterFigures;
  off: LimiterFigures;
  validation: ValidationFigures[];
}) {
  const { on, off } = run;
  const checks = (['cachedComplex', 'simple'] as const).map((query) => {
    const p95Delta = delta(on[query].p95, off[query].p95);
    const [first, second] = on.runs.map((r) => r[query].p95);
    return {
      query,
      on: on[query],
      off: off[query],
      p95Delta,
      // How much p95 moves between two runs of the same pipeline: the difference's noise floor.
      p95Spread: first == null || second == null ? null : roundTo(Math.abs(first - second), 2),
      pass: p95Delta == null ? null : p95Delta <= LIMITER_BUDGET_MS,
    };
  });
  return {
    budgetMs: LIMITER_BUDGET_MS,
    policy: userRatePolicy(),
    shared: Boolean(process.env.REDIS_URL),
    busiestUserBoundPerS: busiestUserBound(run.o, run.users),
    rateLimited: { on: on.rateLimited, off: off.rateLimited },
    busiestUserPerS: { on: on.busiestUserPerS, off: off.busiestUserPerS },
    busiestUserPeakSecond: { on: on.busiestUserPeakSecond, off: off.busiestUserPeakSecond },
    checks,
    validation: run.validation,
  };
}

const LABEL = { cachedComplex: 'cached complex (plan-cache hit)', simple: 'simple' };
const ms = (v: number | null) => (v == null ? 'n/a' : `${v}`);

/** The report's "Rate limiter on vs off" section; none unless `--limiter-compare` ran. */
export function limiterSection(report: Json): string[] {
  const l = report.limiter;
  if (!l) return [];
  const out = [
    '## Rate limiter on vs off',
    '',
    `The optimized pipeline driven three times on the same data, each on a fresh stack: with the per-user limiter on ` +
      `(${l.policy.perSecond}/s, burst ${l.policy.burst}, ${l.shared ? 'shared through Redis' : 'in process'}; pipeline \`optimized\`), with \`RATE_LIMIT_ENABLED=false\` ` +
      `(\`optimized-nolimit\`), and on again (\`optimized-again\`); "on" pools the two on runs, so caches warming from run to run favour neither side. Request validation runs in all three (it cannot be switched off). Budget: the limiter and validation add ≤ ${l.budgetMs} ms at p95.`,
    '',
    '| query | n on | p50 on | p95 on | n off | p50 off | p95 off | p95 on − off | p95 spread between the on runs | |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of l.checks) {
    out.push(`| ${LABEL[c.query as keyof typeof LABEL]} | ${c.on.count} | ${ms(c.on.p50)} | ${ms(c.on.p95)} | ${c.off.count} | ${ms(c.off.p50)} | ${ms(c.off.p95)} | ${ms(c.p95Delta)} (≤ ${l.budgetMs}) | ${ms(c.p95Spread)} | ${c.pass == null ? '—' : c.pass ? 'PASS' : 'FAIL'} |`); // prettier-ignore
  }
  out.push('');
  out.push(
    'Latencies in ms, served requests only. A p95 difference smaller than the spread between the two on runs is within run-to-run noise.',
    '',
  );
  const hit = l.rateLimited.on > 0;
  out.push(
    `Load against the limit: the busiest user sent ${l.busiestUserPerS.on} req/s on average (${l.busiestUserPeakSecond.on} in its busiest second) with the limiter on; ` +
      `at most about ${l.busiestUserBoundPerS} req/s on average if every answer were instant (a user is held by one chat session at a time, plus their share of the background saves). ` +
      `429s: ${l.rateLimited.on} with the limiter on, ${l.rateLimited.off} off.` +
      (hit
        ? ' **The benchmark load itself met the limit**: those requests are errors, left out of the latencies above; use a longer --think-ms or a lower --save-rate.'
        : l.busiestUserBoundPerS > l.policy.perSecond
          ? ` None were refused, but the instant-answer bound exceeds ${l.policy.perSecond}/s: a faster stack could meet the limit with this load.`
          : ' The load stays under the limit.'),
    '',
  );
  if (l.validation.length > 0) {
    out.push('Validation alone (`parseInput`, in the benchmark process, `npx tsx bench/validation-bench.ts`):', ''); // prettier-ignore
    out.push('| body | calls | p50 ms | p95 ms | p99 ms |', '|---|---|---|---|---|');
    for (const v of l.validation as ValidationFigures[]) {
      out.push(`| ${v.body} | ${v.calls} | ${v.p50} | ${v.p95} | ${v.p99} |`);
    }
    out.push('');
  }
  return out;
}
