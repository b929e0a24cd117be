import type { Engine } from '../core/engine.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import { adminRoutes } from './admin.routes.ts';
import { createAuthenticator } from './auth.ts';
import { contextRoutes } from './context.routes.ts';
import { memoryRoutes } from './memory.routes.ts';
import type { Authenticator, RouteSpec } from './route-registry.ts';
import { apiSchemas, type Limits } from './schemas.ts';

export interface V1Deps {
  engine: Engine;
  store: RelationalStore;
  limits: Limits;
  adminApiKey: string | undefined;
}

/** The `/v1` routes over the engine's services, and the authenticator they use. */
export function createV1({ engine, store, limits, adminApiKey }: V1Deps): {
  routes: RouteSpec[];
  auth: Authenticator;
} {
  const schemas = apiSchemas(limits);
  return {
    routes: [
      ...contextRoutes(schemas, engine.context),
      ...memoryRoutes(schemas, engine.memories, engine.search),
      ...adminRoutes(schemas, engine.admin),
    ],
    auth: createAuthenticator(store, adminApiKey),
  };
}
