import type { Logger } from 'pino';
import { createAdminService, createMemoryService } from '../core/memories/memory-service.ts';
import { createSearchService } from '../core/retrieval/search-service.ts';
import type { Embedder } from '../core/ports/embedder.ts';
import type { GraphStore } from '../core/ports/graph-store.ts';
import type { IndexingQueue } from '../core/ports/indexing-queue.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import type { VectorIndex } from '../core/ports/vector-index.ts';
import { adminRoutes } from './admin.routes.ts';
import { createAuthenticator } from './auth.ts';
import { memoryRoutes } from './memory.routes.ts';
import type { Authenticator, RouteSpec } from './route-registry.ts';
import { apiSchemas, type Limits } from './schemas.ts';

export interface V1Deps {
  store: RelationalStore;
  vectors: VectorIndex;
  graph: GraphStore;
  embedder: Embedder;
  indexingQueue: IndexingQueue;
  limits: Limits;
  adminApiKey: string | undefined;
  logger: Logger;
}

/** The `/v1` routes and the authenticator they use, wired over the engine's ports. */
export function createV1({ logger, ...deps }: V1Deps): {
  routes: RouteSpec[];
  auth: Authenticator;
} {
  const schemas = apiSchemas(deps.limits);
  const memories = createMemoryService({
    store: deps.store,
    indexingQueue: deps.indexingQueue,
    onIndexRequestError: (error, targets) =>
      logger.warn(
        { err: error, memories: targets.map((t) => t.memoryId) },
        'indexing request failed; the reconciler will retry it',
      ),
  });
  return {
    routes: [
      ...memoryRoutes(schemas, memories, createSearchService(deps)),
      ...adminRoutes(schemas, createAdminService(deps.store)),
    ],
    auth: createAuthenticator(deps.store, deps.adminApiKey),
  };
}
