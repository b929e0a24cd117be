import { z } from 'zod';
import { MAX_TTL_S } from '../core/memories/memory-service.ts';
import { planFallbackSchema } from '../core/planning/context-plan.ts';
import { adminSchemas } from './admin.schemas.ts';
import { scopedBody, type ScopedBody } from './filters.schemas.ts';
import { conversationSchemas } from './conversation.schemas.ts';

export interface Limits {
  maxMemoryChars: number;
  maxTags: number;
}

/**
 * Bounds on a memory's metadata, as a product storing small labels needs: at
 * most 8 KiB as JSON, 64 keys counted over every level, and 5 levels of
 * objects and arrays (the metadata object itself is the first). Deeper or
 * wider metadata is refused with a 400 naming `metadata`.
 */
export const METADATA_LIMITS = { maxBytes: 8192, maxKeys: 64, maxDepth: 5 } as const;

/** How deep a JSON value nests (a scalar is 0, `{}` is 1) and how many object keys it holds. */
export function jsonShape(value: unknown): { depth: number; keys: number } {
  let depth = 0;
  let keys = 0;
  const stack: { value: unknown; level: number }[] = [{ value, level: 1 }];
  while (stack.length > 0) {
    const { value: current, level } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    depth = Math.max(depth, level);
    const children = Array.isArray(current) ? current : Object.values(current);
    if (!Array.isArray(current)) keys += children.length;
    for (const child of children) stack.push({ value: child, level: level + 1 });
  }
  return { depth, keys };
}

/** An ISO 8601 date-time with offset that PostgreSQL can store: years 1 to 9999 in UTC. */
const isoDate = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time' }).refine(
  (text) => {
    const year = new Date(text).getUTCFullYear();
    return year >= 1 && year <= 9999;
  },
  { message: 'expected a date-time from year 1 to 9999 (UTC)' },
);

/** A date-time still to come when the request is read: an expiry in the past would mean nothing. */
const futureDate = isoDate.refine((text) => Date.parse(text) > Date.now(), {
  message: 'expected a time in the future',
});

/** Both ways to give an expiry at once is ambiguous: the caller must choose. */
export const oneExpiry = {
  check: (v: { expires_at?: unknown; ttl_s?: unknown }) =>
    v.expires_at === undefined || v.ttl_s === undefined,
  message: { message: 'expected either expires_at or ttl_s, not both', path: ['ttl_s'] },
};

export const uuidParam = z.strictObject({ id: z.uuid({ error: 'expected a UUID' }) });

/** Trimmed text that must not be empty, with the messages a caller reads when it is wrong. */
function boundedText(
  emptyMessage: string,
  max: number,
  tooLongMessage = `expected at most ${max} characters`,
) {
  return z
    .string({ error: 'expected a string' })
    .trim()
    .min(1, emptyMessage)
    .max(max, tooLongMessage);
}

/** A page size: a whole number from 1 to `max`, `fallback` when absent. */
function pageLimit<N extends z.ZodNumber | z.ZodCoercedNumber>(
  number: N,
  max: number,
  fallback: number,
) {
  return number
    .int('expected a whole number')
    .min(1, 'expected at least 1')
    .max(max, `expected at most ${max}`)
    .default(fallback);
}

