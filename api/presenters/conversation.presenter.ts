import type { z } from 'zod';
import type { ConversationService } from '../../core/conversations/conversation-service.ts';
import type {
  ConversationInput,
  ConversationResult,
} from '../../core/conversations/conversation-types.ts';
import type { Memory } from '../../core/ports/relational-store.ts';
import { givenFields } from '../given-fields.ts';
import type { ApiSchemas } from '../schemas.ts';
import type { Presented } from './views.ts';

type In<K extends keyof ApiSchemas> = z.output<ApiSchemas[K]>;
type Out<K extends keyof ApiSchemas> = z.output<ApiSchemas[K]>;

/** A conversation as core takes it: times as dates, fields not given left out. */
function conversationInput(body: In<'conversationBody'>): ConversationInput {
  return {
    messages: body.messages.map((m) => ({
      role: m.role,
      content: m.content,
      ...(m.at !== undefined ? { at: new Date(m.at) } : {}),
    })),
    ...givenFields({ tags: body.tags, metadata: body.metadata }),
  };
}

const savedView = (memory: Memory, message: number) => ({
  id: memory.id,
  content: memory.content,
  revision: memory.revision,
  index_state: memory.indexState,
  occurred_at: memory.occurredAt.toISOString(),
  message,
});

/** What a conversation did, as both edges answer it. */
function conversationView(result: ConversationResult): Out<'conversationOut'> {
  const { extraction } = result;
  return {
    created: result.created.map(({ memory, message }) => savedView(memory, message)),
    updated: result.updated.map(({ memory, previous, message }) => ({
      ...savedView(memory, message),
      previous: { revision: previous.revision, content: previous.content },
    })),
    skipped: result.skipped.map(({ content, reason, message, memoryId }) => ({
      content,
      reason,
      message,
      ...(memoryId !== undefined ? { memory_id: memoryId } : {}),
    })),
    extraction: {
      source: extraction.source,
      ...(extraction.fallback ? { fallback: extraction.fallback } : {}),
      model_calls: extraction.modelCalls,
    },
  };
}

/** Conversations in, and the revisions they keep, as both edges (REST and MCP) answer them. */
export class ConversationPresenter {
  constructor(private readonly conversations: ConversationService) {}

  /** Saves what the conversation's user turns hold: 201 when a memory changed, else 200. */
  async remember(
    userId: string,
    body: In<'conversationBody'>,
  ): Promise<Presented<Out<'conversationOut'>>> {
    const result = await this.conversations.remember(userId, conversationInput(body));
    const changed = result.created.length + result.updated.length > 0;
    return { status: changed ? 201 : 200, body: conversationView(result) };
  }

  /** The earlier contents of one of the user's memories, newest first. */
  async revisions(userId: string, memoryId: string): Promise<Presented<Out<'revisionsOut'>>> {
    const revisions = await this.conversations.revisions(userId, memoryId);
    const items = revisions.map((r) => ({
      revision: r.revision,
      content: r.content,
      tags: r.tags,
      metadata: r.metadata,
      occurred_at: r.occurredAt.toISOString(),
      replaced_at: r.replacedAt.toISOString(),
    }));
    return { status: 200, body: { items } };
  }
}
