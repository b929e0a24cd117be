import type { MemoryService } from '../core/memories/memory-service.ts';
import type { SearchService } from '../core/retrieval/search-service.ts';
import type { z } from 'zod';
import { defineRoute, type RouteSpec } from './route-registry.ts';
import { memoryView, uuidParam, type ApiSchemas } from './schemas.ts';

/** `/v1/memories` and `/v1/search`: every route acts for the user the API key names. */
export function memoryRoutes(
  s: ApiSchemas,
  memories: MemoryService,
  search: SearchService,
): RouteSpec[] {
  type SaveBody = z.output<typeof s.newMemory> | z.output<typeof s.newMemories>;
  // One memory or a batch: the key `memories` decides, so errors name the right fields.
  const saveBody = (raw: unknown): z.ZodType<SaveBody> =>
    typeof raw === 'object' && raw !== null && 'memories' in raw ? s.newMemories : s.newMemory;

  return [
    defineRoute({
      method: 'post',
      path: '/v1/memories',
      tag: 'memories',
      auth: 'user',
      summary: 'Save one memory, or up to 100 at once',
      description:
        'Acknowledged only once stored. Indexing (embedding, vector index, graph) follows durably; ' +
        '`index_state` shows its progress. Content the user already has is stored once (`created: false`).',
      body: saveBody,
      docsBody: s.newMemory.or(s.newMemories),
      responses: {
        201: { description: 'stored', schema: s.saveOneOut.or(s.saveManyOut) },
        200: { description: 'already stored (a single memory the user had)', schema: s.saveOneOut },
      },
      async handler({ body, userId }) {
        const batch = 'memories' in body;
        const results = await memories.save(userId, batch ? body.memories : [body]);
        if (batch) {
          return {
            status: 201,
            body: { ids: results.map((r) => r.memory.id), created: results.map((r) => r.created) },
          };
        }
        const [result] = results;
        return {
          status: result!.created ? 201 : 200,
          body: {
            id: result!.memory.id,
            index_state: result!.memory.indexState,
            created: result!.created,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/memories',
      tag: 'memories',
      auth: 'user',
      summary: 'List memories, newest first, with cursor pagination and filters',
      query: s.listQuery,
      responses: { 200: { description: 'one page', schema: s.pageOut } },
      async handler({ query, userId }) {
        const page = await memories.list(userId, {
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.tag ? { tag: query.tag } : {}),
          ...(query.from ? { from: new Date(query.from) } : {}),
          ...(query.to ? { to: new Date(query.to) } : {}),
          ...(query.state ? { state: query.state } : {}),
        });
        return {
          status: 200,
          body: { items: page.items.map(memoryView), next_cursor: page.nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/memories/:id',
      tag: 'memories',
      auth: 'user',
      summary: 'Read one memory',
      params: uuidParam,
      responses: { 200: { description: 'the memory', schema: s.memoryOut } },
      async handler({ params, userId }) {
        return { status: 200, body: memoryView(await memories.get(userId, params.id)) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/memories/:id',
      tag: 'memories',
      auth: 'user',
      summary: 'Edit content, tags, metadata or state (active/archived)',
      description: 'A content or tag change is re-indexed durably; archived memories leave search.',
      params: uuidParam,
      body: s.memoryPatch,
      responses: { 200: { description: 'the edited memory', schema: s.memoryOut } },
      async handler({ params, body, userId }) {
        return { status: 200, body: memoryView(await memories.update(userId, params.id, body)) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/memories/:id',
      tag: 'memories',
      auth: 'user',
      summary: 'Delete one memory (and, durably, its vector and graph entries)',
      params: uuidParam,
      responses: { 204: { description: 'deleted' } },
      async handler({ params, userId }) {
        await memories.remove(userId, params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/search',
      tag: 'search',
      auth: 'user',
      summary: 'Search memories by meaning and by the entities a query names',
      body: s.searchBody,
      responses: { 200: { description: 'ranked results', schema: s.searchOut } },
      async handler({ body, userId }) {
        const hits = await search.search(userId, {
          query: body.query,
          limit: body.limit,
          ...(body.tags ? { tags: body.tags } : {}),
        });
        return {
          status: 200,
          body: {
            results: hits.map((h) => ({
              id: h.memory.id,
              content: h.memory.content,
              tags: h.memory.tags,
              score: Number(h.score.toFixed(6)),
              created_at: new Date(h.memory.createdAt).toISOString(),
              sources: h.sources,
            })),
          },
        };
      },
    }),
  ];
}
