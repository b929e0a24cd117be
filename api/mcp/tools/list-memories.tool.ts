import type { ApiSchemas } from '../../schemas.ts';
import { defineTool, toolResult, type ToolSpec } from '../tool-registry.ts';
import { bulletList, memoryLine } from './tool-text.ts';

/** `list_memories`: what `GET /v1/memories` answers, a page at a time. */
export function listMemoriesTool(s: ApiSchemas): ToolSpec {
  return defineTool({
    name: 'list_memories',
    title: "List the user's memories",
    description:
      "Lists the user's memories, newest first, one page at a time. Pass the next_cursor of " +
      'a page as cursor to get the next one (null means there is no more). Optional filters: ' +
      'limit (1 to 200, default 50), tag, from and to (ISO 8601 date-times with offset), state ' +
      '(active or archived).',
    input: s.listQuery,
    output: s.pageOut,
    annotations: { readOnlyHint: true },
    async run(args, { userId, memories }) {
      const { body } = await memories.list(userId, args);
      const line = (m: (typeof body.items)[number]) => memoryLine(m, `${m.created_at}, ${m.state}`);
      const items = bulletList(body.items, 'No memories.', line);
      const next = body.next_cursor
        ? `\n\nnext_cursor: ${body.next_cursor}`
        : '\n\nThis is the last page.';
      return toolResult(items + next, body);
    },
  });
}
