/**
 * The emulator's answer to the conversation-extraction prompt
 * (`core/conversations/model-facts.ts`): `{facts: [{content, message, action,
 * memory_id?}]}`, as a model would give it. Facts are what the classifier's
 * save rule finds in the user's sentences and, unlike the local rule, in
 * their clauses ("I moved to Lisbon, so I need a dentist" keeps "I moved to
 * Lisbon"). A fact that says what a stored memory says is a `repeat`; one
 * that says the same thing with a different ending ("I live in Porto" →
 * "I live in Lisbon") is an `update` of it; anything else is an `add`.
 */
import type { ConversationMessage } from '../../core/conversations/conversation-types.ts';
import { localFacts, normalisedFact } from '../../core/conversations/local-facts.ts';

interface PromptMessage {
  index: number;
  role: string;
  content: string;
}

interface PromptMemory {
  id: string;
  content: string;
}

const CLAUSE_BREAK = /,\s*(?:so|but|and|because|which means)\s+/gi;

/** The messages and memories of the prompt, or undefined when it is not that prompt's JSON. */
function readPrompt(
  prompt: string,
): { messages: PromptMessage[]; memories: PromptMemory[] } | undefined {
  try {
    const parsed = JSON.parse(prompt) as { messages?: unknown; memories?: unknown };
    if (!Array.isArray(parsed.messages)) return undefined;
    const messages = parsed.messages.filter(
      (m): m is PromptMessage =>
        typeof m === 'object' && m !== null && typeof (m as PromptMessage).content === 'string',
    );
    const memories = (Array.isArray(parsed.memories) ? parsed.memories : []).filter(
      (m): m is PromptMemory =>
        typeof m === 'object' && m !== null && typeof (m as PromptMemory).id === 'string',
    );
    return { messages, memories };
  } catch {
    return undefined;
  }
}

/** True when `fact` restates `memory` with only its last word changed, or more words added. */
function revises(fact: string, memory: string): boolean {
  const a = fact.split(' ');
  const b = memory.split(' ');
  let same = 0;
  while (same < a.length && same < b.length && a[same] === b[same]) same++;
  const shorter = Math.min(a.length, b.length);
  return same >= 3 && same >= shorter - 1;
}

/** The facts a model would extract from the prompt's user turns, decided against its memories. */
export function conversationFactsFor(prompt: string) {
  const read = readPrompt(prompt);
  if (!read) return { facts: [] };
  // Each clause on a line of its own: the local rule reads lines as sentences.
  const turns: ConversationMessage[] = read.messages.map((m) => ({
    role: m.role === 'user' ? 'user' : 'assistant',
    content: m.content.replace(CLAUSE_BREAK, '\n'),
  }));
  const known = read.memories.map((m) => ({ id: m.id, text: normalisedFact(m.content) }));
  const revised = new Set<string>();
  const facts = localFacts(turns).facts.map(({ content, message }) => {
    const text = normalisedFact(content);
    const index = read.messages[message]?.index ?? message;
    const same = known.find((m) => m.text === text);
    if (same) return { content, message: index, action: 'repeat', memory_id: same.id };
    const target = known.find((m) => !revised.has(m.id) && revises(text, m.text));
    if (!target) return { content, message: index, action: 'add' };
    revised.add(target.id);
    return { content, message: index, action: 'update', memory_id: target.id };
  });
  return { facts };
}
