import type { z } from 'zod';
import type { ApiSchemas } from '../../schemas.ts';
import { defineTool, parseArguments, toolResult, type ToolSpec } from '../tool-registry.ts';
import { bulletList } from './tool-text.ts';

type ContextOut = z.output<ApiSchemas['contextOut']>;

/** The context, then the memories it used, then which strategies failed (if any). */
function contextText(out: ContextOut): string {
  const used =
    out.memories.length > 0
      ? `\n\nMemories used (id: content):\n${bulletList(out.memories, '', (m) => `${m.id}: ${m.content}`)}`
      : '';
  const text =
    out.context.trim().length > 0
      ? `${out.context}${used}`
      : `No stored memory is relevant to this message.${used}`;
  const partial =
    out.degraded.length > 0
      ? `\n\n(Partial: these retrieval strategies failed: ${out.degraded.join(', ')}.)`
      : '';
  return text + partial;
}

/** `get_context`: what `POST /v1/context` answers, for the user's latest message. */
export function getContextTool(s: ApiSchemas): ToolSpec {
  return defineTool({
    name: 'get_context',
    title: 'Get context about the user',
    description:
      "Returns what you should know about the user before answering their message: the user's " +
      'relevant memories, retrieved by meaning and by the people, places and things the message ' +
      "names. Call it with the user's latest message, verbatim, before you answer anything that " +
      'may depend on their preferences, history, plans or relationships. Set ' +
      'is_new_conversation to true on the first message of a conversation. The result is text ' +
      'to read (empty when nothing is relevant, for example a greeting) and the ids of the ' +
      'memories it used, which update_memory and forget accept. filters (optional) keeps only ' +
      'memories with the given metadata values, tags (all/any), event time (from/to) or state.',
    input: s.contextBody.pick({ message: true, is_new_conversation: true, filters: true }),
    output: s.contextOut,
    annotations: { readOnlyHint: false },
    async run(args, { userId, contexts }) {
      // The tool takes no depth: parsing with the REST body gives it the REST default.
      const { body } = await contexts.context(userId, parseArguments(s.contextBody, args));
      return toolResult(contextText(body), body);
    },
  });
}
