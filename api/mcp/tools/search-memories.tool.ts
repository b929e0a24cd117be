import type { ApiSchemas } from '../../schemas.ts';
import { defineTool, toolResult, type ToolSpec } from '../tool-registry.ts';
import { bulletList, memoryLine } from './tool-text.ts';

/** `search_memories`: what `POST /v1/search` answers. */
export function searchMemoriesTool(s: ApiSchemas): ToolSpec {
  return defineTool({
    name: 'search_memories',
    title: "Search the user's memories",
    description:
      "Searches the user's stored memories by meaning and by the entities the query names, " +
      'best match first. Use it to look something up on purpose (for example "what did I say ' +
      'about my knee?"); for answering a message in general, get_context is better. query is ' +
      'natural language; limit is 1 to 50 (default 10); tags keeps only memories with at ' +
      'least one of those tags; filters keeps only memories with the given metadata values ' +
      '({"project": "apollo", "lang": {"in": ["en", "de"]}}), tags (all/any), event time ' +
      '(from/to) or state. Archived memories are left out unless filters.state says archived.',
    input: s.searchBody,
    output: s.searchOut,
    annotations: { readOnlyHint: true },
    async run(args, { userId, memories }) {
      const { body } = await memories.search(userId, args);
      const line = (r: (typeof body.results)[number]) =>
        memoryLine(r, `score ${r.score.toFixed(3)}`);
      const partial =
        body.degraded.length > 0
          ? `\n\n(Partial: these retrievers failed: ${body.degraded.join(', ')}.)`
          : '';
      return toolResult(bulletList(body.results, 'No memory matches.', line) + partial, body);
    },
  });
}