/** The fields memories are made of, bounded by the configured limits. */
function memoryFields({ maxMemoryChars, maxTags }: Limits) {
  const tag = boundedText(
    'expected a non-empty tag',
    64,
    'expected a tag of at most 64 characters',
  );
  return {
    tag,
    tags: z
      .array(tag, { error: 'expected an array of tags' })
      .max(maxTags, `expected at most ${maxTags} tags`),
    metadata: z
      .record(z.string(), z.json(), { error: 'expected an object' })
      .refine((m) => JSON.stringify(m).length <= METADATA_LIMITS.maxBytes, {
        message: `expected metadata of at most ${METADATA_LIMITS.maxBytes} bytes as JSON`,
      })
      .refine((m) => jsonShape(m).keys <= METADATA_LIMITS.maxKeys, {
        message: `expected metadata with at most ${METADATA_LIMITS.maxKeys} keys in all`,
      })
      .refine((m) => jsonShape(m).depth <= METADATA_LIMITS.maxDepth, {
        message: `expected metadata nested at most ${METADATA_LIMITS.maxDepth} levels deep`,
      })
      .describe(
        `free-form JSON: at most ${METADATA_LIMITS.maxBytes} bytes, ` +
          `${METADATA_LIMITS.maxKeys} keys in all and ${METADATA_LIMITS.maxDepth} levels deep`,
      ),
    content: boundedText('expected non-empty content', maxMemoryChars),
    occurredAt: isoDate.describe(
      'when the event the memory tells of happened (ISO 8601 with offset); default: the save time',
    ),
    expiresAt: futureDate.describe(
      'when the memory stops existing (ISO 8601 with offset); default: never',
    ),
    externalId: boundedText('expected a non-empty id', 255).describe(
      "the memory's id in your own system, unique per user: saving it again answers with that memory",
    ),
    ttlS: z
      .number({ error: 'expected a number' })
      .int('expected a whole number')
      .min(1, 'expected at least 1')
      .max(MAX_TTL_S, `expected at most ${MAX_TTL_S} (ten years)`)
      .describe('seconds until the memory stops existing; instead of expires_at'),
  };
}

/** What callers send to save, edit, list and search memories. */
function memoryInputSchemas(fields: ReturnType<typeof memoryFields>, scoped: ScopedBody) {
  const { tag, tags, metadata, content, occurredAt, expiresAt, ttlS, externalId } = fields;
  // The fields of one memory, unrefined so other edges can pick from it (`saveOne` validates).
  const newMemory = z.strictObject({
    content,
    tags: tags.optional(),
    metadata: metadata.optional(),
    occurred_at: occurredAt.optional(),
    expires_at: expiresAt.optional(),
    ttl_s: ttlS.optional(),
    external_id: externalId.optional(),
  });
  const saveOne = newMemory.refine(oneExpiry.check, oneExpiry.message);
  const patchFields = {
    content: content.optional(),
    tags: tags.optional(),
    metadata: metadata.optional(),
    state: z.enum(['active', 'archived']).optional(),
    occurred_at: occurredAt.optional(),
    expires_at: expiresAt.nullable().optional().describe('a new expiry, or null to keep for good'),
    ttl_s: ttlS.optional(),
    external_id: externalId.nullable().optional().describe('a new external id, or null: none'),
  };
  return {
    newMemory,
    saveOne,
    newMemories: z.strictObject({
      memories: z
        .array(saveOne, { error: 'expected an array of memories' })
        .min(1, 'expected at least 1 memory')
        .max(100, 'expected at most 100 memories'),
    }),
    memoryPatch: z
      .strictObject(patchFields)
      .refine((p) => Object.keys(p).length > 0, {
        message: `expected at least one of ${Object.keys(patchFields).join(', ')}`,
      })
      .refine(oneExpiry.check, oneExpiry.message),
    listQuery: z.strictObject({
      // Query strings carry text: the limit is coerced to a number.
      limit: pageLimit(z.coerce.number({ error: 'expected a number' }), 200, 50),
      cursor: z.string().max(500, 'expected a cursor this API returned').optional(),
      tag: tag.optional(),
      from: isoDate.optional().describe('only memories whose event happened at or after this'),
      to: isoDate.optional().describe('only memories whose event happened before this'),
      state: z.enum(['active', 'archived']).optional(),
    }),
    searchBody: scoped({
      query: boundedText('expected a non-empty query', 2000),
      limit: pageLimit(z.number({ error: 'expected a number' }), 50, 10),
      tags: tags.optional(),
    }),
  };
}

