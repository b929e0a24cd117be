import { z } from 'zod';
import { givenFields } from '../../given-fields.ts';
import type { ApiSchemas } from '../../schemas.ts';
import { defineTool, toolResult, type ToolSpec } from '../tool-registry.ts';
import { bulletList } from './tool-text.ts';

/** One memory ({content, tags?}) or a list of them, built from the REST save schema. */
function rememberInput(s: ApiSchemas) {
  const oneMemory = s.newMemory.pick({ content: true, tags: true });
  return z
    .strictObject({
      content: oneMemory.shape.content
        .optional()
        .describe('the fact to remember, as a self-contained sentence'),
      tags: oneMemory.shape.tags.describe('optional short labels for the memory'),
      memories: z
        .array(oneMemory, { error: 'expected an array of memories' })
        .min(1, 'expected at least 1 memory')
        .max(100, 'expected at most 100 memories')
        .optional()
        .describe('several memories at once, each {content, tags?}; instead of content and tags'),
    })
    .refine((a) => (a.content === undefined) !== (a.memories === undefined), {
      message: 'expected either content (one memory) or memories (a list), not both or neither',
    })
    .refine((a) => a.memories === undefined || a.tags === undefined, {
      message: 'expected tags inside each of memories, not beside them',
    });
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
      'or nothing). It returns once the memory is stored; content the user already has is not ' +
      'stored twice (created: false). It becomes searchable a few seconds later.',
    input: rememberInput(s),
    output: z.object({ memories: z.array(s.saveOneOut) }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    async run(args, { userId, memories }) {
      const items = args.memories ?? [{ content: args.content!, tags: args.tags }];
      const saved = await memories.save(
        userId,
        items.map((m) => ({ content: m.content, ...givenFields({ tags: m.tags }) })),
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
