import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { AppError } from '../../core/errors.ts';
import type { Authenticator } from '../route-registry.ts';
import { mcpOriginGuard, type McpOriginPolicy } from './mcp-guard.ts';
import { McpSessions } from './mcp-sessions.ts';
import { createMcpServer, type McpToolDeps } from './mcp-tools.ts';

export interface McpRoutesOptions extends McpToolDeps, McpOriginPolicy {
  auth: Authenticator;
  /** Open sessions at most (default 1000); a new one beyond this closes the least recently used. */
  maxSessions?: number;
  /**
   * Open sessions of one user at most (default 20); a new one beyond this
   * closes that user's least recently used, never another user's.
   */
  maxSessionsPerUser?: number;
  /** A session unused this long is closed. */
  idleMs?: number;
  /** How often idle sessions are looked for. */
  sweepMs?: number;
  /** Answer session requests with one JSON body instead of an SSE stream. */
  jsonResponse?: boolean;
}

/** The `/mcp` router, plus what its owner needs to shut it down and observe it. */
export type McpRouter = Router & {
  /** Closes every session (and stops the sweeper); later requests still work. */
  close(): Promise<void>;
  sessionCount(): number;
};

/** One request to `/mcp`, from an authenticated user. */
interface McpCall {
  sessions: McpSessions;
  options: McpRoutesOptions;
  userId: string;
  req: Request;
  res: Response;
}

const SESSION_HEADER = 'mcp-session-id';

const isInitialize = (body: unknown) =>
  Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);

/**
 * Streamable HTTP MCP at `/mcp` (mount the router there). Every request is
 * authenticated with the API key, like `/v1`; the key's user is the user of
 * every tool call, and a session answers only to its own user's keys.
 *
 * - `POST /mcp` with an `initialize` request and no `mcp-session-id` opens a
 *   session (its id comes back in `mcp-session-id`); `POST`/`GET`/`DELETE`
 *   with that header use it, and `DELETE` ends it.
 * - `POST /mcp?stateless` (or any non-initialize `POST` without a session id)
 *   is handled on its own, answered with one JSON body: for clients that
 *   neither stream nor keep sessions.
 * - Sessions are bounded in number, per user and in all (the least recently
 *   used is closed to make room), and in idle time (a periodic sweep).
 * - `Host` and `Origin` are checked first (DNS-rebinding protection, see
 *   `mcpOriginGuard`).
 */
export function createMcpRoutes(options: McpRoutesOptions): McpRouter {
  const idleMs = options.idleMs ?? 30 * 60_000;
  const sessions = new McpSessions({
    maxSessions: options.maxSessions ?? 1000,
    maxSessionsPerUser: options.maxSessionsPerUser ?? 20,
    idleMs,
    sweepMs: options.sweepMs ?? Math.min(60_000, Math.max(1000, Math.floor(idleMs / 2))),
  });
  const handle = async (req: Request, res: Response) => {
    const call: McpCall = { sessions, options, userId: await options.auth.user(req), req, res };
    const sessionId = req.get(SESSION_HEADER);
    if (sessionId) return useSession(call, sessionId);
    if (req.method !== 'POST') {
      throw new AppError(
        'bad_request',
        `${req.method} /mcp needs the mcp-session-id header of an open session`,
      );
    }
    if (isInitialize(req.body) && req.query.stateless === undefined) {
      await openSession(call);
    } else {
      await handleStateless(call);
    }
  };
  const router = Router() as McpRouter;
  router.use(mcpOriginGuard(options));
  router.post('/', handle);
  router.get('/', handle);
  router.delete('/', handle);
  router.close = () => sessions.closeAll();
  router.sessionCount = () => sessions.size;
  return router;
}

async function useSession(
  { sessions, userId, req, res }: McpCall,
  sessionId: string,
): Promise<void> {
  const session = sessions.use(sessionId, userId);
  // Another user's session is answered like an unknown one: nothing to learn from it.
  if (!session) {
    throw new AppError(
      'not_found',
      'no MCP session with this mcp-session-id for this API key (it ended, expired or was ' +
        'never opened); start a new one with initialize',
    );
  }
  await session.transport.handleRequest(req, res, req.body);
}

async function openSession({ sessions, options, userId, req, res }: McpCall): Promise<void> {
  const server = createMcpServer(userId, options);
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: options.jsonResponse ?? false,
    onsessioninitialized: (id) => sessions.add(id, { userId, server, transport }),
    onsessionclosed: (id) => {
      void sessions.close(id);
    },
  });
  // Set before connect: the server chains its own close handling onto it.
  transport.onclose = () => {
    if (transport.sessionId) sessions.forget(transport.sessionId);
  };
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
  // A failed initialize leaves no session behind.
  if (!transport.sessionId || !sessions.has(transport.sessionId)) {
    await server.close().catch(() => undefined);
  }
}

async function handleStateless({ sessions, options, userId, req, res }: McpCall): Promise<void> {
  const server = createMcpServer(userId, options);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  sessions.trackStateless(server, res);
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}
