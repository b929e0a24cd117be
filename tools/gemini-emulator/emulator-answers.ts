/**
 * The emulator's default answers: what the product asks a model for, answered
 * well-formed, so a product pointed at the emulator plans, extracts and writes
 * portraits with "the model" instead of falling back to its local heuristics.
 *
 * Prompts are recognised by the answer their system instruction asks for (the
 * keys of the JSON it names, or the portrait it describes), not by exact text,
 * so a reworded prompt that asks for the same output is still answered:
 * - planning (`core/planning/planner.ts`): `{strategy, queries, include_narrative, save_worthy}`;
 * - entity extraction (`core/extraction/entity-extractor.ts`): `{entities, relations}`,
 *   or for a JSON array of memories `[{id, text}]`, `{memories: [{id, entities, relations}]}`;
 * - narrative (`core/narrative/narrator.ts`): 3–4 plain-text paragraphs;
 * - conversation extraction (`core/conversations/model-facts.ts`): `{facts}` (see
 *   `emulator-conversation.ts`).
 * Anything else gets the echo answer ({@link echoAnswer}).
 */
import { classifyMessage } from '../../core/classification/query-classifier.ts';
import { localExtract } from '../../core/extraction/entity-extractor.ts';
import { searchQueries } from '../../core/planning/heuristic-planner.ts';
import { conversationFactsFor } from './emulator-conversation.ts';
import { writePortrait } from './emulator-portrait.ts';
import { echoAnswer, type EmulatorGenerateRequest } from './emulator-protocol.ts';

/** Which product prompt a request is, from its system instruction. */
export type ProductPrompt =
  'plan' | 'extraction' | 'batch-extraction' | 'narrative' | 'conversation' | undefined;

export function recognisePrompt(request: EmulatorGenerateRequest): ProductPrompt {
  const system = request.system ?? '';
  if (/"facts"/.test(system) && /"action"/.test(system)) return 'conversation';
  if (/\bstrategy\b/.test(system) && /\bsave_worthy\b/.test(system)) return 'plan';
  if (/"entities"/.test(system) && /"relations"/.test(system)) {
    return /"memories"/.test(system) && batchOf(request.prompt) ? 'batch-extraction' : 'extraction';
  }
  if (/\bportrait\b/i.test(system) && /\bmemories\b/i.test(system)) return 'narrative';
  return undefined;
}

/** A schema-valid answer to each product prompt; the echo answer to anything else. */
export function productAnswer(request: EmulatorGenerateRequest): string {
  switch (recognisePrompt(request)) {
    case 'plan':
      return JSON.stringify(planFor(request.prompt));
    case 'extraction':
      return JSON.stringify(graphFor(request.prompt));
    case 'batch-extraction':
      return JSON.stringify({
        memories: batchOf(request.prompt)!.map(({ id, text }) => ({ id, ...graphFor(text) })),
      });
    case 'narrative':
      return writePortrait(request.prompt);
    case 'conversation':
      return JSON.stringify(conversationFactsFor(request.prompt));
    default:
      return echoAnswer(request);
  }
}

const ANALYTIC =
  /\b(pattern|patterns|over time|changed|evolved|trend|compare|overall|summari[sz]e)\b/i;
const REFLECTIVE = /\b(why|how|should|advice|help|plan|goal|recommend|suggest|relationship)\b/i;
const NAME = /\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’-]+)*/gu;
const SENTENCE_START = new Set(['I', 'What', 'How', 'Why', 'When', 'Where', 'Who', 'Can', 'Could', 'Should', 'Do', 'Did', 'Is', 'Are', 'My', 'The', 'Please', 'Tell']); // prettier-ignore

/** The model's plan for a user's message (`modelPlanSchema` in core/planning/context-plan.ts). */
export function planFor(message: string) {
  const text = message.trim() || 'recent memories';
  const strategy = ANALYTIC.test(text)
    ? 'comprehensive_analysis'
    : REFLECTIVE.test(text)
      ? 'deep_understanding'
      : 'relevant_context';
  const queries = searchQueries(text).map((q) => q.trim().slice(0, 300));
  const names = [...text.matchAll(NAME)]
    .map((m) => m[0])
    .filter((n) => !SENTENCE_START.has(n.split(/\s+/)[0]!));
  // A model names the people and places a question is about: a third, narrow query.
  if (names.length > 0) queries.push([...new Set(names)].join(' ').slice(0, 300));
  return {
    strategy,
    queries: [...new Set(queries.filter((q) => q.length > 0))].slice(0, 3),
    include_narrative: strategy !== 'relevant_context',
    save_worthy: classifyMessage(text).saveHint,
  };
}

/** The memories of a batched extraction prompt (a JSON array of `{id, text}`), or undefined. */
function batchOf(prompt: string): { id: unknown; text: string }[] | undefined {
  try {
    const items = JSON.parse(prompt) as unknown;
    if (!Array.isArray(items) || items.length === 0) return undefined;
    const ok = items.every((m) => typeof (m as { text?: unknown } | null)?.text === 'string');
    return ok ? (items as { id: unknown; text: string }[]) : undefined;
  } catch {
    return undefined;
  }
}

const ORGANIZATION = /\b(Inc|Ltd|LLC|Labs?|Corp|Company|University|College|School|Bank|Group|Hospital|Institute|Club|Studio|Cafe|Café)\b/; // prettier-ignore
const PLACE_BEFORE = /\b(in|to|from|near|visit(?:ed|ing)?)\s+$/i;
/** What a relation says about the types of its two ends. */
const RELATION_TYPES: Record<string, [string, string]> = {
  WORKS_AT: ['person', 'organization'],
  STUDIES_AT: ['person', 'organization'],
  LIVES_IN: ['person', 'place'],
  PARTNER_OF: ['person', 'person'],
  FAMILY_OF: ['person', 'person'],
  KNOWS: ['person', 'person'],
};

/**
 * The model's entities and relations in a memory (`modelGraphSchema` in
 * core/extraction): the local extraction's names, typed as a model would type
 * them (by the relation they take part in, an organisation's suffix, or a
 * place's preposition), with only the relations a verb states.
 */
export function graphFor(memory: string) {
  const local = localExtract(memory);
  const types = new Map<string, string>();
  const relations = local.relations.filter((r) => r.type !== 'RELATED_TO');
  for (const r of relations) {
    const [from, to] = RELATION_TYPES[r.type] ?? ['thing', 'thing'];
    if (!types.has(r.from)) types.set(r.from, from);
    if (!types.has(r.to)) types.set(r.to, to);
  }
  const entities = local.entities
    .filter((e) => e.name.length <= 120)
    .map((e) => ({ name: e.name, type: types.get(e.name) ?? guessType(memory, e.name) }));
  const named = new Set(entities.map((e) => e.name));
  return {
    entities,
    relations: relations.filter((r) => named.has(r.from) && named.has(r.to)),
  };
}

function guessType(memory: string, name: string): string {
  if (ORGANIZATION.test(name)) return 'organization';
  const before = memory.slice(0, memory.indexOf(name));
  return PLACE_BEFORE.test(before) ? 'place' : 'thing';
}
