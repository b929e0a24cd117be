import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { PlanFallback } from '../planning/context-plan.ts';
import type { LanguageModel } from '../ports/language-model.ts';
import type { Memory } from '../ports/relational-store.ts';
import type { ConversationMessage, ExtractedFact } from './conversation-types.ts';

/** The most facts a model answer may hold; more is off-schema. */
export const MAX_MODEL_FACTS = 200;
/** Characters of each candidate memory shown to the model. */
const CANDIDATE_CHARS = 2000;

export const CONVERSATION_SYSTEM = `You decide what a personal-memory engine keeps from a conversation.
The prompt is one JSON object: "messages" (each with its "index", "role" and "content") and
"memories" (the user's stored memories most like this conversation, each with "id" and "content").
Find the lasting facts about the user (preferences, facts about their life, work, health, people,
plans, decisions) that the user states in messages whose role is "user". Never take facts from
assistant or system messages, and never keep questions, requests or small talk. Write each fact
as one self-contained sentence, in the user's words where possible.
Answer with one JSON object and nothing else:
{"facts": [{"content": the fact,
            "message": the index of the user message it comes from,
            "action": "add" when no stored memory says it,
                      "update" when it changes or corrects a stored memory (then "content" is the
                      whole new text of that memory),
                      "repeat" when a stored memory already says it,
            "memory_id": the id of that stored memory, for "update" and "repeat" only}]}
An empty "facts" list is a valid answer.`;

// A UTF-16 surrogate without its pair, which PostgreSQL cannot store (nor a NUL).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const storable = (text: string) => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

/** What the model must answer; anything else is off-schema and the local rule stands in. */
export function modelFactsSchema(maxChars: number) {
  const fact = z
    .object({
      content: z
        .string()
        .trim()
        .min(1)
        .max(maxChars)
        .refine(storable, 'holds a NUL or a lone surrogate'),
      message: z.number().int().min(0),
      action: z.enum(['add', 'update', 'repeat']),
      memory_id: z.string().max(100).optional(),
    })
    .strict()
    .refine((f) => f.action === 'add' || f.memory_id !== undefined, {
      message: 'update and repeat name a memory_id',
    });
  return z.object({ facts: z.array(fact).max(MAX_MODEL_FACTS) }).strict();
}

/** The prompt: the conversation and the candidate memories, as JSON. */
export function conversationPrompt(
  messages: readonly ConversationMessage[],
  candidates: readonly Memory[],
): string {
  return JSON.stringify({
    messages: messages.map((m, index) => ({ index, role: m.role, content: m.content })),
    memories: candidates.map((m) => ({ id: m.id, content: m.content.slice(0, CANDIDATE_CHARS) })),
  });
}

export type ModelFactsOutcome =
  | { facts: ExtractedFact[]; modelCalls: number }
  | { fallback: PlanFallback; modelCalls: number; detail: string };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return undefined;
  }
}

/**
 * Asks the model for the conversation's facts and validates its answer: the
 * facts, or why there are none from the model (off-schema, timeout, rate
 * limited, provider error). An update or repeat that names a memory outside
 * `candidates` (not the user's, or not shown) becomes an add: the model can
 * only ever act on the memories it was shown.
 */
export async function modelFacts(
  model: LanguageModel,
  input: {
    messages: readonly ConversationMessage[];
    candidates: readonly Memory[];
    maxChars: number;
    timeoutMs: number;
  },
): Promise<ModelFactsOutcome> {
  let text: string;
  try {
    const answer = await model.generate({
      system: CONVERSATION_SYSTEM,
      prompt: conversationPrompt(input.messages, input.candidates),
      json: true,
      temperature: 0,
      timeoutMs: input.timeoutMs,
    });
    text = answer.text;
  } catch (error) {
    const code = error instanceof AppError ? error.code : 'model error';
    const fallback: PlanFallback =
      code === 'timeout' ? 'timeout' : code === 'rate_limited' ? 'rate_limited' : 'model_error';
    return { fallback, modelCalls: 1, detail: code };
  }
  const parsed = modelFactsSchema(input.maxChars).safeParse(parseJson(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const detail = `off-schema: ${issue?.path.join('.')} ${issue?.message}`;
    return { fallback: 'off_schema', modelCalls: 1, detail };
  }
  const shown = new Set(input.candidates.map((m) => m.id));
  const facts = parsed.data.facts.map((f): ExtractedFact => {
    const { content, message, action, memory_id: memoryId } = f;
    if (action === 'add' || memoryId === undefined || !shown.has(memoryId)) {
      return { content, message, action: 'add' };
    }
    return { content, message, action, memoryId };
  });
  return { facts, modelCalls: 1 };
}
