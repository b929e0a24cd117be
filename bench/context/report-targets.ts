// Issue #19's targets for the layout users run, checked against a measured
// pipeline, and the report's lines on what the product's whole process tree
// used, the saves (in the mix and in the background) and what saturated.
import { LOOP_DELAY_FLAG_MS, type Json } from '../bench-kit.ts';
import { saturationLines } from './saturation.ts';

export type Check = { check: string; target: string; measured: string; pass: boolean | null };

/** The total the product's process tree may reach, MB (1.5 GB). */
export const TREE_RSS_TARGET_MB = 1536;
/** Memories per second the seeding must be indexed at, end to end. */
export const SEED_RATE_TARGET = 200;

const fmt = (v: number | null | undefined, unit = ' ms') => (v == null ? 'n/a' : `${v}${unit}`);
const atMost = (v: number | null | undefined, limit: number) => (v == null ? null : v <= limit);

/** simple, cached complex, new conversation and saves p95 ≤ 50 ms, no errors, ≤ 1.5 GB, seeding ≥ 200/s. */
export function targetChecks(a: Json, seeding: Json): Check[] {
  const p95 = (label: string, r: Json) => ({
    check: `${label} p95`,
    target: '≤ 50 ms',
    measured: `${fmt(r.p95)} (n=${r.count})`,
    pass: atMost(r.p95, 50),
  });
  const errors = a.overall.errors + (a.classes.save?.errors ?? 0) + (a.backgroundSaves?.errors ?? 0); // prettier-ignore
  const checks: Check[] = [
    p95('simple', a.classes.simple),
    p95('cached complex (cache.plan hit)', a.cachedComplex),
    p95('new conversation', a.classes.new_conversation),
    p95('saves acknowledged (in the mix)', a.classes.save),
    ...(a.backgroundSaves ? [p95(`background saves (${a.backgroundSaves.rate}/s)`, a.backgroundSaves)] : []), // prettier-ignore
    { check: 'errors (all requests, 429s included)', target: '0', measured: String(errors), pass: errors === 0 }, // prettier-ignore
    {
      // Summed PSS is the tree's resident memory with each shared page counted once; summed RSS
      // counts PostgreSQL's shared buffers once per backend (30 of them), so it is shown beside.
      check: "peak resident memory of the product's whole process tree (summed PSS)",
      target: `≤ ${TREE_RSS_TARGET_MB} MB`,
      measured: `${a.tree.pssMb} MB summed PSS (${a.tree.totalMb} MB summed RSS); by kind at the RSS peak: ${Object.entries(a.tree.byKind as Record<string, Json>).map(([k, v]) => `${k} ${v.atPeakMb}`).join(', ')}`, // prettier-ignore
      pass: a.tree.pssMb <= TREE_RSS_TARGET_MB,
    },
    {
      check: 'seeding: indexed end to end',
      target: `≥ ${SEED_RATE_TARGET} memories/s`,
      measured: `${seeding.indexedPerSecond}/s (${seeding.indexed} in ${seeding.seconds} s)`,
      pass: seeding.indexedPerSecond >= SEED_RATE_TARGET,
    },
  ];
  const loop = a.saturation?.benchLoop as Json | undefined;
  if (loop) {
    checks.push({
      check:
        "the load generator's own event-loop delay p99 (else the figures include client-side queueing)",
      target: `≤ ${LOOP_DELAY_FLAG_MS} ms`,
      measured: `${loop.p99Ms} ms (p50 ${loop.p50Ms} ms, max ${loop.maxMs} ms)`,
      pass: !loop.flagged,
    });
  }
  const s = a.saves as Json | undefined;
  if (s && s.acknowledged > 0) {
    checks.push({
      check: `acknowledged saves exist exactly once and are indexed within ${s.waitS} s of the run's end`,
      target: 'all',
      measured: `${s.exactlyOnce}/${s.acknowledged} exactly once (${s.missing} missing, ${s.doubled} doubled), ${s.indexed} indexed, ${s.failed} failed${s.allIndexedAfterS != null ? `, all after ${s.allIndexedAfterS} s` : ''}`, // prettier-ignore
      pass: s.exactlyOnce === s.acknowledged && s.indexed === s.acknowledged,
    });
  }
  return checks;
}

/** The targets table, for the first pipeline measured with the optimisations on. */
export function targetsSection(report: Json): string[] {
  const t = report.targets as { pipeline: string; checks: Check[] } | undefined;
  if (!t) return [];
  const store = report.meta.options.store as string;
  return [
    `## Targets (issue #19), pipeline \`${t.pipeline}\``,
    '',
    store === 'default'
      ? 'Measured in the layout the targets are set for: `--store default`, what `npm start` runs.'
      : `The targets are set for \`--store default\` (what \`npm start\` runs); this run measured \`--store ${store}\`.`,
    '',
    '| target | limit | measured | |',
    '|---|---|---|---|',
    ...t.checks.map(
      (c) =>
        `| ${c.check} | ${c.target} | ${c.measured} | ${c.pass == null ? '—' : c.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
  ];
}

/** A pipeline's lines on its process tree, its saves and its saturation. */
export function layoutLines(a: Json): string[] {
  const out: string[] = [];
  if (a.tree) {
    out.push(
      `Peak RSS of the product's process tree (sampled every 500 ms from /proc): **${a.tree.totalMb} MB** summed RSS, ${a.tree.pssMb} MB summed PSS (shared pages such as PostgreSQL's shared buffers counted once); by kind (at the total's peak / own peak, MB): ` +
        `${Object.entries(a.tree.byKind as Record<string, Json>).map(([k, v]) => `${k} ${v.atPeakMb}/${v.peakMb}`).join(', ')}; processes at most ${JSON.stringify(a.tree.processes)}.`, // prettier-ignore
      '',
    );
  }
  const b = a.backgroundSaves;
  if (b) {
    out.push(`Background saves, ${b.rate}/s open loop spread uniformly over the users: n=${b.count}, p50 ${b.p50} ms, p95 ${b.p95} ms, p99 ${b.p99} ms, ${b.throughput}/s acknowledged, ${b.errors} errors.`, ''); // prettier-ignore
  }
  const s = a.saves;
  if (s && s.acknowledged > 0) {
    out.push(
      `Acknowledged saves after the run: ${s.exactlyOnce}/${s.acknowledged} exist exactly once (${s.missing} missing, ${s.doubled} doubled); ` +
        `${s.indexed} indexed within ${s.waitS} s of the run's end${s.allIndexedAfterS != null ? ` (all after ${s.allIndexedAfterS} s)` : ''}, ${s.failed} failed; by source ${JSON.stringify(s.bySource)}.`,
      '',
    );
  }
  out.push(...saturationLines(a.saturation, a.saturationVerdict));
  return out;
}
