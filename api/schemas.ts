import { z } from 'zod';
import type { Memory } from '../core/ports/relational-store.ts';

export interface Limits {
  maxMemoryChars: number;
  maxTags: number;
}

const MAX_METADATA_BYTES = 8192;

export const uuidParam = z.strictObject({ id: z.uuid({ error: 'expected a UUID' }) });

/** Request and response schemas; they validate requests and generate the OpenAPI document. */
export function apiSchemas({ maxMemoryChars, maxTags }: Limits) {
  const tag = z
    .string({ error: 'expected a string' })
    .trim()
    .min(1, 'expected a non-empty tag')
    .max(64, 'expected a tag of at most 64 characters');
  const tags = z
    .array(tag, { error: 'expected an array of tags' })
    .max(maxTags, `expected at most ${maxTags} tags`);
  const metadata = z
    .record(z.string(), z.json(), { error: 'expected an object' })
    .refine((m) => JSON.stringify(m).length <= MAX_METADATA_BYTES, {
      message: `expected metadata of at most ${MAX_METADATA_BYTES} bytes as JSON`,
    });
  const content = z
    .string({ error: 'expected a string' })
    .trim()
    .min(1, 'expected non-empty content')
    .max(maxMemoryChars, `expected at most ${maxMemoryChars} characters`);

  const newMemory = z.strictObject({
    content,
    tags: tags.optional(),
    metadata: metadata.optional(),
  });
  const newMemories = z.strictObject({
    memories: z
      .array(newMemory, { error: 'expected an array of memories' })
      .min(1, 'expected at least 1 memory')
      .max(100, 'expected at most 100 memories'),
  });
  const memoryPatch = z
    .strictObject({
      content: content.optional(),
      tags: tags.optional(),
      metadata: metadata.optional(),
      state: z.enum(['active', 'archived']).optional(),
    })
    .refine((p) => Object.keys(p).length > 0, {
      message: 'expected at least one of content, tags, metadata, state',
    });

  const isoDate = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time' });
  const listQuery = z.strictObject({
    limit: z.coerce
      .number({ error: 'expected a number' })
      .int('expected a whole number')
      .min(1, 'expected at least 1')
      .max(200, 'expected at most 200')
      .default(50),
    cursor: z.string().max(500, 'expected a cursor this API returned').optional(),
    tag: tag.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    state: z.enum(['active', 'archived']).optional(),
  });
  const searchBody = z.strictObject({
    query: z
      .string({ error: 'expected a string' })
      .trim()
      .min(1, 'expected a non-empty query')
      .max(2000, 'expected at most 2000 characters'),
    limit: z
      .number({ error: 'expected a number' })
      .int('expected a whole number')
      .min(1, 'expected at least 1')
      .max(50, 'expected at most 50')
      .default(10),
    tags: tags.optional(),
  });

  const contextBody = z.strictObject({
    message: z
      .string({ error: 'expected a string' })
      .trim()
      .min(1, 'expected a non-empty message')
      .max(8000, 'expected at most 8000 characters'),
    is_new_conversation: z.boolean({ error: 'expected true or false' }).default(false),
    depth: z
      .union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)], {
        error: 'expected 0 (no context), 1 (fast), 2 (balanced) or 3 (deep)',
      })
      .default(2),
  });
  const cacheTier = z.enum(['l1', 'l2', 'l3', 'miss', 'off']);
  const contextOut = z.object({
    context: z.string().describe('the assembled context for the assistant to read'),
    memories: z.array(
      z.object({
        id: z.uuid(),
        content: z.string(),
        tags: z.array(z.string()),
        score: z.number(),
        created_at: z.iso.datetime(),
        sources: z.array(z.string()),
      }),
    ),
    plan: z.object({
      source: z.enum(['classifier', 'cache', 'model', 'heuristic']),
      class: z.enum(['simple', 'complex', 'none']),
      reason: z.string(),
      strategy: z.enum(['relevant_context', 'deep_understanding', 'comprehensive_analysis']),
      queries: z.array(z.string()),
      include_narrative: z.boolean(),
      save_worthy: z.boolean(),
    }),
    timings: z.record(z.string(), z.number()).describe('milliseconds per stage, and total'),
    cache: z.object({ plan: cacheTier, search: cacheTier }),
    model_calls: z.number().int(),
    degraded: z
      .array(z.string())
      .describe('strategies that failed or timed out; context is partial'),
  });

  const memoryOut = z.object({
    id: z.uuid(),
    content: z.string(),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    state: z.enum(['active', 'archived']),
    index_state: z.enum(['pending', 'indexed', 'failed']),
    revision: z.number().int(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  });

  return {
    contextBody,
    contextOut,
    newMemory,
    newMemories,
    memoryPatch,
    listQuery,
    searchBody,
    memoryOut,
    saveOneOut: z.object({
      id: z.uuid(),
      index_state: z.enum(['pending', 'indexed', 'failed']),
      created: z.boolean().describe('false when the user already had this content'),
    }),
    saveManyOut: z.object({ ids: z.array(z.uuid()), created: z.array(z.boolean()) }),
    narrativeOut: z.object({
      content: z.string().describe('a 3–4 paragraph portrait of the user, from their memories'),
      version: z.number().int().describe('1 for the first narrative, then one more per rewrite'),
      data_version: z.number().int().describe("the user's data version it was written from"),
      stale: z.boolean().describe('true when memories changed since; a rewrite is queued'),
      model: z.string().describe('`local` for the deterministic narrator, else the model id'),
      created_at: z.iso.datetime(),
    }),
    pageOut: z.object({ items: z.array(memoryOut), next_cursor: z.string().nullable() }),
    searchOut: z.object({
      results: z.array(
        z.object({
          id: z.uuid(),
          content: z.string(),
          tags: z.array(z.string()),
          score: z.number(),
          created_at: z.iso.datetime(),
          sources: z.array(z.enum(['vector', 'lexical', 'graph'])),
        }),
      ),
    }),
    createUserBody: z.strictObject({
      name: z.string().trim().min(1).max(200, 'expected at most 200 characters').optional(),
    }),
    createUserOut: z.object({ user_id: z.uuid(), api_key: z.string(), key_id: z.uuid() }),
    issueKeyOut: z.object({ user_id: z.uuid(), api_key: z.string(), key_id: z.uuid() }),
  };
}

export type ApiSchemas = ReturnType<typeof apiSchemas>;

/** A memory as the API shows it. */
export function memoryView(m: Memory) {
  return {
    id: m.id,
    content: m.content,
    tags: m.tags,
    metadata: m.metadata,
    state: m.state,
    index_state: m.indexState,
    revision: m.revision,
    created_at: new Date(m.createdAt).toISOString(),
    updated_at: new Date(m.updatedAt).toISOString(),
  };
}
