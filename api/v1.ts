import type { Engine } from '../core/engine.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import type { LoadTests } from '../core/ports/load-tests.ts';
import { adminRoutes, reindexRoutes } from './admin.routes.ts';
import { loadTestRoutes } from './loadtest.routes.ts';
import { createAuthenticator } from './auth.ts';
import { contextRoutes } from './context.routes.ts';
import { conversationRoutes } from './conversation.routes.ts';
import { createMcpRoutes, type McpRouter, type McpRoutesOptions } from './mcp/mcp-routes.ts';
import { memoryRoutes } from './memory.routes.ts';
import { portabilityRoutes, type PortabilityDeps } from './portability.routes.ts';
import { rateLimitedAuthenticator, type RateLimitOptions } from './rate-limit.ts';
import type { Authenticator, RouteSpec } from './route-registry.ts';
import { concurrencyLimitedAuthenticator } from './user-slots.ts';
import { apiSchemas, type Limits } from './schemas.ts';

export interface V1Deps {
  engine: Engine;
  store: RelationalStore;
  limits: Limits;
  adminApiKey: string | undefined;
  /** Told about tool failures that are not `AppError`s (bugs, not bad input). */
  onUnexpectedError?: (error: unknown, tool: string) => void;
  /** Export and import of memories (`/v1/export`, `/v1/import`); absent, those routes are not served. */
  portability?: PortabilityDeps;
  /** Load-test runs (admin routes); absent where no workflow engine is wired. */
  loadTests?: { service: LoadTests; selfUrl: () => string | null };
  /**
   * Per-user and admin rate limits on every authenticated `/v1` route and
   * `/mcp`; default: on, in this process, 20/s with a burst of 60 per user.
   */
  rateLimit?: RateLimitOptions;
  /**
   * Requests of one user run at once in this process (more wait their turn, see
   * user-slots.ts); default 2.
   */
  userConcurrency?: number;
  /** `/mcp` session bounds and its `Origin`/`Host` checks; default: loopback only, 20 sessions a user. */
  mcp?: Pick<
    McpRoutesOptions,
    'maxSessions' | 'maxSessionsPerUser' | 'allowedOrigins' | 'allowedHosts' | 'serverHost'
  >;
}

/** The `/v1` routes over the engine's services, the authenticator they use, and `/mcp`. */
export function createV1({
  engine,
  store,
  limits,
  adminApiKey,
  onUnexpectedError,
  loadTests,
  portability,
  rateLimit,
  userConcurrency,
  mcp,
}: V1Deps): {
  routes: RouteSpec[];
  auth: Authenticator;
  /** The `/mcp` endpoint over the same engine and keys; `close()` it on shutdown. */
  mcp: McpRouter;
} {
  const schemas = apiSchemas(limits);
  const auth = concurrencyLimitedAuthenticator(
    rateLimitedAuthenticator(createAuthenticator(store, adminApiKey), rateLimit),
    userConcurrency ? { slots: userConcurrency } : {},
  );
  return {
    routes: [
      ...contextRoutes(schemas, engine.context, engine.narratives),
      ...memoryRoutes(schemas, engine.memories, engine.search),
      ...conversationRoutes(schemas, engine.conversations),
      ...adminRoutes(schemas, engine.admin),
      ...reindexRoutes(engine.reindexFailed),
      ...(loadTests ? loadTestRoutes(loadTests.service, loadTests.selfUrl) : []),
      ...(portability ? portabilityRoutes(schemas, store, portability) : []),
    ],
    auth,
    mcp: createMcpRoutes({
      ...mcp,
      engine,
      schemas,
      auth,
      ...(onUnexpectedError ? { onUnexpectedError } : {}),
    }),
  };
}
