// The MCP benchmark's report: REST and MCP latency side by side, the paired
// differences, by message kind and by call order, and the Markdown summary of it.
import { roundTo, summarizeMs, type Json, type LatencySummary } from '../bench-kit.ts';
import { MESSAGE_MIX, type Pair } from './measure.ts';
import { TARGET_MS } from './options.ts';

type Summary = LatencySummary & { min: number };

const summarize = (values: number[]): Summary => summarizeMs(values, { min: true });

/** What the measured pairs say about the overhead MCP adds. */
export function results(pairs: Pair[]) {
  const rest = summarize(pairs.map((p) => p.rest));
  const mcp = summarize(pairs.map((p) => p.mcp));
  const paired = summarize(pairs.map((p) => p.mcp - p.rest));
  const p95Difference = roundTo(mcp.p95 - rest.p95);
  const byKind: Record<string, Json> = {};
  for (const kind of Object.keys(MESSAGE_MIX)) {
    const ps = pairs.filter((p) => p.kind === kind);
    if (ps.length === 0) continue;
    byKind[kind] = {
      rest: summarize(ps.map((p) => p.rest)),
      mcp: summarize(ps.map((p) => p.mcp)),
      paired: summarize(ps.map((p) => p.mcp - p.rest)),
    };
  }
  const orderOf = (restFirst: boolean) => {
    const ps = pairs.filter((p) => p.restFirst === restFirst);
    return { rest: summarize(ps.map((p) => p.rest)), mcp: summarize(ps.map((p) => p.mcp)) };
  };
  return {
    rest,
    mcp,
    paired,
    p95Difference,
    pass: p95Difference <= TARGET_MS,
    byKind,
    order: { restFirst: orderOf(true), mcpFirst: orderOf(false) },
    agreement: { pairs: pairs.length, same: pairs.filter((p) => p.same).length },
  };
}

export function markdown(report: Json): string {
  const m = report.meta;
  const r = report.results;
  const out: string[] = [];
  out.push(`# MCP get_context vs POST /v1/context — ${m.startedAt}`, '');
  out.push(`Command: \`${m.command}\``, '');
  out.push(
    `Machine: ${m.machine.cpus} × ${m.machine.cpuModel}, ${m.machine.memGb} GB, ${m.machine.platform}, Node ${m.machine.node}. ` +
      `Stack child pinned to core 0 (bench client on core 1): ${m.pinned ? 'yes' : 'no'}.`,
    '',
  );
  out.push(
    `Setup: one user, ${report.corpus.memories} memories saved in one batch (${report.corpus.indexed} indexed, ${report.corpus.failed} failed, ` +
      `in ${report.corpus.indexSeconds} s); no model (local heuristic planner and hashing embedder); ` +
      `${report.corpus.messages} messages (${JSON.stringify(report.corpus.byKind)}); 1 warm-up round + ${m.options.rounds} measured rounds; ` +
      `each message once over REST and once over MCP per round, sequentially, alternating which goes first; ` +
      `one MCP session (SDK Client + StreamableHTTPClientTransport); per-user rate limiter off; client-side wall time, one request a call.`,
    '',
  );
  out.push('## Result', '');
  out.push('| check | target | measured | |', '|---|---|---|---|');
  out.push(
    `| MCP adds at p95: p95(MCP) − p95(REST) | ≤ ${TARGET_MS} ms | ${r.p95Difference} ms | ${r.pass ? 'PASS' : 'FAIL'} |`,
  );
  out.push(
    `| p95 of paired differences (MCP − REST, same message, same round) | (shown) | ${r.paired.p95} ms | — |`,
    '',
  );
  out.push(
    '| path | n | min | p50 | p95 | p99 | mean | max |',
    '|---|---|---|---|---|---|---|---|',
  );
  const row = (label: string, s: Summary) =>
    out.push(`| ${label} | ${s.count} | ${s.min} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.mean} | ${s.max} |`); // prettier-ignore
  row('REST POST /v1/context', r.rest);
  row('MCP get_context', r.mcp);
  row('paired difference MCP − REST', r.paired);
  out.push('');
  out.push('### By message kind', '');
  out.push('| kind | REST p50 | REST p95 | MCP p50 | MCP p95 | diff p50 | diff p95 |');
  out.push('|---|---|---|---|---|---|---|');
  for (const [kind, k] of Object.entries(r.byKind as Record<string, Json>)) {
    out.push(`| ${kind} | ${k.rest.p50} | ${k.rest.p95} | ${k.mcp.p50} | ${k.mcp.p95} | ${k.paired.p50} | ${k.paired.p95} |`); // prettier-ignore
  }
  out.push('');
  out.push('### Order effect (first vs second call of a pair)', '');
  out.push(
    `REST first: REST p50 ${r.order.restFirst.rest.p50} ms, MCP p50 ${r.order.restFirst.mcp.p50} ms. ` +
      `MCP first: MCP p50 ${r.order.mcpFirst.mcp.p50} ms, REST p50 ${r.order.mcpFirst.rest.p50} ms.`,
    '',
  );
  out.push(
    `Memories returned agree between the two paths in ${r.agreement.same}/${r.agreement.pairs} pairs.`,
    '',
  );
  return out.join('\n') + '\n';
}