/** A memory found for a query, with its score and the retrievers (`source`) that found it. */
function rankedMemoryOut(source: z.ZodType<string>) {
  return z.object({
    id: z.uuid(),
    content: z.string(),
    tags: z.array(z.string()),
    score: z.number(),
    created_at: z.iso.datetime(),
    occurred_at: z.iso.datetime(),
    sources: z.array(source),
  });
}

/** What the memory routes answer with. */
function memoryOutputSchemas() {
  const indexState = z.enum(['pending', 'indexed', 'failed']);
  const memoryOut = z.object({
    id: z.uuid(),
    content: z.string(),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    state: z.enum(['active', 'archived']),
    index_state: indexState,
    revision: z.number().int(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    occurred_at: z.iso.datetime().describe('when the event happened; default: created_at'),
    expires_at: z.iso
      .datetime()
      .nullable()
      .describe('when the memory stops existing; null for never'),
    external_id: z.string().nullable().describe("the memory's id in your own system, or null"),
  });
  return {
    memoryOut,
    saveOneOut: z.object({
      id: z.uuid(),
      index_state: indexState,
      created: z.boolean().describe('false when the user already had this content'),
    }),
    saveManyOut: z.object({ ids: z.array(z.uuid()), created: z.array(z.boolean()) }),
    pageOut: z.object({ items: z.array(memoryOut), next_cursor: z.string().nullable() }),
    searchOut: z.object({
      results: z.array(rankedMemoryOut(z.enum(['vector', 'lexical', 'graph', 'time']))),
      degraded: z
        .array(z.string())
        .describe('retrievers that failed or timed out; the results are partial'),
    }),
  };
}

/** The context route's body and answer. */
function contextSchemas(scoped: ScopedBody) {
  const cacheTier = z.enum(['l1', 'l2', 'l3', 'miss', 'off']);
  return {
    contextBody: scoped({
      message: boundedText('expected a non-empty message', 8000),
      is_new_conversation: z.boolean({ error: 'expected true or false' }).default(false),
      depth: z
        .union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)], {
          error: 'expected 0 (no context), 1 (fast), 2 (balanced) or 3 (deep)',
        })
        .default(2),
    }),
    contextOut: z.object({
      context: z.string().describe('the assembled context for the assistant to read'),
      memories: z.array(rankedMemoryOut(z.string())),
      plan: z.object({
        source: z.enum(['classifier', 'cache', 'model', 'heuristic']),
        class: z.enum(['simple', 'complex', 'none']),
        reason: z.string(),
        strategy: z.enum(['relevant_context', 'deep_understanding', 'comprehensive_analysis']),
        queries: z.array(z.string()),
        include_narrative: z.boolean(),
        save_worthy: z.boolean(),
        fallback: planFallbackSchema.describe('why a heuristic plan stands in for the model'),
      }),
      timings: z.record(z.string(), z.number()).describe('milliseconds per stage, and total'),
      cache: z.object({ plan: cacheTier, search: cacheTier }),
      model_calls: z.number().int(),
      degraded: z
        .array(z.string())
        .describe(
          '`name: timeout` or `name: unavailable` per strategy that failed; context is partial',
        ),
    }),
    narrativeOut: z.object({
      content: z.string().describe('a 3–4 paragraph portrait of the user, from their memories'),
      version: z.number().int().describe('1 for the first narrative, then one more per rewrite'),
      data_version: z.number().int().describe("the user's data version it was written from"),
      stale: z.boolean().describe('true when memories changed since; a rewrite is queued'),
      model: z.string().describe('`local` for the deterministic narrator, else the model id'),
      created_at: z.iso.datetime(),
    }),
  };
}

/** Request and response schemas; they validate requests and generate the OpenAPI document. */
export function apiSchemas(limits: Limits) {
  const fields = memoryFields(limits);
  const scoped = scopedBody({ tag: fields.tag, isoDate });
  return {
    ...contextSchemas(scoped),
    ...memoryInputSchemas(fields, scoped),
    ...conversationSchemas(fields),
    ...memoryOutputSchemas(),
    ...adminSchemas(),
  };
}

export type ApiSchemas = ReturnType<typeof apiSchemas>;
