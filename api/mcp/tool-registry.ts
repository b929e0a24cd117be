import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import type { ContextPresenter } from '../presenters/context.presenter.ts';
import type { ConversationPresenter } from '../presenters/conversation.presenter.ts';
import type { MemoryPresenter } from '../presenters/memory.presenter.ts';
import { parseInput } from '../validation.ts';

/** What a tool runs with: the caller (the API key's user) and the presenters REST uses too. */
export interface ToolContext {
  userId: string;
  memories: MemoryPresenter;
  contexts: ContextPresenter;
  conversations: ConversationPresenter;
}

/** One MCP tool: what `tools/list` shows of it, and what a call runs once its arguments are valid. */
export interface ToolSpec<I extends z.ZodType = z.ZodType> {
  name: string;
  title: string;
  description: string;
  /** Validates the arguments; the same schema is listed as the tool's input schema. */
  input: I;
  output: z.ZodObject;
  annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean };
  run(args: z.output<I>, ctx: ToolContext): Promise<CallToolResult>;
}

/** Keeps the tool's input type while it is written, then lists it with the others. */
export const defineTool = <I extends z.ZodObject>(spec: ToolSpec<I>): ToolSpec =>
  spec as unknown as ToolSpec;

/** Parses tool arguments like the REST routes parse bodies: a `bad_request` naming the fields. */
export const parseArguments = <T>(schema: z.ZodType<T>, value: unknown): T =>
  parseInput(schema, value, 'arguments', String);

/** A tool's answer: text for the model to read, and the structured result its output schema describes. */
export const toolResult = (text: string, structured: Record<string, unknown>): CallToolResult => ({
  content: [{ type: 'text', text }],
  structuredContent: structured,
});

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

/** Lists the tool with the SDK, which generates its JSON Schemas from `input` and `output`. */
function listTool(server: McpServer, tool: ToolSpec): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input as z.ZodObject,
      outputSchema: tool.output,
      annotations: { ...tool.annotations, openWorldHint: false },
    },
    // Never called: callTool dispatches (the SDK's generic callback type cannot be
    // satisfied for a schema type parameter, hence the cast).
    (() => {
      throw new Error('dispatched by the memory-engine call handler');
    }) as never,
  );
}

async function callTool(
  tools: ReadonlyMap<string, ToolSpec>,
  params: CallToolRequest['params'],
  ctx: ToolContext,
  onUnexpectedError?: (error: unknown, tool: string) => void,
): Promise<CallToolResult> {
  const tool = tools.get(params.name);
  if (!tool) {
    const names = [...tools.keys()].join(', ');
    return toolError(
      new AppError('not_found', `no tool named ${params.name}; the tools are ${names}`),
    );
  }
  try {
    return await tool.run(parseArguments(tool.input, params.arguments ?? {}), ctx);
  } catch (error) {
    if (error instanceof AppError) return toolError(error);
    onUnexpectedError?.(error, params.name);
    return toolError(new AppError('internal', 'internal error in the memory engine'));
  }
}

/**
 * tools/call as the dispatcher accepts it: with the SDK's own (strict) schema
 * here, a call whose `arguments` is not an object failed as -32603 Internal
 * error; this way the SDK's check answers -32602 Invalid params instead.
 */
const LOOSE_CALL_REQUEST = z.looseObject({
  method: z.literal('tools/call'),
  params: z.looseObject({ name: z.string(), arguments: z.unknown().optional() }),
});

/**
 * Lists `tools` on `server` and answers their calls for `ctx.userId`. Calls
 * are dispatched here rather than by the SDK so that bad input gets the REST
 * error code and message (`bad_request: arguments.content: …`) as a tool error.
 */
export function registerTools(
  server: McpServer,
  tools: readonly ToolSpec[],
  ctx: ToolContext,
  onUnexpectedError?: (error: unknown, tool: string) => void,
): void {
  for (const tool of tools) listTool(server, tool);
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  // Replaces the SDK's tools/call handler (registered by registerTool): same lookup, but
  // our validation and error mapping.
  server.server.setRequestHandler(LOOSE_CALL_REQUEST, (request) =>
    callTool(byName, request.params as CallToolRequest['params'], ctx, onUnexpectedError),
  );
}
