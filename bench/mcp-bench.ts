/**
 * MCP overhead benchmark: `get_context` over MCP (Streamable HTTP, one SDK client
 * session) against `POST /v1/context`, for the same messages in the same run.
 *
 * It starts a Temporal dev server and the product's stack
 * (`node --import tsx scripts/start.ts`) on free loopback ports with a
 * fresh DATA_DIR and no model (local fallbacks: heuristic planner, hashing
 * embedder), creates one user, saves ~60 memories in one batch, waits until they
 * are indexed, then for ~40 messages (simple lookups, complex questions, new
 * conversations) runs one warm-up round and `--rounds` measured rounds. Within a
 * round each message is sent once over REST and once over MCP, sequentially,
 * alternating which goes first, so the figures are per-call overhead, not
 * saturation. Client-side wall time (performance.now()) per call.
 *
 * Target (issue): MCP adds ≤ 5 ms at p95 (judged on p95(MCP) − p95(REST); the
 * p95 of the per-message paired differences is shown too).
 *
 * Run: npm run bench -- --scenario mcp [--rounds 10] [--memories 60] [--seed 1]
 * Writes bench/reports/mcp-<timestamp>.{md,json}.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  checkInterrupted,
  cleanup,
  cleanups,
  http,
  isInterrupted,
  startProductChild,
  log,
  percentile,
  prepareRun,
  REQUEST_TIMEOUT_MS,
  sleep,
  startBenchTemporal,
  type Json,
} from './bench-kit.ts';
import {
  complexMessage,
  makeMemories,
  makePersona,
  newConversationMessage,
  seededRandom,
  simpleMessage,
  type MessageKind,
} from '../loadtest/context-corpus.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const TARGET_MS = 5;
const MESSAGE_MIX: Record<MessageKind, number> = { simple: 15, complex: 20, new_conversation: 5 };

// ---------------------------------------------------------------- options

interface Options {
  rounds: number;
  memories: number;
  seed: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { rounds: 10, memories: 60, seed: 1 };
  const numeric: Record<string, keyof Options> = {
    '--rounds': 'rounds',
    '--memories': 'memories',
    '--seed': 'seed',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    if (flag === '--help' || flag === '-h') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    }
    const key = numeric[flag!];
    if (!key) throw new Error(`unknown option ${flag} (see --help)`);
    const value = inline ?? argv[++i];
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a positive integer`);
    o[key] = n;
  }
  if (o.memories > 100) throw new Error('--memories is saved in one batch: at most 100');
  return o;
}

// ---------------------------------------------------------------- helpers

const round1 = (v: number) => Math.round(v * 100) / 100;

function summarize(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return {
    count: sorted.length,
    min: round1(sorted[0] ?? NaN),
    p50: round1(percentile(sorted, 0.5)),
    p95: round1(percentile(sorted, 0.95)),
    p99: round1(percentile(sorted, 0.99)),
    mean: round1(mean),
    max: round1(sorted[sorted.length - 1] ?? NaN),
  };
}
type Summary = ReturnType<typeof summarize>;

// ---------------------------------------------------------------- corpus

interface BenchMessage {
  kind: MessageKind;
  message: string;
  isNew: boolean;
}

function makeMessages(random: () => number, persona: ReturnType<typeof makePersona>) {
  const out: BenchMessage[] = [];
  const seen = new Set<string>();
  const makers: Record<MessageKind, () => string> = {
    simple: () => simpleMessage(persona, random),
    complex: () => complexMessage(persona, random),
    new_conversation: () => newConversationMessage(persona, random),
  };
  for (const [kind, want] of Object.entries(MESSAGE_MIX) as [MessageKind, number][]) {
    let got = 0;
    for (let attempt = 0; attempt < want * 50 && got < want; attempt++) {
      const message = makers[kind]();
      if (seen.has(message)) continue;
      seen.add(message);
      out.push({ kind, message, isNew: kind === 'new_conversation' });
      got++;
    }
  }
  return out;
}

async function waitIndexed(url: string, key: string, expected: number, budgetMs = 300_000) {
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    checkInterrupted();
    const res = await http(url, 'GET', '/v1/memories?limit=200', { key });
    if (res.status !== 200) throw new Error(`GET /v1/memories: ${res.status}`);
    const items = res.body!.items as { index_state: string }[];
    const indexed = items.filter((m) => m.index_state === 'indexed').length;
    const failed = items.filter((m) => m.index_state === 'failed').length;
    if (indexed + failed >= expected) {
      return { indexed, failed, seconds: round1((Date.now() - started) / 1000) };
    }
    if (Date.now() - lastLog > 5000) {
      log(`indexing: ${indexed}/${expected} indexed, ${failed} failed`);
      lastLog = Date.now();
    }
    if (Date.now() - started > budgetMs) {
      throw new Error(`only ${indexed}/${expected} memories indexed within ${budgetMs / 1000} s`);
    }
    await sleep(500);
  }
}

// ---------------------------------------------------------------- measurement

interface Sample {
  round: number;
  index: number;
  kind: MessageKind;
  transport: 'rest' | 'mcp';
  first: boolean;
  ms: number;
  memories: number;
}

async function restCall(url: string, key: string, m: BenchMessage) {
  const t0 = performance.now();
  const res = await http(url, 'POST', '/v1/context', {
    key,
    body: { message: m.message, is_new_conversation: m.isNew },
  });
  const ms = performance.now() - t0;
  if (res.status !== 200) {
    throw new Error(`POST /v1/context: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return { ms, memories: ((res.body?.memories as unknown[]) ?? []).length };
}

async function mcpCall(client: Client, m: BenchMessage) {
  const t0 = performance.now();
  const result = (await client.callTool(
    { name: 'get_context', arguments: { message: m.message, is_new_conversation: m.isNew } },
    undefined,
    { timeout: REQUEST_TIMEOUT_MS },
  )) as CallToolResult;
  const ms = performance.now() - t0;
  if (result.isError) {
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    throw new Error(`MCP get_context: ${text.slice(0, 300)}`);
  }
  const structured = result.structuredContent as Json | undefined;
  return { ms, memories: ((structured?.memories as unknown[]) ?? []).length };
}

// ---------------------------------------------------------------- report

function markdown(report: Json): string {
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
      `one MCP session (SDK Client + StreamableHTTPClientTransport); client-side wall time.`,
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

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const random = seededRandom(o.seed);
  const { pin, runDir, dataDir, stackLog } = prepareRun('mcp-bench');
  const temporal = await startBenchTemporal(projectRoot, runDir, pin);

  const adminKey = randomBytes(24).toString('hex');
  const stack = await startProductChild({
    dataDir,
    temporalAddress: temporal.address,
    adminKey,
    logFile: stackLog,
    pin,
  });
  log(`stack pid ${stack.pid} on ${stack.url}${pin ? ' (pinned to core 0)' : ''}`);

  const created = await http(stack.url, 'POST', '/v1/admin/users', { key: adminKey, body: {} });
  if (created.status !== 201) throw new Error(`POST /v1/admin/users: ${created.status}`);
  const key = created.body!.api_key as string;
  const persona = makePersona(random);
  const contents = makeMemories(persona, o.memories, random);
  const saved = await http(stack.url, 'POST', '/v1/memories', {
    key,
    body: { memories: contents.map((content) => ({ content })) },
  });
  if (saved.status !== 201 && saved.status !== 200) {
    throw new Error(`POST /v1/memories: ${saved.status} ${JSON.stringify(saved.body)}`);
  }
  log(`saved ${contents.length} memories; waiting until indexed`);
  const indexing = await waitIndexed(stack.url, key, contents.length);
  log(`${indexing.indexed} indexed, ${indexing.failed} failed in ${indexing.seconds} s`);

  const client = new Client({ name: 'mcp-bench', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  cleanups.push({
    name: 'MCP client',
    run: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  });
  log(`MCP session ${transport.sessionId ?? '(none)'} open`);

  const messages = makeMessages(random, persona);
  const byKindCount: Record<string, number> = {};
  for (const m of messages) byKindCount[m.kind] = (byKindCount[m.kind] ?? 0) + 1;
  log(`${messages.length} messages ${JSON.stringify(byKindCount)}; 1 warm-up + ${o.rounds} rounds`);

  const samples: Sample[] = [];
  const pairs: { kind: MessageKind; restFirst: boolean; rest: number; mcp: number; same: boolean }[] = []; // prettier-ignore
  let pairIndex = 0;
  for (let round = 0; round <= o.rounds; round++) {
    const t0 = performance.now();
    for (let index = 0; index < messages.length; index++) {
      checkInterrupted();
      const m = messages[index]!;
      // Alternate the order across pairs (and, with an odd count, across rounds too).
      const restFirst = pairIndex++ % 2 === 0;
      let rest: { ms: number; memories: number };
      let mcp: { ms: number; memories: number };
      if (restFirst) {
        rest = await restCall(stack.url, key, m);
        mcp = await mcpCall(client, m);
      } else {
        mcp = await mcpCall(client, m);
        rest = await restCall(stack.url, key, m);
      }
      if (round === 0) continue;
      samples.push({ round, index, kind: m.kind, transport: 'rest', first: restFirst, ...rest });
      samples.push({ round, index, kind: m.kind, transport: 'mcp', first: !restFirst, ...mcp });
      pairs.push({ kind: m.kind, restFirst, rest: rest.ms, mcp: mcp.ms, same: rest.memories === mcp.memories }); // prettier-ignore
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (round === 0) {
      log(`warm-up round done in ${secs} s`);
    } else {
      const recent = pairs.slice(-messages.length);
      const rs = summarize(recent.map((p) => p.rest));
      const ms = summarize(recent.map((p) => p.mcp));
      log(`round ${round}/${o.rounds} in ${secs} s: REST p50 ${rs.p50} ms, MCP p50 ${ms.p50} ms`);
    }
  }

  const rest = summarize(pairs.map((p) => p.rest));
  const mcp = summarize(pairs.map((p) => p.mcp));
  const paired = summarize(pairs.map((p) => p.mcp - p.rest));
  const p95Difference = round1(mcp.p95 - rest.p95);
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

  const report = {
    meta: {
      startedAt: startedAt.toISOString(),
      command: `npm run bench -- --scenario mcp ${process.argv.slice(2).join(' ')}`.trim(),
      options: o,
      pinned: pin,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
        platform: `${os.platform()} ${os.release()}`,
        node: process.versions.node,
      },
      targetMs: TARGET_MS,
    },
    corpus: {
      memories: contents.length,
      indexed: indexing.indexed,
      failed: indexing.failed,
      indexSeconds: indexing.seconds,
      messages: messages.length,
      byKind: byKindCount,
      list: messages,
    },
    results: {
      rest,
      mcp,
      paired,
      p95Difference,
      pass: p95Difference <= TARGET_MS,
      byKind,
      order: { restFirst: orderOf(true), mcpFirst: orderOf(false) },
      agreement: { pairs: pairs.length, same: pairs.filter((p) => p.same).length },
    },
    samples: samples.map((s) => ({ ...s, ms: round1(s.ms) })),
  };

  const reportsDir = path.join(projectRoot, 'bench', 'reports');
  fs.mkdirSync(reportsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const base = path.join(reportsDir, `mcp-${stamp}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  const md = markdown(report);
  fs.writeFileSync(`${base}.md`, md);
  console.log('\n' + md);
  await cleanup();
  log(`report: ${base}.md (and .json)`);
}

main().catch(async (error: unknown) => {
  if (isInterrupted()) {
    await cleanup();
    process.exit(130);
  }
  console.error(
    `mcp-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  await cleanup();
  process.exit(1);
});
