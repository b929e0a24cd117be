import type { Request } from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Engine } from '../../core/engine.ts';
import { AppError } from '../../core/errors.ts';
import { contextRoutes } from '../context.routes.ts';
import { memoryRoutes } from '../memory.routes.ts';
import type { RouteSpec } from '../route-registry.ts';
import { uuidParam, type ApiSchemas } from '../schemas.ts';

export const MCP_SERVER_INFO = { name: 'memory-engine', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'memory-engine is the long-term memory of the user you are talking to. Call get_context with ' +
  "the user's message before answering anything that may depend on what you know about them; " +
  'call remember when they tell you something worth keeping (preferences, facts about their ' +
  'life, people, plans). Every tool acts for the user the API key belongs to.';

/** What the tools need: the engine's services and the same schemas the REST routes validate with. */
export interface McpToolDeps {
  engine: Pick<Engine, 'context' | 'memories' | 'search' | 'narratives'>;
  schemas: ApiSchemas;
  /** Called with errors that are not AppErrors (bugs); the caller sees `internal`. */
  onUnexpectedError?: (error: unknown, tool: string) => void;
}

interface ToolDef {
  /** Validates the arguments; the same schema is listed as the tool's input schema. */
  input: z.ZodType;
  run(args: unknown): Promise<CallToolResult>;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return `${['arguments', ...issue.path.map(String)].join('.')}: ${issue.message}`;
}

/** Parses tool arguments like the REST routes parse bodies: a `bad_request` naming the fields. */
function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map(describeIssue);
  throw new AppError('bad_request', issues.join('; '), {
    details: {
      issues: result.error.issues.map((i) => ({
        path: ['arguments', ...i.path.map(String)],
        message: i.message,
      })),
    },
  });
}

/** An AppError as a tool error: the REST envelope's code and message, for the model to read. */
export function toolError(error: AppError): CallToolResult {
  return {
    content: [{ type: 'text', text: `${error.code}: ${error.message}` }],
    isError: true,
    _meta: {
      error: {
        code: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      },
    },
  };
}

const ok = (text: string, structured: Record<string, unknown>): CallToolResult => ({
  content: [{ type: 'text', text }],
  structuredContent: structured,
});

const tagList = (tags: readonly string[]) => (tags.length > 0 ? ` [tags: ${tags.join(', ')}]` : '');

/**
 * Registers the memory tools on `server`, every one acting for `userId` (the
 * API key's user): no tool takes a user id. Input schemas are built from the
 * zod schemas of the REST routes and the work is done by the same route
 * handlers, so both edges validate and answer alike. Tool calls are dispatched
 * here rather than by the SDK so that bad input gets the REST error code and
 * message (`bad_request: arguments.content: …`) as a tool error.
 */
