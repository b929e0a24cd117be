// The report's `--scale-out` section: throughput at the p95 target with 1 and 2
// pinned API processes, indexing with 1 and 2 workers, and the saves' check.
import { LOOP_DELAY_FLAG_MS, type Json } from '../bench-kit.ts';
import { SCALE_WARMUP_S } from './scale-out.ts';
import { saturationLines } from './saturation.ts';

/** Throughput at the target of 2 API processes over 1. */
export const SCALE_RATIO_TARGET = 1.7;

export function scaleOutSection(report: Json): string[] {
  const s = report.scaleOut;
  if (!s) return [];
  const o = report.meta.options;
  const out = [
    '## Scale-out: 1 vs 2 API processes',
    '',
    `Each run restarts the product on the seeded data with PROCESSES=api,worker, API_PROCESSES=WORKER_PROCESSES=n and the per-user rate limiter off ` +
      `(RATE_LIMIT_ENABLED=false: the load draws users uniformly and would otherwise measure the limit, not the capacity). After start, each API process ` +
      `(a Node cluster worker in the product's tree) is pinned to its own core with \`taskset -apc <core> <pid>\`; the main process, the worker processes, ` +
      `${o.store === 'postgres' ? "the bench's PostgreSQL and Temporal (on core 1) and this load generator (core 1)" : "the product's PostgreSQL and Temporal and this load generator"} ` +
      `are not pinned to their own cores and share them. Offered load: open loop, starting at ${o.startRate} messages/s (after ${Math.max(o.warmupS, SCALE_WARMUP_S)} s of warm-up at that rate, not counted), ×1.25 every ${o.stepS} s, ` +
      `the usual mix (${o.saveShare * 100} % saves); a step passes while the p95 over ${s.over} is ≤ ${s.targetMs} ms, errors ≤ 1 % and it serves ≥ 90 % of what it offers; a rate that fails is measured once more (marked "again") and fails only if both do. ` +
      `Throughput at the target: the messages/s served by the busiest passing step. Indexing is timed before the steps, with the emulated model answering ${o.seedWithLatency ? 'at its usual latency' : 'at once (as in seeding; entity extraction would otherwise bound it by the model latency)'}.`,
    '',
    '| API processes | pinned | msgs/s at p95 ≤ 50 ms | first failing step | indexing (workers) | saves exactly once / indexed | peak RSS tree |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of s.runs as Json[]) {
    const f = r.firstFailing;
    out.push(
      `| ${r.apiProcesses} | ${r.pinned.map((p: Json) => `${p.pid}→${p.core}`).join(', ')} | ${r.atTarget ?? 'none'} | ` +
        `${f ? `offered ${f.offered}/s: served ${f.served}/s, p95 ${f.p95} ms, ${f.errors} errors` : 'none'} | ` +
        `${r.indexing.memories} in ${r.indexing.seconds} s = ${r.indexing.perSecond}/s (${r.workers}) | ` +
        `${r.saves.exactlyOnce}/${r.saves.acknowledged} / ${r.saves.indexed} (${r.saves.missing} missing, ${r.saves.doubled} doubled) | ${r.tree.totalMb} MB |`,
    );
  }
  const pass = (v: number | null) => (v == null ? '—' : v >= SCALE_RATIO_TARGET ? 'PASS' : 'FAIL');
  out.push(
    '',
    `Throughput ratio 2 vs 1 API processes: **${s.throughputRatio ?? 'n/a'}×** (target ≥ ${SCALE_RATIO_TARGET}×: ${pass(s.throughputRatio)}). ` +
      `Indexing ratio 2 vs 1 workers: ${s.indexingRatio ?? 'n/a'}×.`,
    '',
  );
  const noisy = (s.runs as Json[]).flatMap((r) => r.steps as Json[]).filter((st) => st.saturation.foreignCpuPct >= 20); // prettier-ignore
  if (noisy.length > 0) {
    out.push(
      `**Noisy machine**: in ${noisy.length} step(s) processes outside the product and this benchmark used ≥ 20 % of a core (up to ${Math.max(...noisy.map((st) => st.saturation.foreignCpuPct))} %), so those steps measured the machine's other work too; compare runs made on an otherwise idle machine.`, // prettier-ignore
      '',
    );
  }
  const clientBound = (s.runs as Json[]).flatMap((r) => r.steps as Json[]).filter((st) => st.saturation.benchLoop.flagged); // prettier-ignore
  out.push(
    clientBound.length > 0
      ? `**Client side was a bottleneck** in ${clientBound.length} step(s) (marked ⚠): the load generator's own event-loop delay passed ${LOOP_DELAY_FLAG_MS} ms at p99 (up to ${Math.max(...clientBound.map((st) => st.saturation.benchLoop.p99Ms))} ms), so those steps' latencies include queueing in the client.` // prettier-ignore
      : `The load generator's own event-loop delay stayed at or under ${LOOP_DELAY_FLAG_MS} ms at p99 in every step (at most ${Math.max(0, ...(s.runs as Json[]).flatMap((r) => r.steps as Json[]).map((st) => st.saturation.benchLoop.p99Ms))} ms): the client side was not the bottleneck.`, // prettier-ignore
    '',
  );
  if ((s.runs as Json[]).some((r) => r.pinned.length < r.apiProcesses)) {
    out.push(
      '**Fewer API processes were found than asked for**: this product version does not run PROCESSES=api,worker as separate processes yet, so the runs are not a scale-out.',
      '',
    );
  }
  for (const r of s.runs as Json[]) {
    out.push(`### ${r.apiProcesses} API process(es): steps`, '', '| offered/s | served/s | p95 target classes | p95 all | errors | busiest process | machine CPU | other processes\' CPU | load generator CPU / loop delay p99 |', '|---|---|---|---|---|---|---|---|---|'); // prettier-ignore
    for (const st of r.steps as Json[]) {
      const top = st.saturation.processes[0];
      const loop = st.saturation.benchLoop;
      out.push(`| ${st.offered}${st.retry ? ' (again)' : ''} | ${st.served} | ${st.p95} | ${st.allP95} | ${st.errors} | ${top ? `${top.kind} ${top.cpuPct} %` : ''} | ${st.saturation.machineCpuPct} % | ${st.saturation.foreignCpuPct} % | ${st.saturation.benchCpuPct} % / ${loop.p99Ms} ms${loop.flagged ? ' ⚠' : ''} |`); // prettier-ignore
    }
    out.push('');
    if (r.firstFailing) out.push(...saturationLines(r.firstFailing.saturation, r.firstFailing.verdict)); // prettier-ignore
  }
  return out;
}
