import { parseArgs } from 'node:util';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { isMemoryEngineError, MemoryEngineClient } from '../../client/src/index.ts';

export const API_KEY_ENV = 'MEMORY_ENGINE_API_KEY';
export const URL_ENV = 'MEMORY_ENGINE_URL';
const DEFAULT_URL = 'http://127.0.0.1:8080';

export const USAGE = `usage: memory-engine mcp [--url <api url>] [--key <api key>]

Speaks MCP over stdio and forwards every message to a running memory-engine's
/mcp endpoint. --url defaults to $${URL_ENV} or ${DEFAULT_URL} (/mcp is added
when missing); --key defaults to $${API_KEY_ENV}.`;

export interface BridgeOptions {
  url: URL;
  key: string;
}

/** Reads `--url`/`--key` (or the environment); throws a message fit for stderr on bad input. */
export function parseBridgeArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): BridgeOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { url: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const key = values.key ?? env[API_KEY_ENV];
  if (!key) throw new Error(`no API key: pass --key or set ${API_KEY_ENV}\n\n${USAGE}`);
  const raw = values.url ?? env[URL_ENV] ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`--url is not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`--url must be http(s): ${raw}`);
  }
  if (!url.pathname.replace(/\/+$/, '').endsWith('/mcp')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/mcp`;
  }
  return { url, key };
}

const log = (message: string) => process.stderr.write(`memory-engine mcp: ${message}\n`);

/** What {@link checkApi} found: fine, worth a warning, or a reason not to start. */
export type ApiCheck = { ok: true } | { ok: false; fatal: boolean; message: string };

/**
 * Asks the API for one memory under the key before any MCP message is
 * forwarded, so that a wrong URL or key is said once, with the API's code and
 * request id, rather than as a failure of every message the MCP client sends.
 * A refused key or no memory-engine at the URL is fatal; a 429 or 5xx (the
 * server busy or a dependency down) is only a warning, as it may pass.
 */
export async function checkApi({ url, key }: BridgeOptions, timeoutMs = 10_000): Promise<ApiCheck> {
  const base = new URL(url);
  base.pathname = base.pathname.replace(/\/mcp\/*$/, '') || '/';
  const client = new MemoryEngineClient({
    baseUrl: base.toString(),
    apiKey: key,
    timeoutMs,
    headers: { 'user-agent': 'memory-engine-mcp-bridge' },
  });
  try {
    await client.memories.list({ limit: 1 });
    return { ok: true };
  } catch (error) {
    if (!isMemoryEngineError(error)) throw error;
    const status = error.status === null ? '' : `${error.status} `;
    const said = `${status}${error.code}: ${error.message} (request id ${error.requestId})`;
    if (error.status === 401 || error.status === 403) {
      return {
        ok: false,
        fatal: true,
        message: `the API at ${base.origin} refused the key: ${said}`,
      };
    }
    const passing =
      error.code !== 'invalid_response' && (error.status === 429 || (error.status ?? 0) >= 500);
    if (passing) {
      return {
        ok: false,
        fatal: false,
        message: `the API is struggling, forwarding anyway: ${said}`,
      };
    }
    return { ok: false, fatal: true, message: `no memory-engine API answers at ${base}: ${said}` };
  }
}

/**
 * Forwards JSON-RPC messages between stdio (the local MCP client) and the
 * server's Streamable HTTP endpoint, unchanged; the server does all the work,
 * under the given key. Resolves when the local client closes stdin.
 */
export async function runStdioBridge({ url, key }: BridgeOptions): Promise<void> {
  const remote = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  const local = new StdioServerTransport();
  const initializeIds = new Set<string | number>();

  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= (async () => {
      await remote.terminateSession().catch(() => undefined);
      await remote.close().catch(() => undefined);
      await local.close().catch(() => undefined);
    })();
    return closing;
  };

  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') {
      initializeIds.add(message.id);
    }
    remote.send(message).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      log(`forwarding failed: ${reason}`);
      // A request must get an answer, or the client waits for ever.
      if (isJSONRPCRequest(message)) {
        void local.send({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32000, message: `memory-engine bridge: ${reason}` },
        });
      }
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResultResponse(message) && initializeIds.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') remote.setProtocolVersion(version);
    }
    void local.send(message);
  };
  remote.onerror = (error) => log(`server: ${error.message}`);
  local.onerror = (error) => log(`stdio: ${error.message}`);

  await remote.start();
  await local.start();
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    local.onclose = resolve;
  });
  await shutdown();
}

/** The `memory-engine mcp` command. */
export async function main(argv: readonly string[]): Promise<number> {
  let options: BridgeOptions;
  try {
    options = parseBridgeArgs(argv);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const check = await checkApi(options);
  if (!check.ok) {
    log(check.message);
    if (check.fatal) return 1;
  }
  await runStdioBridge(options);
  return 0;
}
