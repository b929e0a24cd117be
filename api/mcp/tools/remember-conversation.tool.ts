import type { z } from 'zod';
import type { ApiSchemas } from '../../schemas.ts';
import { defineTool, toolResult, type ToolSpec } from '../tool-registry.ts';
import { bulletList } from './tool-text.ts';

type ConversationOut = z.output<ApiSchemas['conversationOut']>;

/** What the conversation changed, one line per memory, then what it skipped and why. */
function conversationText(out: ConversationOut): string {
  const how =
    out.extraction.source === 'model'
      ? 'read by the model'
      : `read by the local rule${out.extraction.fallback ? ` (model: ${out.extraction.fallback})` : ''}`;
  const created = bulletList(out.created, '', (m) => `${m.id}: stored: ${m.content}`);
  const updated = bulletList(
    out.updated,
    '',
    (m) => `${m.id}: updated to revision ${m.revision}: ${m.content} (was: ${m.previous.content})`,
  );
  const skipped = bulletList(
    out.skipped,
    '',
    (s) => `${s.reason}${s.memory_id ? ` (${s.memory_id})` : ''}: ${s.content}`,
  );
  return [
    `Conversation ${how}: ${out.created.length} created, ${out.updated.length} updated, ` +
      `${out.skipped.length} skipped.`,
    ...[created, updated].filter((text) => text !== ''),
    ...(skipped ? [`Skipped:\n${skipped}`] : []),
  ].join('\n');
}

/** `remember_conversation`: what `POST /v1/conversations` does. */
export function rememberConversationTool(s: ApiSchemas): ToolSpec {
  return defineTool({
    name: 'remember_conversation',
    title: 'Remember what matters from a conversation',
    description:
      'Hands the engine a whole exchange, {messages: [{role, content, at?}, ...]} with roles ' +
      'user, assistant or system, and lets it decide what to keep: lasting facts the user ' +
      'stated are stored, a fact that changes something already remembered updates that ' +
      'memory (its old wording is kept as a revision), and what is already known is skipped. ' +
      "Only the user's messages are read for facts. `at` (ISO 8601) dates what a message " +
      'states. Use it at the end of a conversation, or instead of several remember calls; it ' +
      'answers with what it created, updated and skipped, and sending the same exchange again ' +
      'changes nothing.',
    input: s.conversationBody,
    output: s.conversationOut,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    async run(args, { userId, conversations }) {
      const { body } = await conversations.remember(userId, args);
      return toolResult(conversationText(body), body);
    },
  });
}
