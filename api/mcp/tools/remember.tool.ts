import { z } from 'zod';
import { givenFields } from '../../given-fields.ts';
import { oneExpiry, type ApiSchemas } from '../../schemas.ts';
import { defineTool, toolResult, type ToolSpec } from '../tool-registry.ts';
import { bulletList } from './tool-text.ts';

/** The fields of one memory besides its content, as `POST /v1/memories` takes them. */
const ITEM_FIELDS = ['tags', 'occurred_at', 'expires_at', 'ttl_s'] as const;

/**
 * One memory ({content, tags?, occurred_at?, expires_at? | ttl_s?}) or a list
 * of them, built from the REST save schema, with its rules (one expiry).
 */
function rememberInput(s: ApiSchemas) {
  const fields = s.newMemory.pick({
    content: true,
    tags: true,
    occurred_at: true,
    expires_at: true,
    ttl_s: true,
  });
  const oneMemory = fields.refine(oneExpiry.check, oneExpiry.message);
  const { content, tags, occurred_at, expires_at, ttl_s } = fields.shape;
  return z
    .strictObject({
      content: content.optional().describe('the fact to remember, as a self-contained sentence'),
      tags: tags.describe('optional short labels for the memory'),
      occurred_at,
      expires_at,
      ttl_s,
      memories: z
        .array(oneMemory, { error: 'expected an array of memories' })
        .min(1, 'expected at least 1 memory')
        .max(100, 'expected at most 100 memories')
        .optional()
        .describe(
          'several memories at once, each {content, tags?, occurred_at?, expires_at? or ttl_s?}; ' +
            'instead of content and its fields',
        ),
    })
    .refine((a) => (a.content === undefined) !== (a.memories === undefined), {
      message: 'expected either content (one memory) or memories (a list), not both or neither',
    })
    .refine((a) => a.memories === undefined || ITEM_FIELDS.every((f) => a[f] === undefined), {
      message: `expected ${ITEM_FIELDS.join(', ')} inside each of memories, not beside them`,
    })
    .refine(oneExpiry.check, oneExpiry.message);
}

/** `remember`: what `POST /v1/memories` does, one memory or up to 100. */
export function rememberTool(s: ApiSchemas): ToolSpec {
  return defineTool({
    name: 'remember',
    title: 'Remember something about the user',
    description:
      'Stores a fact about the user for later conversations. Use it when the user shares ' +
      'something lasting: a preference, a fact about their life, work, health, people they ' +
      'know, plans or decisions. Write each memory as one self-contained sentence in the third ' +
      'person or in the user\'s words (for example "My dog is called Biscuit"). Pass {content, ' +
      'tags?} for one memory or {memories: [{content, tags?}, ...]} for up to 100 (stored all ' +
      'or nothing). occurred_at (ISO 8601 with offset) dates the event when it was not now ' +
      '("I moved to Porto in 2019"); expires_at or ttl_s (seconds) make a passing fact ' +
      '("my parking spot this week") disappear at that time. It returns once the memory is ' +
      'stored; content the user already has is not stored twice (created: false). It becomes ' +
      'searchable a few seconds later.',
    input: rememberInput(s),
    output: z.object({ memories: z.array(s.saveOneOut) }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    async run(args, { userId, memories }) {
      const { content, tags, occurred_at, expires_at, ttl_s } = args;
      const items = args.memories ?? [{ content: content!, tags, occurred_at, expires_at, ttl_s }];
      const saved = await memories.save(
        userId,
        items.map((m) => ({
          content: m.content,
          ...givenFields({
            tags: m.tags,
            occurred_at: m.occurred_at,
            expires_at: m.expires_at,
            ttl_s: m.ttl_s,
          }),
        })),
      );
      const lines = bulletList(
        saved,
        '',
        ({ ack, content }) => `${ack.id}: ${ack.created ? 'stored' : 'already known'}: ${content}`,
      );
      const count = `${saved.length} ${saved.length === 1 ? 'memory' : 'memories'}`;
      return toolResult(`Remembered ${count}:\n${lines}`, {
        memories: saved.map(({ ack }) => ack),
      });
    },
  });
}
