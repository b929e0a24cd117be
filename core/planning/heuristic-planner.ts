import { classifyMessage } from '../classification/query-classifier.ts';
import type { ContextPlan } from './context-plan.ts';

const STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with about as is are was were be been am do does did ' +
    'i me my mine you your we our they them their he she it its this that these those what which who ' +
    'whom how why when where can could would should will shall may might must have has had not no ' +
    'so than then there here just also very really please tell know think want like get'
  ).split(' '),
);

const REFLECTIVE =
  /\b(why|how (?:do|did|should|can|could)|pattern|over time|overall|summar|compare|change[ds]?|progress|advice|should i|plan|goal|relationship)\b/i;

function keywords(message: string): string[] {
  const words = message.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  return [...new Set(words.filter((w) => w.length > 2 && !STOPWORDS.has(w)))];
}

/**
 * The searches a message asks for without a model: the message itself and,
 * when it has more than three content words, those words alone (a query the
 * embedding is not diluted by phrasing in). The classifier's fast path uses
 * the same, so skipping the planner loses no recall.
 */
export function searchQueries(message: string): string[] {
  const text = message.trim();
  const words = keywords(text);
  const queries = [text.slice(0, 300)];
  if (words.length > 3) queries.push(words.slice(0, 6).join(' '));
  return queries;
}

/**
 * A deterministic plan from the message alone: used when no model is
 * configured, and whenever the model fails, times out or answers badly.
 */
export function heuristicPlan(message: string): ContextPlan {
  const text = message.trim();
  const reflective = REFLECTIVE.test(text);
  const long = text.length > 240;
  const strategy =
    reflective && long
      ? 'comprehensive_analysis'
      : reflective
        ? 'deep_understanding'
        : 'relevant_context';
  const queries = searchQueries(text);
  return {
    strategy,
    queries,
    includeNarrative: strategy !== 'relevant_context',
    // The classifier's rule: statements that tell something about the user, never a
    // question or a request that merely mentions them (saved questions pollute recall).
    saveWorthy: classifyMessage(text).saveHint,
    source: 'heuristic',
  };
}
