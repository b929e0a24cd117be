// The import benchmark's report: its figures against issue #17's targets.
import type { LatencySummary } from '../kit/report-files.ts';

export interface ImportReport {
  meta: {
    startedAt: string;
    command: string;
    machine: Record<string, unknown>;
    layout: string;
    memories: number;
    fileMb: number;
  };
  import: {
    read: number;
    created: number;
    refused: number;
    ackSeconds: number;
    ackedPerSecond: number;
    indexed: number;
    indexFailed: number;
    indexSeconds: number;
    indexedPerSecond: number;
    workflowId: string | null;
  };
  memory: {
    baselineRssMb: number;
    peakRssMb: number;
    growthMb: number;
    treePeakRssMb: number;
    /** `process.memoryUsage()` of the product (MB): at the start, and the peak of each kind. */
    process: { first: Record<string, number> | null; peak: Record<string, number> };
  };
  export: { lines: number; seconds: number; linesPerSecond: number };
  rerun: { created: number; duplicates: number; seconds: number };
  roundTrip: { created: number; refused: number; seconds: number };
  bystander: { searches: LatencySummary; saveToIndexed: LatencySummary; failures: string[] };
}

const mark = (ok: boolean) => (ok ? 'met' : '**not met**');

export function importMarkdown(r: ImportReport): string {
  const rows: [string, string, string, boolean][] = [
    [
      'import acknowledged',
      `${r.import.ackedPerSecond} lines/s`,
      '≥ 2,000 lines/s',
      r.import.ackedPerSecond >= 2000,
    ],
    [
      'indexed end to end',
      `${r.import.indexedPerSecond} memories/s`,
      '≥ 200 memories/s',
      r.import.indexedPerSecond >= 200,
    ],
    ['peak RSS growth', `${r.memory.growthMb} MB`, '< 100 MB', r.memory.growthMb < 100],
    [
      'export',
      `${r.export.linesPerSecond} lines/s`,
      '≥ 10,000 lines/s',
      r.export.linesPerSecond >= 10_000,
    ],
  ];
  const b = r.bystander;
  return [
    `# Import and export, ${r.meta.memories.toLocaleString('en-US')} memories`,
    '',
    `${r.meta.startedAt}; ${r.meta.layout}; file ${r.meta.fileMb} MB. \`${r.meta.command}\``,
    '',
    `Machine: ${JSON.stringify(r.meta.machine)}`,
    '',
    '| figure | measured | target | |',
    '| --- | --- | --- | --- |',
    ...rows.map(([what, got, target, ok]) => `| ${what} | ${got} | ${target} | ${mark(ok)} |`),
    '',
    `- Import: ${r.import.read} lines read in ${r.import.ackSeconds} s, ${r.import.created} created, ` +
      `${r.import.refused} refused; indexed ${r.import.indexed} (${r.import.indexFailed} failed) ` +
      `${r.import.indexSeconds} s after the upload began, by run \`${r.import.workflowId}\`.`,
    `- Memory (the product process: API and workers): ${r.memory.baselineRssMb} MB before the import, ` +
      `peak ${r.memory.peakRssMb} MB during it and its indexing; the whole tree peaked at ${r.memory.treePeakRssMb} MB. ` +
      `By kind (MB, first reading → peak): ${Object.keys(r.memory.process.peak)
        .map((k) => `${k} ${r.memory.process.first?.[k] ?? '?'} → ${r.memory.process.peak[k]}`)
        .join(', ')}.`,
    `- Export: ${r.export.lines} lines in ${r.export.seconds} s.`,
    `- The same file again: ${r.rerun.created} created, ${r.rerun.duplicates} duplicates in ${r.rerun.seconds} s.`,
    `- The export into a fresh user: ${r.roundTrip.created} created, ${r.roundTrip.refused} refused in ${r.roundTrip.seconds} s (its indexing not waited for).`,
    `- Another user meanwhile: search p50 ${b.searches.p50} ms, p95 ${b.searches.p95} ms (n=${b.searches.count}); ` +
      `save to indexed p50 ${b.saveToIndexed.p50} ms, p95 ${b.saveToIndexed.p95} ms (n=${b.saveToIndexed.count}); ` +
      `${b.failures.length} failures${b.failures.length ? `: ${b.failures.join('; ')}` : ''}.`,
    '',
  ].join('\n');
}
