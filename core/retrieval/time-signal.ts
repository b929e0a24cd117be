import type { RetrievalFilter } from '../ports/retrieval-filter.ts';
import { fuseRankings, type RankedList } from './fusion.ts';
import {
  daySpan,
  findTimes,
  nearestYear,
  overlaps,
  yearlessWithin,
  type TimeSpan,
  type YearlessDate,
} from './time-expressions.ts';

/**
 * What a query says about time: whether it asks for one ("when", "what
 * year", "how long ago", "before she moved"), and the times it names ("in
 * May 2023", "last year", "in June"), those relative to now resolved.
 */
export interface QueryTime {
  asksWhen: boolean;
  spans: TimeSpan[];
  /** Months or days named without a year: they match that month or day in any year. */
  yearless: YearlessDate[];
  /**
   * It names a time only as a bound ("as of May 2023", "by June"): what it
   * asks about happened any time before, so that time matches no memory's.
   */
  bounded?: boolean;
}

/**
 * A memory's time: when it happened (or, failing that, was saved), and the
 * times its content names, relative ones ("yesterday", "last Friday")
 * resolved against it.
 */
export interface MemoryTime {
  at: TimeSpan;
  mentions: TimeSpan[];
}

/**
 * What the time signal reads of a memory: its content, and when it happened
 * (`occurredAt`, issue #17: the client's date, else the save time) or, for
 * memories without one, when it was saved.
 */
export interface TimedMemory {
  content: string;
  createdAt: Date;
  occurredAt?: Date | null;
}

const ASKS_WHEN = [
  /^\s*when\b/i,
  /\bwhen\s+(?:did|was|were|is|are|will|would|does|do|has|have|had|could|should|can)\b/i,
  /\b(?:what|which)\s+(?:year|month|date|day|time|week|weekend|season)\b/i,
  /\bhow\s+long\b/i,
  /\bhow\s+many\s+(?:years|months|weeks|days)\b/i,
  /\bsince\s+when\b/i,
  // Ordering in time around an event: "before she moved", "after Jon left".
  /\b(?:before|after)\s+(?:(?:she|he|they|I|we|you)\s+\w+|[A-Z][a-z]+\s+[a-z]+ed\b)/,
];

/** A date (and maybe a time of day) the content opens with: a journal's or a transcript's stamp. */
const OPENING_STAMP =
  /^\s*[[(]?\s*(?:\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*(?:on\s+)?)?([^\])\n]{4,40}?)\s*(?:[\])]|[:\-–—]\s)/i;

/** Longer spans ("for ten years", "years ago") say a memory is about time, but match no date. */
const DATE_MATCH_MAX_MS = 400 * 86_400_000;

/** Reads a query's time: what it asks for and the times it names, relative ones seen from `now`. */
export function parseQueryTime(query: string, now: number = Date.now()): QueryTime {
  const spans: TimeSpan[] = [];
  const yearless: YearlessDate[] = [];
  let bounded = false;
  for (const { expression, index } of findTimes(query)) {
    if (BOUND_BEFORE.test(query.slice(0, index))) bounded = true;
    else if (expression.kind === 'yearless') yearless.push(expression.date);
    else if (expression.kind === 'span') spans.push(expression.span);
    else spans.push(expression.resolve(now));
  }
  const asksWhen = ASKS_WHEN.some((re) => re.test(query));
  return { asksWhen, spans, yearless, ...(bounded ? { bounded } : {}) };
}

/** Words that make the time after them a bound ("as of May 2023", "by the end of June", "until 2022"). */
const BOUND_BEFORE = /\b(?:as\s+of|by|until|till|up\s+to)\s+(?:the\s+end\s+of\s+)?$/i;

/** A preposition left before nothing once the time it led to is gone ("in ?", "between and"). */
const DANGLING =
  /\s+(?:(?:in|on|at|during|as\s+of|up\s+to|of|between|and|since|from|until|till|by|around|the|end)\s+)+([?.!,;:]|$)/gi;

/**
 * A query without the times it names ("What did Jo paint in May 2023?" →
 * "What did Jo paint?"): the event it asks about. The query itself when it
 * names none, or when nothing but a time would be left.
 */
