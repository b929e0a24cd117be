import type { ChatMeasurement, HistogramData, LatencySummary, LoadReport } from './types.ts';

const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
const pct = (v: number | null) => (v === null ? 'n/a' : `${Math.round(v * 1000) / 10} %`);

function latencyRow(label: string, l: LatencySummary, extra = ''): string {
  return `| ${label} | ${l.count} | ${ms(l.p50)} | ${ms(l.p95)} | ${ms(l.p99)} | ${ms(l.mean)} | ${ms(l.max)} |${extra}`;
}

function histogramLines(h: HistogramData): string[] {
  const total = h.counts.reduce((s, c) => s + c, 0) || 1;
  return h.counts
    .map((count, i) => {
      const label = i < h.boundsMs.length ? `≤ ${h.boundsMs[i]} ms` : `> ${h.boundsMs.at(-1)} ms`;
      const bar = '█'.repeat(Math.round((count / total) * 40));
      return `${label.padEnd(12)} ${String(count).padStart(6)} ${bar}`;
    })
    .filter((_, i) => h.counts[i]! > 0 || i === 0);
}

function chatSection(c: ChatMeasurement): string[] {
  const out = [
    `${c.sessions} sessions as ${c.users} users for ${Math.round(c.durationMs / 100) / 10} s: ${c.requests} requests, ${c.errors} errors${c.errors ? ` ${JSON.stringify(c.errorKinds)}` : ''}, ${c.modelCalls} model calls.`,
    '',
    '| messages | n | p50 | p95 | p99 | mean | max |',
    '|---|---|---|---|---|---|---|',
    latencyRow('all', c.latency),
  ];
  for (const [kind, l] of Object.entries(c.byKind)) out.push(latencyRow(kind, l));
  out.push(
    '',
    `Plan sources ${JSON.stringify(c.planSources)}; plan cache tiers ${JSON.stringify(c.cache.plan)}; search cache tiers ${JSON.stringify(c.cache.search)}.`,
    '',
    '```',
    ...histogramLines(c.histogram),
    '```',
  );
  return out;
}

function usage(label: string, t: LoadReport['scenarios']['chat']['target']): string {
  return `${label}: RSS ${t.rssStartMb ?? 'n/a'} → peak ${t.rssPeakMb ?? 'n/a'} → ${t.rssEndMb ?? 'n/a'} MB of ${t.budgetMb ?? 'n/a'} MB; CPU ${t.cpuSeconds ?? 'n/a'} s`;
}

