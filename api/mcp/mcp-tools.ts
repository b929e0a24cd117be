import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Engine } from '../../core/engine.ts';
import { ContextPresenter } from '../presenters/context.presenter.ts';
import { ConversationPresenter } from '../presenters/conversation.presenter.ts';
import { MemoryPresenter } from '../presenters/memory.presenter.ts';
import type { ApiSchemas } from '../schemas.ts';
import { registerTools, type ToolSpec } from './tool-registry.ts';
import { forgetTool } from './tools/forget.tool.ts';
import { getContextTool } from './tools/get-context.tool.ts';
import { listMemoriesTool } from './tools/list-memories.tool.ts';
import { rememberConversationTool } from './tools/remember-conversation.tool.ts';
import { rememberTool } from './tools/remember.tool.ts';
import { searchMemoriesTool } from './tools/search-memories.tool.ts';
import { updateMemoryTool } from './tools/update-memory.tool.ts';

export { toolError } from './tool-registry.ts';

export const MCP_SERVER_INFO = { name: 'memory-engine', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'memory-engine is the long-term memory of the user you are talking to. Call get_context with ' +
  "the user's message before answering anything that may depend on what you know about them; " +
  'call remember when they tell you something worth keeping (preferences, facts about their ' +
  'life, people, plans), or hand a whole exchange to remember_conversation and let the engine ' +
  'decide. Every tool acts for the user the API key belongs to.';

/** What the tools need: the engine's services and the same schemas the REST routes validate with. */
export interface McpToolDeps {
  engine: Pick<Engine, 'context' | 'memories' | 'search' | 'narratives' | 'conversations'>;
  schemas: ApiSchemas;
  /** Called with errors that are not AppErrors (bugs); the caller sees `internal`. */
  onUnexpectedError?: (error: unknown, tool: string) => void;
}

/** The memory tools, in the order `tools/list` shows them. */
const memoryTools = (s: ApiSchemas): ToolSpec[] => [
  getContextTool(s),
  rememberTool(s),
  rememberConversationTool(s),
  searchMemoriesTool(s),
  listMemoriesTool(s),
  updateMemoryTool(s),
  forgetTool(),
];

/**
 * Registers the memory tools on `server`, every one acting for `userId` (the
 * API key's user): no tool takes a user id. Input schemas are built from the
 * zod schemas of the REST routes and the work is done by the presenters the
 * REST routes call, so both edges validate and answer alike.
 */
export function registerMemoryTools(server: McpServer, userId: string, deps: McpToolDeps): void {
  const { engine } = deps;
  const ctx = {
    userId,
    memories: new MemoryPresenter(engine.memories, engine.search),
    contexts: new ContextPresenter(engine.context, engine.narratives),
    conversations: new ConversationPresenter(engine.conversations),
  };
  registerTools(server, memoryTools(deps.schemas), ctx, deps.onUnexpectedError);
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
