import { z } from 'zod';
import { uuidParam, type ApiSchemas } from '../../schemas.ts';
import { defineTool, parseArguments, toolResult, type ToolSpec } from '../tool-registry.ts';
import { memoryLine } from './tool-text.ts';

/** `update_memory`: what `PATCH /v1/memories/:id` does, the id among the arguments. */
export function updateMemoryTool(s: ApiSchemas): ToolSpec {
  return defineTool({
    name: 'update_memory',
    title: 'Correct or archive a memory',
    description:
      "Changes one of the user's memories by id (ids come from get_context, search_memories, " +
      'list_memories or remember). Use it when the user corrects something you remembered: ' +
      'pass the new content, tags or metadata, or state "archived" to keep it but leave it ' +
      'out of search ("active" brings it back). Give at least one field besides id. A content ' +
      'or tag change is re-indexed.',
    input: z.strictObject({
      id: uuidParam.shape.id.describe('the id of the memory to change'),
      ...s.memoryPatch.shape,
    }),
    output: s.memoryOut,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    async run({ id, ...patch }, { userId, memories }) {
      // The patch schema also asks for at least one field, which the listed input cannot say.
      const { body } = await memories.edit(userId, id, parseArguments(s.memoryPatch, patch));
      const note = `revision ${body.revision}, ${body.state}`;
      return toolResult(`Updated memory ${memoryLine(body, note)}`, body);
    },
  });
}
