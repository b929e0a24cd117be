import { setTimeout as sleep } from 'node:timers/promises';
import type { ListedTool } from './fuzz-mcp.ts';
import type { FuzzRequest } from './fuzz-wire.ts';
import { postToolsList } from './mcp-http.ts';

/** A response as the fuzzer judges it; status -1 when no response came (the text says why). */
export interface FuzzResponse {
  status: number;
  text: string;
}

/** Sends one request; a connection that fails yields status -1 rather than a throw. */
export async function send(baseUrl: string, r: FuzzRequest): Promise<FuzzResponse> {
  try {
    const res = await fetch(`${baseUrl}${r.path}`, {
      method: r.method,
      headers: r.headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
      // A liveness guard only: a request the server never answers must not hang the suite.
      signal: AbortSignal.timeout(120_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return { status: -1, text: error instanceof Error ? error.message : String(error) };
  }
}

const cut = (text: string) => text.slice(0, 300);

/**
 * What is wrong with an answer, if anything: no response, a 5xx, an MCP
 * internal error (the tool-level 500), or a success for a request that named
 * another user's memory.
 */
export function problemIn(
  r: FuzzRequest,
  res: FuzzResponse,
  foreignIds: readonly string[],
): string | undefined {
  if (res.status === -1) return `no response: ${res.text}`;
  if (res.status >= 500) return `HTTP ${res.status}: ${cut(res.text)}`;
  if (res.status < 400 && foreignIds.some((id) => r.path.includes(id))) {
    return `HTTP ${res.status} for another user's memory: ${cut(res.text)}`;
  }
  if (!r.target.startsWith('mcp')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    return undefined;
  }
  for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as McpMessage[]) {
    if (m?.error?.code === -32603) return `JSON-RPC internal error: ${cut(res.text)}`;
    if (m?.result?._meta?.error?.code === 'internal')
      return `tool error internal: ${cut(res.text)}`;
  }
  return undefined;
}

interface McpMessage {
  error?: { code?: number };
  result?: { _meta?: { error?: { code?: string } } };
}

/** The tools a stateless `tools/list` on `/mcp` shows to `key`. */
export async function listTools(baseUrl: string, key: string): Promise<ListedTool[]> {
  const res = await postToolsList(baseUrl, key);
  const body = (await res.json()) as { result: { tools: ListedTool[] } };
  return body.result.tools;
}

/** What an ordinary user saw while someone else was hostile. */
export interface BystanderReport {
  counts: Record<string, number>;
  /** One line per request that did not succeed: kind, status, body. */
  failures: string[];
  /** Memories saved during the run: id to content. */
  saved: Map<string, string>;
}

const BYSTANDER_STEPS = ['save', 'search', 'context', 'list', 'read'] as const;

/**
 * A well-behaved user (one request at a time, a short pause between them)
 * saving, searching, asking for context, listing and reading back, until
 * stopped. Every request it makes is expected to succeed; callers keep their
 * load up until `rounds()` says it has made each kind of request a few times.
 */
export function startBystander(baseUrl: string, key: string, pauseMs = 150) {
  const report: BystanderReport = { counts: {}, failures: [], saved: new Map() };
  let running = true;
  const request = async (kind: string, method: string, path: string, body?: unknown) => {
    report.counts[kind] = (report.counts[kind] ?? 0) + 1;
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      if (res.status >= 300) report.failures.push(`${kind} ${path}: ${res.status} ${cut(text)}`);
      return res.status < 300 ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch (error) {
      report.failures.push(`${kind} ${path}: no response (${String(error)})`);
      return undefined;
    }
  };
  const step = async (kind: (typeof BYSTANDER_STEPS)[number], n: number) => {
    if (kind === 'save') {
      const content = `bystander note ${n}: I like green tea and hiking in the Ardennes`;
      const saved = await request('save', 'POST', '/v1/memories', { content });
      if (typeof saved?.id === 'string') report.saved.set(saved.id, content);
    } else if (kind === 'search') {
      await request('search', 'POST', '/v1/search', { query: 'green tea' });
    } else if (kind === 'context') {
      await request('context', 'POST', '/v1/context', { message: 'What do I like to drink?' });
    } else if (kind === 'list') {
      await request('list', 'GET', '/v1/memories?limit=5');
    } else {
      const last = [...report.saved.keys()].at(-1);
      if (last) await request('read', 'GET', `/v1/memories/${last}`);
    }
  };
  let steps = 0;
  const loop = (async () => {
    for (; running; steps++) {
      await step(BYSTANDER_STEPS[steps % BYSTANDER_STEPS.length]!, steps);
      await sleep(pauseMs);
    }
  })();
  return {
    /** Rounds of every kind of request finished so far. */
    rounds: () => Math.floor(steps / BYSTANDER_STEPS.length),
    async stop(): Promise<BystanderReport> {
      running = false;
      await loop;
      return report;
    },
  };
}

/** Memories of `key`'s user whose content is not what was saved (or that are gone). */
export async function alteredMemories(
  baseUrl: string,
  key: string,
  expected: ReadonlyMap<string, string>,
): Promise<string[]> {
  const altered: string[] = [];
  for (const [id, content] of expected) {
    const res = await fetch(`${baseUrl}/v1/memories/${id}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = res.status === 200 ? ((await res.json()) as { content?: string }) : undefined;
    if (body?.content !== content) altered.push(`${id}: ${res.status} ${body?.content ?? ''}`);
  }
  return altered;
}
