import type { MemoryService } from '../core/memories/memory-service.ts';
import type { SearchService } from '../core/retrieval/search-service.ts';
import type { z } from 'zod';
import { MemoryPresenter } from './presenters/memory.presenter.ts';
import { routeGroup, type RouteLink, type RouteResult, type RouteSpec } from './route-registry.ts';
import { uuidParam, type ApiSchemas } from './schemas.ts';

const memoryRoute = routeGroup({ tag: 'memories', auth: 'user' });
const searchRoute = routeGroup({ tag: 'search', auth: 'user' });

type OneMemorySpec<B> = Omit<
  RouteSpec<{ id: string }, unknown, B>,
  'tag' | 'auth' | 'path' | 'params'
>;

/** A route of one memory: `/v1/memories/:id`, the id a UUID. */
const oneMemoryRoute = <B>(spec: OneMemorySpec<B>): RouteSpec =>
  memoryRoute({ ...spec, path: '/v1/memories/:id', params: uuidParam });

/** Where a saved memory's id leads: reading, editing and deleting it. */
const savedMemoryLinks: Record<string, RouteLink> = {
  GetMemory: {
    operationId: 'getMemory',
    parameters: { id: '$response.body#/id' },
    description: 'read the saved memory (a single save; a batch answers with `ids`)',
  },
  UpdateMemory: {
    operationId: 'updateMemory',
    parameters: { id: '$response.body#/id' },
    description: 'edit the saved memory',
  },
  DeleteMemory: {
    operationId: 'deleteMemory',
    parameters: { id: '$response.body#/id' },
    description: 'delete the saved memory',
  },
};

/** `/v1/memories` and `/v1/search`: every route acts for the user the API key names. */
export function memoryRoutes(
  s: ApiSchemas,
  memories: MemoryService,
  search: SearchService,
): RouteSpec[] {
  const present = new MemoryPresenter(memories, search);
  return [
    saveRoute(s, present),
    memoryRoute({
      method: 'get',
      path: '/v1/memories',
      operationId: 'listMemories',
      summary: 'List memories, newest first, with cursor pagination and filters',
      query: s.listQuery,
      responses: { 200: { description: 'one page', schema: s.pageOut } },
      handler: ({ query, userId }) => present.list(userId, query),
    }),
    oneMemoryRoute({
      method: 'get',
      operationId: 'getMemory',
      summary: 'Read one memory',
      responses: { 200: { description: 'the memory', schema: s.memoryOut } },
      handler: ({ params, userId }) => present.read(userId, params.id),
    }),
    oneMemoryRoute({
      method: 'patch',
      operationId: 'updateMemory',
      summary: 'Edit content, tags, metadata, state (active/archived), event time or expiry',
      description:
        'A content or tag change is re-indexed durably; archived memories leave search. ' +
        '`expires_at: null` keeps the memory for good; fields not given keep their values.',
      body: s.memoryPatch,
      errors: [409],
      responses: { 200: { description: 'the edited memory', schema: s.memoryOut } },
      handler: ({ params, body, userId }) => present.edit(userId, params.id, body),
    }),
    oneMemoryRoute({
      method: 'delete',
      operationId: 'deleteMemory',
      summary: 'Delete one memory (and, durably, its vector and graph entries)',
      responses: { 204: { description: 'deleted' } },
      handler: ({ params, userId }) => present.remove(userId, params.id),
    }),
    searchRoute({
      method: 'post',
      path: '/v1/search',
      operationId: 'searchMemories',
      summary: 'Search memories by meaning and by the entities a query names',
      description:
        '`tags` keeps memories with at least one of the tags; `from` and `to` keep memories whose ' +
        'event happened in that range; `filters` narrows by metadata, tags (all/any), event time ' +
        'and state (default active), every part at once, and goes with `tags`/`from`/`to` ' +
        '(giving the same part both ways is a 400). `degraded` lists retrievers that failed or ' +
        'timed out (the results are then partial).',
      body: s.searchBody,
      responses: { 200: { description: 'ranked results', schema: s.searchOut } },
      handler: ({ body, userId }) => present.search(userId, body),
    }),
  ];
}

/** `POST /v1/memories`: one memory (201, or 200 when the user had it) or a batch (201). */
function saveRoute(s: ApiSchemas, present: MemoryPresenter): RouteSpec {
  type SaveBody = z.output<typeof s.saveOne> | z.output<typeof s.newMemories>;
  // One memory or a batch: the key `memories` decides, so errors name the right fields.
  const saveBody = (raw: unknown): z.ZodType<SaveBody> =>
    typeof raw === 'object' && raw !== null && 'memories' in raw ? s.newMemories : s.saveOne;
  return memoryRoute({
    method: 'post',
    path: '/v1/memories',
    operationId: 'saveMemories',
    summary: 'Save one memory, or up to 100 at once',
    description:
      'Acknowledged only once stored. Indexing (embedding, vector index, graph) follows durably; ' +
      '`index_state` shows its progress. Content the user already has is stored once (`created: false`). ' +
      '`occurred_at` dates the event (default: now); `expires_at` or `ttl_s` (not both) make the ' +
      'memory disappear from every read at that time.',
    body: saveBody,
    docsBody: s.saveOne.or(s.newMemories),
    responses: {
      201: {
        description: 'stored',
        schema: s.saveOneOut.or(s.saveManyOut),
        links: savedMemoryLinks,
      },
      200: {
        description: 'already stored (a single memory the user had)',
        schema: s.saveOneOut,
        links: savedMemoryLinks,
      },
    },
    async handler({ body, userId }): Promise<RouteResult> {
      if ('memories' in body) {
        const acks = (await present.save(userId, body.memories)).map((saved) => saved.ack);
        return {
          status: 201,
          body: { ids: acks.map((a) => a.id), created: acks.map((a) => a.created) },
        };
      }
      const [saved] = await present.save(userId, [body]);
      return { status: saved!.ack.created ? 201 : 200, body: saved!.ack };
    },
  });
}
