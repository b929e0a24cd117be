// The MCP benchmark's measurement: a fixed list of messages, each sent once over REST
// and once over one MCP session per round, in alternating order.
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  checkInterrupted,
  cleanups,
  log,
  REQUEST_TIMEOUT_MS,
  summarizeMs,
  userClient,
  type Json,
} from '../bench-kit.ts';
import {
  complexMessage,
  newConversationMessage,
  simpleMessage,
  type MessageKind,
  type Persona,
} from '../../loadtest/context-corpus.ts';
import type { Random } from '../../core/util/seeded-random.ts';

export const MESSAGE_MIX: Record<MessageKind, number> = {
  simple: 15,
  complex: 20,
  new_conversation: 5,
};

export interface BenchMessage {
  kind: MessageKind;
  message: string;
  isNew: boolean;
}

/** Distinct messages of each kind, as many as `MESSAGE_MIX` asks for. */
export function makeMessages(random: Random, persona: Persona) {
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

/** An MCP SDK client on the product's Streamable HTTP endpoint, closed at clean-up. */
export async function openMcpSession(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'mcp-bench', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
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
  return client;
}

/** One `POST /v1/context`, one request: an error answer (a 429 too) ends the run, as an MCP one does. */
async function restCall(url: string, key: string, m: BenchMessage) {
  const t0 = performance.now();
  const res = await userClient(url, key).context({
    message: m.message,
    is_new_conversation: m.isNew,
  });
  return { ms: performance.now() - t0, memories: res.memories.length };
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

export interface Sample {
  round: number;
  index: number;
  kind: MessageKind;
  transport: 'rest' | 'mcp';
  first: boolean;
  ms: number;
  memories: number;
}

export interface Pair {
  kind: MessageKind;
  restFirst: boolean;
  rest: number;
  mcp: number;
  same: boolean;
}

/** One warm-up round, then `rounds` measured ones; returns the measured calls and pairs. */
export async function runRounds(opts: {
  url: string;
  key: string;
  client: Client;
  messages: BenchMessage[];
  rounds: number;
}) {
  const { url, key, client, messages } = opts;
  const samples: Sample[] = [];
  const pairs: Pair[] = [];
  let pairIndex = 0;
  for (let round = 0; round <= opts.rounds; round++) {
    const t0 = performance.now();
    for (let index = 0; index < messages.length; index++) {
      checkInterrupted();
      const m = messages[index]!;
      // Alternate the order across pairs (and, with an odd count, across rounds too).
      const restFirst = pairIndex++ % 2 === 0;
      let rest: { ms: number; memories: number };
      let mcp: { ms: number; memories: number };
      if (restFirst) {
        rest = await restCall(url, key, m);
        mcp = await mcpCall(client, m);
      } else {
        mcp = await mcpCall(client, m);
        rest = await restCall(url, key, m);
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
      const rs = summarizeMs(recent.map((p) => p.rest));
      const ms = summarizeMs(recent.map((p) => p.mcp));
      log(
        `round ${round}/${opts.rounds} in ${secs} s: REST p50 ${rs.p50} ms, MCP p50 ${ms.p50} ms`,
      );
    }
  }
  return { samples, pairs };
}