/** The report as Markdown: headline, success metrics, bottleneck, scenarios, capacity, recommendations. */
export function renderMarkdown(r: LoadReport): string {
  const h = r.headline;
  const out: string[] = [
    `# Load test ${r.meta.workflowId}`,
    '',
    `Target ${r.meta.target}, ${r.meta.startedAt} → ${r.meta.finishedAt}. Settings: \`${JSON.stringify(r.meta.settings)}\`.`,
    '',
    '## Headline',
    '',
    `- chat p95 **${ms(h.chatP95Ms)}**, ${h.chatThroughputPerS} requests/s, error rate ${pct(h.errorRate)}`,
    `- dominant stage at p95: **${h.dominantStage ?? 'n/a'}**`,
    `- concurrent sessions sustained: **${h.sustainedSessions}**`,
    `- first resource to run out: **${h.firstLimit ? `${h.firstLimit.resource} at ≈${h.firstLimit.users} concurrent users` : 'none measured'}**`,
    `- peak RSS of the target: ${h.rssPeakMb ?? 'n/a'} MB`,
    '',
    '## Success metrics',
    '',
    '| metric | target | measured | |',
    '|---|---|---|---|',
    ...r.successMetrics.map(
      (s) =>
        `| ${s.metric} | ${s.target} | ${s.measured} | ${s.pass === null ? '—' : s.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
    '## Bottleneck',
    '',
    r.bottleneck.explanation,
    '',
    '| stage | mean | mean in the p95 tail | share of the tail |',
    '|---|---|---|---|',
    ...r.bottleneck.stages.map(
      (s) => `| ${s.stage} | ${s.meanMs} ms | ${s.tailMeanMs} ms | ${pct(s.tailShare)} |`,
    ),
    '',
    '`queue` is time outside the handler (HTTP, middleware, a busy event loop); `other` is handler time no stage names.',
    '',
    '## Scenarios',
    '',
    `Prepared ${r.meta.settings.users ?? '?'} users × ${r.scenarios.prepare.memoriesPerUser} memories: ${r.scenarios.prepare.memoriesCreated} stored, ${r.scenarios.prepare.memoriesIndexed} indexed before the load. Baseline RSS ${r.scenarios.prepare.baseline.rssMb ?? 'n/a'} MB.`,
    '',
    '### Chat sessions',
    '',
    ...chatSection(r.scenarios.chat),
    '',
    usage('Target', r.scenarios.chat.target),
    '',
    '### Parallel memory saves',
    '',
    `${r.scenarios.saves.count} saves, ${r.scenarios.saves.concurrency} at once, in ${Math.round(r.scenarios.saves.durationMs)} ms (${r.scenarios.saves.throughputPerS}/s): ${r.scenarios.saves.created} new, ${r.scenarios.saves.errors} errors${r.scenarios.saves.errors ? ` ${JSON.stringify(r.scenarios.saves.errorKinds)}` : ''}.`,
    '',
    '| saves | n | p50 | p95 | p99 | mean | max |',
    '|---|---|---|---|---|---|---|',
    latencyRow('all', r.scenarios.saves.latency),
    '',
    usage('Target', r.scenarios.saves.target),
    '',
    '### Peak ramp',
    '',
    `Threshold p95 ${r.scenarios.ramp.thresholdMs} ms; stopped: ${r.scenarios.ramp.stoppedBecause.replace('_', ' ')}; sustained ${r.scenarios.ramp.sustainedSessions} sessions.`,
    '',
    '| sessions | requests | req/s | p50 | p95 | errors | peak RSS | CPU s |',
    '|---|---|---|---|---|---|---|---|',
    ...r.scenarios.ramp.steps.map((s) => {
      const m = s.measurement;
      const rate = Math.round((m.requests / Math.max(0.001, m.durationMs / 1000)) * 10) / 10;
      return `| ${s.sessions} | ${m.requests} | ${rate} | ${ms(m.latency.p50)} | ${ms(m.latency.p95)} | ${m.errors} | ${m.target.rssPeakMb ?? 'n/a'} MB | ${m.target.cpuSeconds ?? 'n/a'} |`;
    }),
    '',
    '## Capacity projection',
    '',
    `Per concurrent user: ${r.capacity.perUser.requestsPerMinute} requests/min, ${r.capacity.perUser.memoryMb} MB RSS, ${r.capacity.perUser.cpuMsPerRequest} CPU ms per request (${r.capacity.perUser.cpuSource}; background ${r.capacity.perUser.backgroundCpuMsPerS} ms/s), ${r.capacity.perUser.modelCallsPerRequest} model calls per request, ${r.capacity.perUser.dbConnectionSecondsPerRequest} connection-seconds per request. Per stored user: ${r.capacity.perUser.vectors} vectors × ${r.capacity.perUser.bytesPerVector} bytes.`,
    '',
    '| resource | runs out at | per-user cost | capacity | basis |',
    '|---|---|---|---|---|',
    ...r.capacity.resources.map(
      (c) =>
        `| ${c.resource} | ${c.notLimiting ? 'not limiting' : c.limitUsers === null ? 'unmeasured' : `≈${c.limitUsers} ${c.unit}`} | ${c.perUserCost} ${c.perUserUnit} | ${c.capacity} ${c.capacityUnit} | ${c.basis} |`,
    ),
    '',
    '### Upgrade timeline',
    '',
    ...r.capacity.timeline.map((t) => `- ${t}`),
    '',
    '## Recommendations',
    '',
    ...r.recommendations.map((x) => `- **${x.severity}** (${x.area}): ${x.text}`),
    '',
  ];
  return out.join('\n');
}
