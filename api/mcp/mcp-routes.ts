import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { AppError } from '../../core/errors.ts';
import type { Authenticator } from '../route-registry.ts';
import { createMcpServer, type McpToolDeps } from './mcp-tools.ts';

export interface McpRoutesOptions extends McpToolDeps {
  auth: Authenticator;
  /** Open sessions at most; a new one beyond this closes the least recently used. */
  maxSessions?: number;
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

interface Session {
  userId: string;
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
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
 * - Sessions are bounded in number (the least recently used is closed to make
 *   room) and in idle time (a periodic sweep closes them).
 */
export function createMcpRoutes(options: McpRoutesOptions): McpRouter {
  const maxSessions = options.maxSessions ?? 1000;
  const idleMs = options.idleMs ?? 30 * 60_000;
  const sweepMs = options.sweepMs ?? Math.min(60_000, Math.max(1000, Math.floor(idleMs / 2)));
  // Insertion order is recency order: a used session is moved to the end.
  const sessions = new Map<string, Session>();
  const stateless = new Set<{ close(): Promise<void> }>();

  const closeSession = async (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    await session.server.close().catch(() => undefined);
  };
  const sweep = () => {
    const cutoff = Date.now() - idleMs;
    for (const [id, session] of sessions) {
      if (session.lastSeen < cutoff) void closeSession(id);
    }
  };
  let sweeper: NodeJS.Timeout | undefined;
  const startSweeper = () => {
    sweeper ??= setInterval(sweep, sweepMs);
    sweeper.unref();
  };

  const openSession = async (req: Request, res: Response, userId: string) => {
    const server = createMcpServer(userId, options);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: options.jsonResponse ?? false,
      onsessioninitialized: (id) => {
        sessions.set(id, { userId, server, transport, lastSeen: Date.now() });
        startSweeper();
        for (const oldest of sessions.keys()) {
          if (sessions.size <= maxSessions) break;
          void closeSession(oldest);
        }
      },
      onsessionclosed: (id) => {
        void closeSession(id);
      },
    });
    // Set before connect: the server chains its own close handling onto it.
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
    // A failed initialize leaves no session behind.
    if (!transport.sessionId || !sessions.has(transport.sessionId)) {
      await server.close().catch(() => undefined);
    }
  };

  const handleStateless = async (req: Request, res: Response, userId: string) => {
    const server = createMcpServer(userId, options);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    const entry = { close: () => server.close().catch(() => undefined) };
    stateless.add(entry);
    res.on('close', () => {
      stateless.delete(entry);
      void entry.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };

  const router = Router() as McpRouter;
  const handle = async (req: Request, res: Response) => {
    const userId = await options.auth.user(req);
    const sessionId = req.get(SESSION_HEADER);
    if (sessionId) {
      const session = sessions.get(sessionId);
      // Another user's session is answered like an unknown one: nothing to learn from it.
      if (!session || session.userId !== userId) {
        throw new AppError(
          'not_found',
          'no MCP session with this mcp-session-id for this API key (it ended, expired or was ' +
            'never opened); start a new one with initialize',
        );
      }
      session.lastSeen = Date.now();
      sessions.delete(sessionId);
      sessions.set(sessionId, session);
      await session.transport.handleRequest(req, res, req.body);
      return;
    }
    if (req.method !== 'POST') {
      throw new AppError(
        'bad_request',
        `${req.method} /mcp needs the mcp-session-id header of an open session`,
      );
    }
    if (isInitialize(req.body) && req.query.stateless === undefined) {
      await openSession(req, res, userId);
    } else {
      await handleStateless(req, res, userId);
    }
  };
  router.post('/', handle);
  router.get('/', handle);
  router.delete('/', handle);

  router.close = async () => {
    if (sweeper) clearInterval(sweeper);
    sweeper = undefined;
    await Promise.all([
      ...[...sessions.keys()].map((id) => closeSession(id)),
      ...[...stateless].map((s) => s.close()),
    ]);
    stateless.clear();
  };
  router.sessionCount = () => sessions.size;
  return router;
}
