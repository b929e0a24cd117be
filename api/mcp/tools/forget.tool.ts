import { z } from 'zod';
import { uuidParam } from '../../schemas.ts';
import { defineTool, toolResult, type ToolSpec } from '../tool-registry.ts';

/** `forget`: what `DELETE /v1/memories/:id` does. */
export function forgetTool(): ToolSpec {
  return defineTool({
    name: 'forget',
    title: 'Forget a memory',
    description:
      "Deletes one of the user's memories for good, by id. Use it when the user asks you to " +
      'forget something or when a memory is wrong and should not be kept; to keep it out of ' +
      'answers without deleting it, use update_memory with state "archived".',
    input: uuidParam,
    output: z.object({ id: z.uuid(), deleted: z.boolean() }),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
    async run({ id }, { userId, memories }) {
      await memories.remove(userId, id);
      return toolResult(`Forgot memory ${id}.`, { id, deleted: true });
    },
  });
}