export function eventWords(query: string): string {
  const found = findTimes(query);
  if (found.length === 0) return query;
  let rest = query;
  for (const { index, length } of found) {
    rest = rest.slice(0, index) + ' '.repeat(length) + rest.slice(index + length);
  }
  rest = rest
    .replace(DANGLING, '$1')
    .replace(/\s+([?.!,;:])/g, '$1')
    .replace(/[,;:]+([?.!])/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
  return /\p{L}{2,}\s+\S+/u.test(rest) ? rest : query;
}

/**
 * The stretch of time a query names, when it names one a search can be
 * narrowed to: from the first named span's start to the last one's end,
 * if that is at most {@link DATE_MATCH_MAX_MS} long ("in May 2023", "last
 * week", "between March and May 2023"). Null for a query naming no fixed
 * time, or only yearless ones ("in June": June of which year?).
 */
export function namedSpan(q: QueryTime): TimeSpan | null {
  if (q.spans.length === 0) return null;
  const from = Math.min(...q.spans.map((s) => s.from));
  const to = Math.max(...q.spans.map((s) => s.to));
  return to - from <= DATE_MATCH_MAX_MS ? { from, to } : null;
}

/** `filter` narrowed to memories whose event happened within `span`; null when none can pass. */
export function filterWithin(
  filter: RetrievalFilter | undefined,
  span: TimeSpan,
): RetrievalFilter | null {
  const from = Math.max(span.from, filter?.from?.getTime() ?? -Infinity);
  const to = Math.min(span.to, filter?.to?.getTime() ?? Infinity);
  return from < to ? { ...filter, from: new Date(from), to: new Date(to) } : null;
}

/** Whether the query asks about time at all: only then does the time signal run. */
export const hasTimeIntent = (q: QueryTime) =>
  q.asksWhen || q.spans.length > 0 || q.yearless.length > 0 || q.bounded === true;

/** The date a memory's content opens with, if any, and where its body starts. */
function openingStamp(content: string): { at: TimeSpan; bodyFrom: number } | null {
  const stamp = OPENING_STAMP.exec(content);
  if (!stamp) return null;
  const text = stamp[1]!;
  const [first] = findTimes(text);
  if (first?.expression.kind !== 'span') return null;
  // Only a date, not a sentence that happens to start with one.
  if (text.length - first.length > 3) return null;
  const { span } = first.expression;
  if (span.to - span.from !== 86_400_000) return null;
  return { at: span, bodyFrom: stamp[0].length };
}

/**
 * A memory's time: the date its content opens with ("[8 May, 2023] …", a
 * journal's or a transcript's own word on when), else its `occurredAt`,
 * else the day it was saved; and the times its body names, resolved
 * against that. The stamp comes first because `occurredAt` defaults to the
 * save time when the client gave none, and then says less than the text.
 */
export function memoryTime(memory: TimedMemory): MemoryTime {
  const stamp = openingStamp(memory.content);
  const at = stamp?.at ?? daySpan((memory.occurredAt ?? memory.createdAt).getTime());
  const body = stamp ? memory.content.slice(stamp.bodyFrom) : memory.content;
  const mentions = findTimes(body).map(({ expression: e }) =>
    e.kind === 'span' ? e.span : e.kind === 'yearless' ? nearestYear(e.date, at.from) : e.resolve(at.from),
  ); // prettier-ignore
  return { at, mentions };
}

/** How many stored memories' times {@link timeOfMemory} keeps (a few MB). */
const KEPT_TIMES = 20_000;
const keptTimes = new Map<string, { digest: number; time: MemoryTime }>();

/**
 * {@link memoryTime} of a stored memory, kept by its id while its content and
 * dates stay the same: a time question reads the times of up to 150 candidates
 * (every date expression of each content matched), and the user's next time
 * question mostly the same ones. Oldest first out past {@link KEPT_TIMES}.
 */
export function timeOfMemory(memory: TimedMemory & { id: string }): MemoryTime {
  const digest = timedDigest(memory);
  const kept = keptTimes.get(memory.id);
  if (kept?.digest === digest) return kept.time;
  const time = memoryTime(memory);
  if (!kept && keptTimes.size >= KEPT_TIMES) keptTimes.delete(keptTimes.keys().next().value!);
  keptTimes.set(memory.id, { digest, time });
  return time;
}

/** FNV-1a over what {@link memoryTime} reads: the content and both dates. */
function timedDigest(memory: TimedMemory): number {
  let h = 0x811c9dc5;
  const mix = (code: number) => {
    h = Math.imul(h ^ code, 0x01000193);
  };
  for (const ms of [memory.createdAt.getTime(), memory.occurredAt?.getTime() ?? -1]) {
    mix(ms % 0x10000);
    mix(Math.floor(ms / 0x10000) % 0x10000);
    mix(Math.floor(ms / 0x100000000) % 0x10000);
  }
  for (let i = 0; i < memory.content.length; i++) mix(memory.content.charCodeAt(i));
  return h >>> 0;
}

/** Whether one of the memory's times is one the query names. */
function namesSameTime(q: QueryTime, m: MemoryTime): boolean {
  const times = [m.at, ...m.mentions].filter((s) => s.to - s.from <= DATE_MATCH_MAX_MS);
  return times.some(
    (t) => q.spans.some((s) => overlaps(s, t)) || q.yearless.some((y) => yearlessWithin(y, t)),
  );
}

/**
 * How well a memory answers the query's question about time: 2 when one of
 * its times is one the query names, plus 1 when the query asks "when" and
 * the memory's body places something in time; 0 when neither.
 */
export function timeScore(q: QueryTime, m: MemoryTime): number {
  return (namesSameTime(q, m) ? 2 : 0) + (q.asksWhen && m.mentions.length > 0 ? 1 : 0);
}

/**
 * The time signal as one more ranked list for the fusion: of the
 * `candidates` (ids in the order the other retrievers ranked them), those
 * with a time score, best score first and in candidate order within a
 * score. It reorders what the other retrievers found and adds nothing new.
 */
export function timeList(
  q: QueryTime,
  candidates: readonly string[],
  timeOf: (id: string) => MemoryTime | undefined,
  weight: number,
): RankedList {
  const scored = candidates
    .map((id, order) => {
      const time = timeOf(id);
      return { id, order, score: time ? timeScore(q, time) : 0 };
    })
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || a.order - b.order);
  return { source: 'time', weight, items: scored.map((c, i) => ({ id: c.id, rank: i + 1 })) };
}

/**
 * {@link timeList} over what other retrievers found (`found`, fused with
 * the same constants as the search): the time signal a search adds.
 */
export function timeListFrom(
  q: QueryTime,
  found: readonly RankedList[],
  timeOf: (id: string) => MemoryTime | undefined,
  constants: { k: number; weights: { time: number } },
): RankedList {
  const order = fuseRankings(found, constants.k).map((hit) => hit.id);
  return timeList(q, order, timeOf, constants.weights.time);
}