export function registerMemoryTools(server: McpServer, userId: string, deps: McpToolDeps): void {
  const s = deps.schemas;
  const routes = [
    ...contextRoutes(s, deps.engine.context, deps.engine.narratives),
    ...memoryRoutes(s, deps.engine.memories, deps.engine.search),
  ];
  const route = (method: RouteSpec['method'], path: string) => {
    const found = routes.find((r) => r.method === method && r.path === path);
    if (!found) throw new Error(`no REST route ${method} ${path} to back an MCP tool`);
    // The handlers read only params, query, body and userId.
    return (parts: { params?: unknown; query?: unknown; body?: unknown }) =>
      found.handler({
        params: parts.params,
        query: parts.query,
        body: parts.body,
        userId,
        req: undefined as unknown as Request,
      });
  };
  const postContext = route('post', '/v1/context');
  const listMemories = route('get', '/v1/memories');
  const patchMemory = route('patch', '/v1/memories/:id');
  const deleteMemory = route('delete', '/v1/memories/:id');
  const postSearch = route('post', '/v1/search');

  const tools = new Map<string, ToolDef>();
  const define = <I extends z.ZodObject, O extends z.ZodObject>(
    name: string,
    config: {
      title: string;
      description: string;
      input: I;
      output: O;
      annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean };
    },
    run: (args: z.output<I>) => Promise<CallToolResult>,
  ) => {
    // The SDK lists the tool (JSON Schema generated from `input` and `output`); the call
    // handler below validates and runs it.
    server.registerTool(
      name,
      {
        title: config.title,
        description: config.description,
        inputSchema: config.input,
        outputSchema: config.output,
        annotations: { ...config.annotations, openWorldHint: false },
      },
      // Never called: the tools/call handler below dispatches (the SDK's generic callback
      // type cannot be satisfied for a schema type parameter, hence the cast).
      (() => {
        throw new Error('dispatched by the memory-engine call handler');
      }) as never,
    );
    tools.set(name, {
      input: config.input,
      run: (args) => run(parse(config.input, args) as z.output<I>),
    });
  };

  const contextIn = s.contextBody.pick({ message: true, is_new_conversation: true });
  define(
    'get_context',
    {
      title: 'Get context about the user',
      description:
        "Returns what you should know about the user before answering their message: the user's " +
        'relevant memories, retrieved by meaning and by the people, places and things the message ' +
        "names. Call it with the user's latest message, verbatim, before you answer anything that " +
        'may depend on their preferences, history, plans or relationships. Set ' +
        'is_new_conversation to true on the first message of a conversation. The result is text ' +
        'to read (empty when nothing is relevant, for example a greeting) and the ids of the ' +
        'memories it used, which update_memory and forget accept.',
      input: contextIn,
      output: s.contextOut,
      annotations: { readOnlyHint: false },
    },
    async (args) => {
      const { body } = await postContext({ body: parse(s.contextBody, args) });
      const out = body as z.output<typeof s.contextOut>;
      const used =
        out.memories.length > 0
          ? `\n\nMemories used (id: content):\n${out.memories.map((m) => `- ${m.id}: ${m.content}`).join('\n')}`
          : '';
      const text =
        out.context.trim().length > 0
          ? `${out.context}${used}`
          : `No stored memory is relevant to this message.${used}`;
      const partial =
        out.degraded.length > 0
          ? `\n\n(Partial: these retrieval strategies failed: ${out.degraded.join(', ')}.)`
          : '';
      return ok(text + partial, out);
    },
  );

  const oneMemory = s.newMemory.pick({ content: true, tags: true });
  const rememberIn = z
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
  const rememberOut = z.object({ memories: z.array(s.saveOneOut) });
  define(
    'remember',
    {
      title: 'Remember something about the user',
      description:
        'Stores a fact about the user for later conversations. Use it when the user shares ' +
        'something lasting: a preference, a fact about their life, work, health, people they ' +
        'know, plans or decisions. Write each memory as one self-contained sentence in the third ' +
        'person or in the user\'s words (for example "My dog is called Biscuit"). Pass {content, ' +
        'tags?} for one memory or {memories: [{content, tags?}, ...]} for up to 100 (stored all ' +
        'or nothing). It returns once the memory is stored; content the user already has is not ' +
        'stored twice (created: false). It becomes searchable a few seconds later.',
      input: rememberIn,
      output: rememberOut,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    },
    async (args) => {
      const items = args.memories ?? [{ content: args.content!, tags: args.tags }];
      const results = await deps.engine.memories.save(
        userId,
        items.map((m) => ({ content: m.content, ...(m.tags ? { tags: m.tags } : {}) })),
      );
      const memories = results.map((r) => ({
        id: r.memory.id,
        index_state: r.memory.indexState,
        created: r.created,
      }));
      const lines = results.map(
        (r) => `- ${r.memory.id}: ${r.created ? 'stored' : 'already known'}: ${r.memory.content}`,
      );
      return ok(
        `Remembered ${results.length} ${results.length === 1 ? 'memory' : 'memories'}:\n${lines.join('\n')}`,
        { memories },
      );
    },
  );

  define(
    'search_memories',
    {
      title: "Search the user's memories",
      description:
        "Searches the user's stored memories by meaning and by the entities the query names, " +
        'best match first. Use it to look something up on purpose (for example "what did I say ' +
        'about my knee?"); for answering a message in general, get_context is better. query is ' +
        'natural language; limit is 1 to 50 (default 10); tags keeps only memories with all of ' +
        'those tags. Archived memories are left out.',
      input: s.searchBody,
      output: s.searchOut,
      annotations: { readOnlyHint: true },
    },
    async (args) => {
      const { body } = await postSearch({ body: args });
      const out = body as z.output<typeof s.searchOut>;
      const text =
        out.results.length === 0
          ? 'No memory matches.'
          : out.results
              .map((r) => `- ${r.id} (score ${r.score.toFixed(3)}): ${r.content}${tagList(r.tags)}`)
              .join('\n');
      return ok(text, out);
    },
  );

  define(
    'list_memories',
    {
      title: "List the user's memories",
      description:
        "Lists the user's memories, newest first, one page at a time. Pass the next_cursor of " +
        'a page as cursor to get the next one (null means there is no more). Optional filters: ' +
        'limit (1 to 200, default 50), tag, from and to (ISO 8601 date-times with offset), state ' +
        '(active or archived).',
      input: s.listQuery,
      output: s.pageOut,
      annotations: { readOnlyHint: true },
    },
    async (args) => {
      const { body } = await listMemories({ query: args });
      const out = body as z.output<typeof s.pageOut>;
      const text =
        (out.items.length === 0
          ? 'No memories.'
          : out.items
              .map((m) => `- ${m.id} (${m.created_at}, ${m.state}): ${m.content}${tagList(m.tags)}`)
              .join('\n')) +
        (out.next_cursor ? `\n\nnext_cursor: ${out.next_cursor}` : '\n\nThis is the last page.');
      return ok(text, out);
    },
  );

  const updateIn = z.strictObject({
    id: uuidParam.shape.id.describe('the id of the memory to change'),
    ...s.memoryPatch.shape,
  });
  define(
    'update_memory',
    {
      title: 'Correct or archive a memory',
      description:
        "Changes one of the user's memories by id (ids come from get_context, search_memories, " +
        'list_memories or remember). Use it when the user corrects something you remembered: ' +
        'pass the new content, tags or metadata, or state "archived" to keep it but leave it ' +
        'out of search ("active" brings it back). Give at least one field besides id. A content ' +
        'or tag change is re-indexed.',
      input: updateIn,
      output: s.memoryOut,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    async ({ id, ...patch }) => {
      const { body } = await patchMemory({
        params: { id },
        body: parse(s.memoryPatch, patch),
      });
      const out = body as z.output<typeof s.memoryOut>;
      return ok(
        `Updated memory ${out.id} (revision ${out.revision}, ${out.state}): ${out.content}${tagList(out.tags)}`,
        out,
      );
    },
  );

  define(
    'forget',
    {
      title: 'Forget a memory',
      description:
        "Deletes one of the user's memories for good, by id. Use it when the user asks you to " +
        'forget something or when a memory is wrong and should not be kept; to keep it out of ' +
        'answers without deleting it, use update_memory with state "archived".',
      input: uuidParam,
      output: z.object({ id: z.uuid(), deleted: z.boolean() }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
    },
    async ({ id }) => {
      await deleteMemory({ params: { id } });
      return ok(`Forgot memory ${id}.`, { id, deleted: true });
    },
  );

  // Replaces the SDK's tools/call handler (registered by registerTool above): same lookup,
  // but our validation and error mapping.
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const name = request.params.name;
    const tool = tools.get(name);
    if (!tool) {
      return toolError(
        new AppError(
          'not_found',
          `no tool named ${name}; the tools are ${[...tools.keys()].join(', ')}`,
        ),
      );
    }
    try {
      return await tool.run(request.params.arguments ?? {});
    } catch (error) {
      if (error instanceof AppError) return toolError(error);
      deps.onUnexpectedError?.(error, name);
      return toolError(new AppError('internal', 'internal error in the memory engine'));
    }
  });
}

/** A fresh MCP server with the memory tools for one user. */
export function createMcpServer(userId: string, deps: McpToolDeps): McpServer {
  const server = new McpServer(MCP_SERVER_INFO, {
    instructions: INSTRUCTIONS,
    capabilities: { tools: { listChanged: false } },
  });
  registerMemoryTools(server, userId, deps);
  return server;
}
