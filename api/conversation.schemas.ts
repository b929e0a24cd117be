import { z } from 'zod';
import { conversationRoles, skipReasons } from '../core/conversations/conversation-types.ts';
import { planFallbackSchema } from '../core/planning/context-plan.ts';

/**
 * Bounds on a conversation sent to `POST /v1/conversations`: at most 200
 * messages of at most 16,000 characters each, 100,000 characters in all
 * (the request body limit, `BODY_LIMIT_KB`, applies too).
 */
export const CONVERSATION_LIMITS = {
  maxMessages: 200,
  maxMessageChars: 16_000,
  maxTotalChars: 100_000,
} as const;

/**
 * What callers send to `POST /v1/conversations` (and `remember_conversation`),
 * and the answers; built over the memory fields of `api/schemas.ts`, whose
 * types it keeps (the client's generated types read them).
 */
export function conversationSchemas<
  T extends z.ZodType<string[]>,
  M extends z.ZodType<Record<string, unknown>>,
  D extends z.ZodType<string, string>,
>({ tags, metadata, occurredAt }: { tags: T; metadata: M; occurredAt: D }) {
  const { maxMessages, maxMessageChars, maxTotalChars } = CONVERSATION_LIMITS;
  const message = z.strictObject({
    role: z.enum(conversationRoles, { error: 'expected user, assistant or system' }),
    content: z
      .string({ error: 'expected a string' })
      .max(maxMessageChars, `expected at most ${maxMessageChars} characters`),
    at: occurredAt
      .optional()
      .describe('when it was said (ISO 8601 with offset): the occurred_at of what it states'),
  });
  const messages = z
    .array(message, { error: 'expected an array of messages' })
    .min(1, 'expected at least 1 message')
    .max(maxMessages, `expected at most ${maxMessages} messages`)
    .refine((list) => list.reduce((n, m) => n + m.content.length, 0) <= maxTotalChars, {
      message: `expected at most ${maxTotalChars} characters of content in all`,
    })
    .refine((list) => list.some((m) => m.role === 'user' && m.content.trim().length > 0), {
      message: 'expected at least one non-empty message with role user',
    });
  const turn = z.number().int().describe('index in `messages` of the user turn it comes from');
  const savedMemory = {
    id: z.uuid(),
    content: z.string(),
    revision: z.number().int(),
    index_state: z.enum(['pending', 'indexed', 'failed']),
    occurred_at: z.iso.datetime(),
    message: turn,
  };
  return {
    conversationBody: z.strictObject({
      messages,
      tags: tags.optional().describe('given to every memory the conversation creates'),
      metadata: metadata.optional().describe('given to every memory the conversation creates'),
    }),
    conversationOut: z.object({
      created: z.array(z.object(savedMemory)),
      updated: z.array(
        z.object({
          ...savedMemory,
          previous: z
            .object({ revision: z.number().int(), content: z.string() })
            .describe('the content it replaced, kept (GET /v1/memories/:id/revisions)'),
        }),
      ),
      skipped: z.array(
        z.object({
          content: z.string(),
          reason: z.enum(skipReasons),
          message: turn,
          memory_id: z.uuid().optional().describe('the memory that already says it, or changed'),
        }),
      ),
      extraction: z.object({
        source: z
          .enum(['model', 'local'])
          .describe("the model, or the classifier's save rule, sentence by sentence"),
        fallback: planFallbackSchema.describe('why the local rule stood in for the model'),
        model_calls: z.number().int(),
      }),
    }),
    revisionsOut: z.object({
      items: z.array(
        z.object({
          revision: z.number().int(),
          content: z.string(),
          tags: z.array(z.string()),
          metadata: z.record(z.string(), z.unknown()),
          occurred_at: z.iso.datetime(),
          replaced_at: z.iso.datetime(),
        }),
      ),
    }),
  };
}
