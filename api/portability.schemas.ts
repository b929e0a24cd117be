import { z } from 'zod';
import type { LineParser, ParsedLine } from '../core/portability/import-service.ts';
import type { ApiSchemas } from './schemas.ts';
import { textIssues, type InputIssue } from './validation.ts';

const yesNo = z
  .enum(['true', 'false'], { error: 'expected true or false' })
  .optional()
  .transform((v) => v === 'true');

/** The import and export routes' schemas: one import line is one memory as a save takes it. */
export function portabilitySchemas(s: ApiSchemas) {
  const shape = s.newMemory.shape;
  const isoDate = shape.occurred_at.unwrap();
  const importLine = z
    .strictObject({
      type: z.literal('memory', { error: 'expected "memory" or "narrative"' }).optional(),
      ...shape,
      // An export writes null for "never"; an expiry in the past is refused, as on a save.
      expires_at: shape.expires_at.unwrap().nullable().optional(),
      external_id: z
        .string({ error: 'expected a string' })
        .trim()
        .min(1, 'expected a non-empty id')
        .max(255, 'expected at most 255 characters')
        .nullable()
        .optional()
        .describe('the memory in the system it came from; an import finds it again by this'),
      state: z.enum(['active', 'archived']).optional(),
      created_at: isoDate.optional().describe('when it was saved (default: now)'),
      updated_at: isoDate.optional(),
      // What an export writes beside the memory: a new memory gets its own.
      id: z.string().max(100).optional(),
      revision: z.number().int().optional(),
      index_state: z.string().max(20).optional(),
    })
    .refine((v) => v.expires_at === undefined || v.expires_at === null || v.ttl_s === undefined, {
      message: 'expected either expires_at or ttl_s, not both',
      path: ['ttl_s'],
    });
  const counts = {
    read: z.number().int().describe('non-empty lines read'),
    created: z.number().int(),
    duplicates: z.number().int().describe('memories the user had (same external_id or content)'),
    refused: z.number().int().describe('bad lines, skipped (listed in `errors`, the first 100)'),
    ignored: z.number().int().describe("lines that are not memories (an export's narrative)"),
  };
  const importOut = z.object({
    import_id: z.uuid(),
    state: z.enum(['receiving', 'received', 'refused', 'interrupted']),
    all_or_nothing: z.boolean(),
    ...counts,
    errors: z.array(z.object({ line: z.number().int(), message: z.string() })),
    indexing: z.object({
      state: z.enum(['pending', 'running', 'done']),
      indexed: z.number().int(),
      failed: z.number().int(),
      workflow_id: z.string().nullable().describe('the Temporal run indexing the new memories'),
    }),
    status_url: z.string(),
    created_at: z.iso.datetime(),
    received_at: z.iso.datetime().nullable(),
    indexed_at: z.iso.datetime().nullable(),
  });
  return {
    importLine,
    importQuery: z.strictObject({
      all_or_nothing: yesNo.describe('refuse the whole file (store nothing) if any line is bad'),
    }),
    exportQuery: z.strictObject({
      narrative: yesNo.describe("start with a line holding the user's current narrative"),
    }),
    importOut,
  };
}

export type PortabilitySchemas = ReturnType<typeof portabilitySchemas>;

const describe = (issues: readonly InputIssue[]) =>
  issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');

/**
 * Validates one import line as a save validates its body: JSON, the text
 * rule on every string and key (no NUL, no lone surrogate, 32 levels at
 * most), then the memory's schema. An export's narrative line is ignored.
 * `ttl_s` becomes an expiry counted from `now`.
 */
export function importLineParser(schema: PortabilitySchemas['importLine']): LineParser {
  return (text, now): ParsedLine => {
    // Raw control bytes make the line unreadable as JSON; a NUL is named, as on a save.
    if (text.includes('\u0000')) {
      return { kind: 'refused', message: 'contains a NUL character (U+0000)' };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'refused', message: 'not valid JSON' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { kind: 'refused', message: 'expected a JSON object (one memory)' };
    }
    const bad = textIssues(value);
    if (bad.length > 0) return { kind: 'refused', message: describe(bad) };
    if ((value as { type?: unknown }).type === 'narrative') return { kind: 'ignored' };
    const parsed = schema.safeParse(value);
    if (!parsed.success) return { kind: 'refused', message: describe(parsed.error.issues) };
    const m = parsed.data;
    const ttlExpiry = m.ttl_s === undefined ? null : new Date(now + m.ttl_s * 1000).toISOString();
    return {
      kind: 'memory',
      memory: {
        content: m.content,
        tags: m.tags ?? [],
        metadata: m.metadata ?? {},
        state: m.state ?? 'active',
        externalId: m.external_id ?? null,
        createdAt: m.created_at ?? null,
        updatedAt: m.updated_at ?? null,
        occurredAt: m.occurred_at ?? null,
        expiresAt: m.expires_at ?? ttlExpiry,
      },
    };
  };
}
