import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface McpSession {
  userId: string;
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
}

export interface SessionBounds {
  /** Open sessions at most; a new one beyond this closes the least recently used. */
  maxSessions: number;
  /** Open sessions of one user at most; a new one beyond this closes that user's least recently used. */
  maxSessionsPerUser: number;
  /** A session unused this long is closed. */
  idleMs: number;
  /** How often idle sessions are looked for. */
  sweepMs: number;
}

/**
 * The open MCP sessions of one router, bounded in number (least recently
 * used first out) and in idle time (a periodic sweep), plus the stateless
 * requests in flight, so that `closeAll` can end everything on shutdown.
 */
export class McpSessions {
  // Insertion order is recency order: a used session is moved to the end.
  private readonly sessions = new Map<string, McpSession>();
  private readonly stateless = new Set<{ close(): Promise<void> }>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly bounds: SessionBounds) {}

  get size(): number {
    return this.sessions.size;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** The session `id` if it is `userId`'s, marked as the most recently used. */
  use(id: string, userId: string): McpSession | undefined {
    const session = this.sessions.get(id);
    if (!session || session.userId !== userId) return undefined;
    session.lastSeen = Date.now();
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return session;
  }

  /**
   * Adds a session, closing the user's least recently used ones beyond the
   * user's bound (never another user's), then the least recently used ones
   * beyond the global bound.
   */
  add(id: string, session: Omit<McpSession, 'lastSeen'>): void {
    this.sessions.set(id, { ...session, lastSeen: Date.now() });
    this.startSweeper();
    let mine = 0;
    for (const open of this.sessions.values()) if (open.userId === session.userId) mine++;
    for (const [oldest, open] of this.sessions) {
      if (mine <= this.bounds.maxSessionsPerUser) break;
      if (open.userId !== session.userId) continue;
      mine--;
      void this.close(oldest);
    }
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= this.bounds.maxSessions) break;
      void this.close(oldest);
    }
  }

  /** Forgets a session whose transport closed by itself. */
  forget(id: string): void {
    this.sessions.delete(id);
  }

  async close(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    await session.server.close().catch(() => undefined);
  }

  /** Tracks a stateless request's server until its response closes. */
  trackStateless(server: McpServer, response: { on(event: 'close', fn: () => void): unknown }) {
    const entry = { close: () => server.close().catch(() => undefined) };
    this.stateless.add(entry);
    response.on('close', () => {
      this.stateless.delete(entry);
      void entry.close();
    });
  }

  /** Closes every session and stateless server and stops the sweeper; new ones may follow. */
  async closeAll(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await Promise.all([
      ...[...this.sessions.keys()].map((id) => this.close(id)),
      ...[...this.stateless].map((s) => s.close()),
    ]);
    this.stateless.clear();
  }

  private startSweeper(): void {
    this.sweeper ??= setInterval(() => this.sweep(), this.bounds.sweepMs);
    this.sweeper.unref();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.bounds.idleMs;
    for (const [id, session] of this.sessions) {
      if (session.lastSeen < cutoff) void this.close(id);
    }
  }
}
