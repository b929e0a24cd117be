import {
  COMPLEX_REASONS,
  COURTESY_FILLERS,
  COURTESY_WORDS,
  CURLY_QUOTES,
  EDGE_CHARS,
  EMOJI,
  FACT_NOUN,
  GENERAL_LOOKUP,
  GREETING_WORD,
  LEADING_FILLER,
  LOOKUP_BLOCKERS,
  LOOKUP_SHAPES,
  MAX_LOOKUP_WORDS,
  MAX_SCAN_CHARS,
  MAX_SIMPLE_CHARS,
  MAX_SIMPLE_WORDS,
  MULTI_PART,
  NON_ENGLISH,
  REMEMBER,
  SELF_DISCLOSURE,
  SMALL_TALK,
  SPACES,
  STRETCHED,
  STATEMENT_BLOCKERS,
  STATEMENT_SHAPES,
  THANKS_WORD,
  TRAILING_FILLER,
  WARM_UP_MESSAGES,
} from './patterns.ts';

/** Which rule decided a classification. */
export type ClassificationReason =
  | 'empty'
  | 'greeting'
  | 'thanks'
  | 'small_talk'
  | 'general_lookup'
  | 'fact_lookup'
  | 'remember'
  | 'statement'
  | 'long'
  | 'multi_part'
  | 'reflective'
  | 'advice'
  | 'emotional'
  | 'task'
  | 'non_english'
  | 'default';

/** How a message should be served, decided from its text alone. */
export interface Classification {
  /**
   * `simple`: retrieve directly with the message as the query (or not at all),
   * skipping AI planning. `complex`: let the planner decide.
   */
  kind: 'simple' | 'complex';
  /** The rule that fired, for logs and the benchmark. */
  reason: ClassificationReason;
  /** False only when no memories can help: greetings, thanks, small talk, general lookups. */
  needsContext: boolean;
  /** The message states something about the user worth saving. */
  saveHint: boolean;
}

function simple(
  reason: ClassificationReason,
  needsContext: boolean,
  saveHint = false,
): Classification {
  return { kind: 'simple', reason, needsContext, saveHint };
}

function normalize(message: string): string {
  return message
    .toLowerCase()
    .replace(CURLY_QUOTES, "'")
    .replace(EMOJI, ' ')
    .replace(STRETCHED, '$1')
    .replace(SPACES, ' ');
}

/** Strips edge punctuation in linear time (a `[…]+$` regex is quadratic on long runs). */
function trimEdges(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && EDGE_CHARS.includes(text.charAt(start))) start++;
  while (end > start && EDGE_CHARS.includes(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Counts space-separated words without allocating (the text is already single-spaced). */
function wordCount(text: string): number {
  if (text.length === 0) return 0;
  let count = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 32) count++;
  return count;
}

/** Greeting, thanks or goodbye made only of courtesy words ("ok thanks, bye"), or null. */
function courtesyReason(text: string): ClassificationReason | null {
  let core = false;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    const wordChar = (c >= 97 && c <= 122) || c === 39;
    if (wordChar && start < 0) start = i;
    if (!wordChar && start >= 0) {
      const word = text.slice(start, i);
      start = -1;
      if (COURTESY_WORDS.has(word)) core = true;
      else if (!COURTESY_FILLERS.has(word)) return null;
    } else if (!wordChar && c !== 32 && c !== 44 && c !== 46 && c !== 33 && c !== 63) {
      return null;
    }
  }
  if (!core) return null;
  if (THANKS_WORD.test(text)) return 'thanks';
  return GREETING_WORD.test(text) ? 'greeting' : 'small_talk';
}

function isFactLookup(body: string): boolean {
  for (const shape of LOOKUP_SHAPES) {
    const groups = shape.exec(body)?.groups;
    if (!groups) continue;
    const { rest = '', head } = groups;
    if (wordCount(rest) > MAX_LOOKUP_WORDS || LOOKUP_BLOCKERS.test(rest)) return false;
    return head === undefined || FACT_NOUN.test(head);
  }
  return false;
}

function saveReason(body: string): ClassificationReason | null {
  const remembered = REMEMBER.exec(body)?.[1];
  if (remembered !== undefined) return STATEMENT_BLOCKERS.test(remembered) ? null : 'remember';
  if (STATEMENT_BLOCKERS.test(body)) return null;
  for (const shape of STATEMENT_SHAPES) if (shape.test(body)) return 'statement';
  return null;
}

function complex(text: string, reason?: ClassificationReason): Classification {
  let why = reason ?? (NON_ENGLISH.test(text) ? 'non_english' : 'default');
  if (why === 'default') why = COMPLEX_REASONS.find(([, p]) => p.test(text))?.[0] ?? why;
  return { kind: 'complex', reason: why, needsContext: true, saveHint: SELF_DISCLOSURE.test(text) };
}

/**
 * Decides from the text alone, with precompiled patterns and no model call,
 * whether a message can take the fast path (direct retrieval, no planning).
 *
 * A message is simple only when all of it fits a known shape: a greeting,
 * thanks or small talk; a short lookup of one fact ("what's my wife's name?",
 * "when is my dentist appointment?"); or a short statement to remember
 * ("remember that I'm allergic to nuts", "my cat is called Biscuit").
 * Anything longer, multi-part, evaluative ("best", "should", "given"), or not
 * in English is complex, because sending a complex message down the fast
 * path costs answer quality while the reverse only costs time.
 *
 * Deterministic, never throws, and runs in a few microseconds.
 *
 * @example
 * classifyMessage("what's my sister's birthday?");
 * // { kind: 'simple', reason: 'fact_lookup', needsContext: true, saveHint: false }
 */
export function classifyMessage(message: string): Classification {
  const trimmed = typeof message === 'string' ? message.trim() : '';
  const text = trimEdges(normalize(trimmed.slice(0, MAX_SCAN_CHARS)));
  if (trimmed.length > MAX_SCAN_CHARS) return complex(text, 'long');
  if (text.length === 0) return simple('empty', false);
  if (text.length > MAX_SIMPLE_CHARS || wordCount(text) > MAX_SIMPLE_WORDS) {
    return complex(text, 'long');
  }

  const courtesy = courtesyReason(text);
  if (courtesy) return simple(courtesy, false);

  const lead = LEADING_FILLER.exec(text)?.[0] ?? '';
  const body = text.slice(lead.length).replace(TRAILING_FILLER, '');
  if (body.length === 0) return simple(THANKS_WORD.test(lead) ? 'thanks' : 'greeting', false);
  if (SMALL_TALK.test(body)) return simple(THANKS_WORD.test(lead) ? 'thanks' : 'small_talk', false);
  if (MULTI_PART.test(body)) return complex(text, 'multi_part');
  if (GENERAL_LOOKUP.test(body)) return simple('general_lookup', false);

  const save = saveReason(body);
  if (save) return simple(save, true, true);
  if (isFactLookup(body)) return simple('fact_lookup', true);
  return complex(text);
}

// V8 compiles a regex on first use (milliseconds for these); pay that at import, not on a request.
for (const sample of WARM_UP_MESSAGES) classifyMessage(sample);
