import type { Engine } from '../core/engine.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import type { LoadTests } from '../core/ports/load-tests.ts';
import { adminRoutes } from './admin.routes.ts';
import { loadTestRoutes } from './loadtest.routes.ts';
import { createAuthenticator } from './auth.ts';
import { contextRoutes } from './context.routes.ts';
import { createMcpRoutes, type McpRouter } from './mcp/mcp-routes.ts';
import { memoryRoutes } from './memory.routes.ts';
import type { Authenticator, RouteSpec } from './route-registry.ts';
import { apiSchemas, type Limits } from './schemas.ts';

export interface V1Deps {
  engine: Engine;
  store: RelationalStore;
  limits: Limits;
  adminApiKey: string | undefined;
  /** Told about tool failures that are not `AppError`s (bugs, not bad input). */
  onUnexpectedError?: (error: unknown, tool: string) => void;
  /** Load-test runs (admin routes); absent where no workflow engine is wired. */
  loadTests?: { service: LoadTests; selfUrl: () => string | null };
}

/** The `/v1` routes over the engine's services, the authenticator they use, and `/mcp`. */
export function createV1({
  engine,
  store,
  limits,
  adminApiKey,
  onUnexpectedError,
  loadTests,
}: V1Deps): {
  routes: RouteSpec[];
  auth: Authenticator;
  /** The `/mcp` endpoint over the same engine and keys; `close()` it on shutdown. */
  mcp: McpRouter;
} {
  const schemas = apiSchemas(limits);
  const auth = createAuthenticator(store, adminApiKey);
  return {
    routes: [
      ...contextRoutes(schemas, engine.context, engine.narratives),
      ...memoryRoutes(schemas, engine.memories, engine.search),
      ...adminRoutes(schemas, engine.admin),
      ...(loadTests ? loadTestRoutes(loadTests.service, loadTests.selfUrl) : []),
    ],
    auth,
    mcp: createMcpRoutes({
      engine,
      schemas,
      auth,
      ...(onUnexpectedError ? { onUnexpectedError } : {}),
    }),
  };
}
