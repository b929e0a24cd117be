import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runQualityBench, type QualityReport } from '../../bench/quality-bench.ts';
import { requireTestEnv } from '../support/test-env.ts';

const fixture = fileURLToPath(new URL('../fixtures/locomo-mini.json', import.meta.url));

interface FixtureSample {
  conversation: Record<string, unknown>;
  qa: { category: number }[];
}

const inUnitRange = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;

describe('bench:quality on the LoCoMo-format fixture, against the real product', () => {
  let outDir: string;
  let report: QualityReport;
  let samples: FixtureSample[];

  before(async () => {
    samples = JSON.parse(await fs.readFile(fixture, 'utf8')) as FixtureSample[];
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'quality-bench-test-'));
    const queue = `test-quality-${randomUUID()}`;
    report = await runQualityBench({
      data: fixture,
      outDir,
      temporalAddress: requireTestEnv('TEST_TEMPORAL_ADDRESS'),
      env: { TASK_QUEUE_INDEXING: queue, TASK_QUEUE_SYSTEM: `${queue}-system` },
      log: () => undefined,
    });
  });

  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('saves every turn as a memory and waits until all are indexed', () => {
    const turns = samples
      .flatMap((s) => Object.entries(s.conversation))
      .filter(([key]) => /^session_\d+$/.test(key))
      .reduce((sum, [, list]) => sum + (list as unknown[]).length, 0);
    assert.equal(report.dataset.turns, turns);
    assert.equal(report.indexing.memories, turns);
    assert.equal(report.indexing.indexed, turns);
    assert.equal(report.indexing.failed, 0);
    assert.ok(report.indexing.memoriesPerSecond > 0);
  });

  it('asks every question of categories 1–4 and leaves the adversarial ones out', () => {
    const questions = samples.flatMap((s) => s.qa);
    const scored = questions.filter((q) => q.category !== 5);
    assert.equal(report.dataset.questions.total, questions.length);
    assert.equal(report.dataset.questions.scored, scored.length);
    assert.equal(report.dataset.questions.leftOutAdversarial, questions.length - scored.length);
    assert.equal(report.questions.length, scored.length);
    assert.ok(report.questions.every((q) => q.category >= 1 && q.category <= 4));
    for (const endpoint of [report.search, report.context]) {
      assert.deepEqual(Object.keys(endpoint.recall.byCategory), ['1', '2', '3', '4']);
      for (const [category, row] of Object.entries(endpoint.recall.byCategory)) {
        const expected = scored.filter((q) => String(q.category) === category).length;
        assert.equal(row.questions, expected, `category ${category}`);
      }
      assert.equal(endpoint.recall.overall.questions, scored.length);
    }
  });

  it('reports recall in [0, 1], @10 never below @5, and overall as the mean over questions', () => {
    for (const [name, pick] of [
      ['search', (q: QualityReport['questions'][number]) => q.search],
      ['context', (q: QualityReport['questions'][number]) => q.context],
    ] as const) {
      for (const q of report.questions) {
        const r = pick(q);
        assert.ok(inUnitRange(r.at5) && inUnitRange(r.at10), `${name}: ${q.question}`);
        assert.ok(r.at10 >= r.at5, `${name}: ${q.question}`);
      }
      const recall = name === 'search' ? report.search.recall : report.context.recall;
      const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
      const rows = report.questions.map(pick);
      assert.ok(Math.abs(recall.overall.at5 - mean(rows.map((r) => r.at5))) < 0.001);
      assert.ok(Math.abs(recall.overall.at10 - mean(rows.map((r) => r.at10))) < 0.001);
      assert.ok(recall.overall.at10 >= recall.overall.at5);
      for (const row of Object.values(recall.byCategory)) {
        assert.ok(inUnitRange(row.at5) && inUnitRange(row.at10) && row.at10 >= row.at5);
      }
    }
    // The fixture's questions share words with their evidence: retrieval finds some of it.
    assert.ok(report.search.recall.overall.at10 > 0);
    assert.ok(report.context.recall.overall.at10 > 0);
  });

  it('splits context by plan source, counts model calls and times both endpoints', () => {
    const sources = Object.entries(report.context.bySource);
    assert.ok(sources.length > 0);
    for (const [source] of sources) {
      assert.ok(['classifier', 'cache', 'model', 'heuristic'].includes(source), source);
    }
    const counted = sources.reduce((s, [, row]) => s + Number(row.questions), 0);
    assert.equal(counted, report.questions.length);
    assert.ok(Number.isInteger(report.context.modelCalls) && report.context.modelCalls >= 0);
    assert.ok(report.search.latencyMs.count === report.questions.length);
    assert.ok(report.context.latencyMs.count === report.questions.length);
    for (const l of [report.search.latencyMs, report.context.latencyMs]) {
      assert.ok(l.p50 > 0 && l.p50 <= l.p95 && l.p95 <= l.p99);
    }
    assert.ok(report.questions.every((q) => q.search.results <= 10));
  });

  it('writes the Markdown and JSON reports', async () => {
    const json = JSON.parse(await fs.readFile(report.files.json, 'utf8')) as QualityReport;
    assert.deepEqual(json.search.recall, report.search.recall);
    assert.equal(path.dirname(report.files.json), outDir);
    const md = await fs.readFile(report.files.markdown, 'utf8');
    assert.match(md, /## Evidence recall/);
    assert.match(md, new RegExp(`\\| \\*\\*overall\\*\\* \\| ${report.questions.length} \\|`));
  });
});
