import type { AdminService } from '../core/memories/memory-service.ts';
import { reindexSchemas } from './reindex.schemas.ts';
import { routeGroup, type RouteSpec } from './route-registry.ts';
import { uuidParam, type ApiSchemas } from './schemas.ts';

const adminRoute = routeGroup({ tag: 'admin', auth: 'admin' });

/** `/v1/admin`: users and keys, with the admin key from `ADMIN_API_KEY`. */
export function adminRoutes(s: ApiSchemas, admin: AdminService): RouteSpec[] {
  return [
    adminRoute({
      method: 'post',
      path: '/v1/admin/users',
      summary: 'Create a user and its first API key (shown once, stored hashed)',
      body: s.createUserBody,
      responses: { 201: { description: 'created', schema: s.createUserOut } },
      async handler({ body }) {
        const created = await admin.createUser(body.name ?? null);
        return {
          status: 201,
          body: { user_id: created.user.id, api_key: created.apiKey, key_id: created.keyId },
        };
      },
    }),
    adminRoute({
      method: 'post',
      path: '/v1/admin/users/:id/keys',
      summary: 'Issue another API key for a user',
      params: uuidParam,
      responses: { 201: { description: 'issued', schema: s.issueKeyOut } },
      async handler({ params }) {
        const key = await admin.issueKey(params.id);
        return {
          status: 201,
          body: { user_id: key.userId, api_key: key.apiKey, key_id: key.keyId },
        };
      },
    }),
    adminRoute({
      method: 'delete',
      path: '/v1/admin/keys/:id',
      summary: 'Revoke an API key; it stops working at once',
      params: uuidParam,
      responses: { 204: { description: 'revoked' } },
      async handler({ params }) {
        await admin.revokeKey(params.id);
        return { status: 204 };
      },
    }),
  ];
}

/** Requeues failed memories (see `core/indexing/requeue.ts`); resolves to how many. */
export type RequeueFailed = (userId: string | undefined) => Promise<{ requeued: number }>;

/** `POST /v1/admin/reindex`: failed memories back to pending and requested for indexing. */
export function reindexRoutes(requeueFailed: RequeueFailed): RouteSpec[] {
  return [
    adminRoute({
      method: 'post',
      path: '/v1/admin/reindex',
      summary: "Requeue failed memories for indexing: one user's, or everyone's",
      description:
        'Memories whose indexing failed go back to pending and are requested for ' +
        'indexing again; answers how many. An unknown user is a 404.',
      body: reindexSchemas.reindexBody,
      responses: { 200: { description: 'requeued', schema: reindexSchemas.reindexOut } },
      errors: [404],
      async handler({ body }) {
        return { status: 200, body: await requeueFailed(body.user_id) };
      },
    }),
  ];
}
