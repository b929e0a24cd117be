import { REMEMBER } from '../classification/patterns.ts';
import { classifyMessage } from '../classification/query-classifier.ts';
import type { ConversationMessage, ExtractedFact, SkippedFact } from './conversation-types.ts';

const SENTENCE_END = '.!?;';
const WHITESPACE = /\s/;
/** Words a full stop follows without ending the sentence ("Dr. Ames"). */
const ABBREVIATION = /(?:^|[^\p{L}])(?:mr|mrs|ms|dr|st|jr|sr|vs|etc|prof|e\.g|i\.e)$/iu;
const REMEMBER_ANY_CASE = new RegExp(REMEMBER.source, 'i');
const CURLY_QUOTES = /[\u2018\u2019\u02bc`]/g;

/**
 * The sentences of a text: cut at line breaks and after `.`, `!`, `?` or `;`
 * followed by a space, except after an abbreviation. One pass, so a long run
 * of punctuation costs no more than its length.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  const push = (piece: string) => {
    const trimmed = piece.trim();
    if (trimmed.length > 0) sentences.push(trimmed);
  };
  for (const line of text.split(/\r?\n/)) {
    let start = 0;
    for (let i = 0; i < line.length; i++) {
      if (!SENTENCE_END.includes(line.charAt(i))) continue;
      let end = i;
      while (end < line.length && SENTENCE_END.includes(line.charAt(end))) end++;
      const atBreak = end === line.length || WHITESPACE.test(line.charAt(end));
      const abbreviated =
        end === i + 1 &&
        line.charAt(i) === '.' &&
        ABBREVIATION.test(line.slice(Math.max(start, i - 5), i));
      if (atBreak && !abbreviated) {
        push(line.slice(start, end));
        start = end;
      }
      i = end - 1;
    }
    push(line.slice(start));
  }
  return sentences;
}

/**
 * A fact's content in a form that compares equal however it is spaced,
 * cased or punctuated: "I live in Porto." repeats "i live in porto".
 */
export function normalisedFact(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(CURLY_QUOTES, "'")
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What to keep of a sentence: for "remember that X", X (capitalised); else the sentence. */
function factText(sentence: string, reason: string): string {
  if (reason !== 'remember') return sentence;
  // Same length after the quote swap, so the match's offsets hold in the original.
  const match = REMEMBER_ANY_CASE.exec(sentence.replace(CURLY_QUOTES, "'"));
  const kept = match?.[1];
  if (!match || kept === undefined) return sentence;
  const text = sentence.slice(match[0].length - kept.length).trim();
  return text.length > 0 ? text.charAt(0).toUpperCase() + text.slice(1) : sentence;
}

/**
 * The classifier's save rule over a conversation: every sentence of a user
 * message that the classifier finds worth saving (`remember that …`, or a
 * statement about the user such as "my sister lives in Porto") is a fact to
 * add; every other sentence of the user is skipped as `not_memorable`.
 * Assistant and system messages are never read.
 */
export function localFacts(messages: readonly ConversationMessage[]): {
  facts: ExtractedFact[];
  skipped: SkippedFact[];
} {
  const facts: ExtractedFact[] = [];
  const skipped: SkippedFact[] = [];
  let sentence = 0;
  messages.forEach((turn, message) => {
    if (turn.role !== 'user') return;
    for (const text of splitSentences(turn.content)) {
      const { reason } = classifyMessage(text);
      const at = { message, sentence: sentence++ };
      if (reason === 'remember' || reason === 'statement') {
        facts.push({ content: factText(text, reason), action: 'add', ...at });
      } else {
        skipped.push({ content: text, reason: 'not_memorable', ...at });
      }
    }
  });
  return { facts, skipped };
}
