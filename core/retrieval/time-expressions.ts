/**
 * Times written in English text: dates ("8 May, 2023", "2023-05-08"), months
 * ("May 2023", "in June"), years, and times relative to when the text was
 * written ("yesterday", "last Friday", "two weeks ago", "next month", "for
 * four years"). Days are UTC days; a span is `[from, to)` in epoch ms. Pure
 * functions, no dependencies: the time signal reads queries and memories
 * with them.
 */

const DAY = 86_400_000;

/** A stretch of time, `[from, to)` in epoch milliseconds. */
export interface TimeSpan {
  from: number;
  to: number;
}

/** A month, or a day of a month, named without its year ("in June", "on 8 May"). */
export interface YearlessDate {
  month: number;
  day?: number;
}

/** One time a text names: a fixed span, a yearless date, or a span relative to when it was written. */
export type TimeExpression =
  | { kind: 'span'; span: TimeSpan }
  | { kind: 'yearless'; date: YearlessDate }
  | { kind: 'relative'; resolve: (ref: number) => TimeSpan };

const MONTH_NAMES: Record<string, number> = {
  january: 0, february: 1, march: 2, april: 3, may: 4, june: 5, july: 6, august: 7,
  september: 8, october: 9, november: 10, december: 11, jan: 0, feb: 1, mar: 2, apr: 3,
  jun: 5, jul: 6, aug: 7, sep: 8, sept: 8, oct: 9, nov: 10, dec: 11,
}; // prettier-ignore
const WEEKDAYS: Record<string, number> = {
  sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6,
  sun: 0, mon: 1, tue: 2, tues: 2, wed: 3, thu: 4, thur: 4, thurs: 4, fri: 5, sat: 6,
}; // prettier-ignore
const NUMBER_WORDS: Record<string, number> = {
  a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8,
  nine: 9, ten: 10, eleven: 11, twelve: 12, couple: 2, few: 3, several: 4,
}; // prettier-ignore
const UNIT_DAYS: Record<string, number> = {
  day: 1,
  week: 7,
  weekend: 7,
  month: 30.44,
  year: 365.25,
};

const MONTH = '(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\\.?'; // prettier-ignore
const DAY_NUM = '(\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '((?:19|20)\\d{2})';
const NUMBER = '\\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:a\\s+)?couple(?:\\s+of)?|(?:a\\s+)?few|several'; // prettier-ignore
const COUNT = `(an?|${NUMBER})`;
const UNIT = '(day|week|weekend|month|year)s?';

const utc = (y: number, m: number, d = 1) => Date.UTC(y, m, d);
const dayStart = (t: number) => Math.floor(t / DAY) * DAY;
const daySpan = (t: number): TimeSpan => ({ from: dayStart(t), to: dayStart(t) + DAY });
const monthSpan = (y: number, m: number): TimeSpan => ({ from: utc(y, m), to: utc(y, m + 1) });
const yearSpan = (y: number): TimeSpan => ({ from: utc(y, 0), to: utc(y + 1, 0) });
const yearOf = (t: number) => new Date(t).getUTCFullYear();
const monthOf = (t: number) => new Date(t).getUTCMonth();
const weekdayOf = (t: number) => new Date(t).getUTCDay();

const monthIndex = (name: string) => MONTH_NAMES[name.toLowerCase().replace(/\.$/, '')]!;
const count = (word: string) => {
  const w = word
    .toLowerCase()
    .replace(/^a\s+/, '')
    .replace(/\s+of$/, '');
  return /^\d+$/.test(w) ? Number(w) : (NUMBER_WORDS[w] ?? 1);
};
const validDay = (y: number, m: number, d: number) =>
  d >= 1 && m >= 0 && m <= 11 && new Date(utc(y, m, d)).getUTCDate() === d;

const span = (s: TimeSpan): TimeExpression => ({ kind: 'span', span: s });
const relative = (resolve: (ref: number) => TimeSpan): TimeExpression => ({
  kind: 'relative',
  resolve,
});

/** The Monday that starts the week of `ref`. */
const weekStart = (ref: number) => dayStart(ref) - ((weekdayOf(ref) + 6) % 7) * DAY;

/** `which` (last, this, next, …) week, weekend, month, year or season, seen from `ref`. */
function namedPeriod(which: string, period: string, ref: number): TimeSpan {
  const step = /last|past|previous/.test(which) ? -1 : /next|coming/.test(which) ? 1 : 0;
  const y = yearOf(ref);
  const m = monthOf(ref);
  if (period === 'week') {
    if (which === 'past') return { from: dayStart(ref) - 7 * DAY, to: dayStart(ref) + DAY };
    const from = weekStart(ref) + step * 7 * DAY;
    return { from, to: from + 7 * DAY };
  }
  if (period === 'weekend') {
    // This weekend: the Saturday of ref's week (Sunday belongs to the weekend just ending).
    const saturday = weekStart(ref) + 5 * DAY - (weekdayOf(ref) === 0 ? 7 * DAY : 0);
    const from = saturday + step * 7 * DAY;
    return { from, to: from + 2 * DAY };
  }
  if (period === 'month') return monthSpan(y, m + step);
  if (period === 'year') return yearSpan(y + step);
  const first = { spring: 2, summer: 5, fall: 8, autumn: 8, winter: 11 }[period]!;
  const seasons = [y - 2, y - 1, y, y + 1].map((sy) => ({
    from: utc(sy, first),
    to: utc(sy, first + 3),
  }));
  const current = seasons.find((s) => s.from <= ref && ref < s.to);
  if (step < 0) return [...seasons].reverse().find((s) => s.to <= ref)!;
  if (step > 0) return seasons.find((s) => s.from > ref)!;
  return current ?? seasons.find((s) => yearOf(s.from) === y)!;
}

/** The `weekday` before `ref` (last, on, bare), or after it (next, this). */
function weekdaySpan(which: string, weekday: number, ref: number): TimeSpan {
  const today = weekdayOf(ref);
  if (which === 'next' || which === 'this') {
    const ahead = (weekday - today + 7) % 7 || (which === 'next' ? 7 : 0);
    return daySpan(ref + ahead * DAY);
  }
  const back = (today - weekday + 7) % 7 || 7;
  return daySpan(ref - back * DAY);
}

/** The month up to `ref`'s day: what "recently" or "since we last talked" reaches back to. */
const lastMonth = (ref: number): TimeSpan => ({
  from: dayStart(ref) - 30 * DAY,
  to: dayStart(ref) + DAY,
});

/** `n` units before `ref`, give or take half a unit (a day is exact). */
function agoSpan(n: number, unit: string, ref: number): TimeSpan {
  const days = UNIT_DAYS[unit]!;
  if (unit === 'day') return daySpan(ref - n * DAY);
  return {
    from: dayStart(ref - (n + 0.5) * days * DAY),
    to: dayStart(ref - (n - 0.5) * days * DAY) + DAY,
  };
}

type Rule = [RegExp, (m: RegExpExecArray) => TimeExpression | null];

/**
 * Most specific first: the text a rule matched is blanked before the next
 * rule reads it, so "8 May, 2023" is one date, not also a month and a year.
 */
const RULES: Rule[] = [
  [/\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g, (m) => dayExpression(+m[1]!, +m[2]! - 1, +m[3]!)],
  [
    new RegExp(`\\b${DAY_NUM}\\s+(?:of\\s+)?${MONTH}(?:,\\s*|\\s+)${YEAR}\\b`, 'gi'),
    (m) => dayExpression(+m[3]!, monthIndex(m[2]!), +m[1]!),
  ],
  [
    new RegExp(`\\b${MONTH}\\s+${DAY_NUM}(?:,\\s*|\\s+)${YEAR}\\b`, 'gi'),
    (m) => dayExpression(+m[3]!, monthIndex(m[1]!), +m[2]!),
  ],
  [
    new RegExp(`\\b${MONTH},?\\s+(?:of\\s+)?${YEAR}\\b`, 'gi'),
    (m) => span(monthSpan(+m[2]!, monthIndex(m[1]!))),
  ],
  [
    new RegExp(`\\b${DAY_NUM}\\s+(?:of\\s+)?${MONTH}(?![\\w-])`, 'gi'),
    (m) => yearless(monthIndex(m[2]!), +m[1]!),
  ],
  [
    new RegExp(`\\b${MONTH}\\s+${DAY_NUM}\\b(?![:\\d])`, 'gi'),
    (m) => yearless(monthIndex(m[1]!), +m[2]!),
  ],
  [
    // A bare month name needs a word that makes it one ("in May", not "you may").
    new RegExp(
      `\\b(?:in|during|since|until|till|by|before|after|early|mid|late|of|from|through|this|last|next|every|around)\\s+${MONTH}(?![\\w-])`,
      'gi',
    ),
    (m) => yearless(monthIndex(m[1]!)),
  ],
  [
    /\b(january|february|july|september|october|november|december)\b/gi,
    (m) => yearless(monthIndex(m[1]!)),
  ],
  [new RegExp(`(?<![$\\d,.])\\b${YEAR}\\b(?![%,.]?\\d)`, 'g'), (m) => span(yearSpan(+m[1]!))],
  [/\b(today|tonight|this\s+(?:morning|afternoon|evening))\b/gi, () => relative(daySpan)],
  [/\b(yesterday|last\s+night)\b/gi, () => relative((ref) => daySpan(ref - DAY))],
  [/\btomorrow\b/gi, () => relative((ref) => daySpan(ref + DAY))],
  [
    new RegExp(`\\b${COUNT}\\s+${UNIT}\\s+(?:ago|earlier|before|back)\\b`, 'gi'),
    (m) => relative((ref) => agoSpan(count(m[1]!), m[2]!.toLowerCase(), ref)),
  ],
  [
    /\b(last|past|this|next|coming|previous)\s+(week|weekend|month|year|summer|winter|spring|fall|autumn)\b/gi,
    (m) => relative((ref) => namedPeriod(m[1]!.toLowerCase(), m[2]!.toLowerCase(), ref)),
  ],
  [
    /\b(?:(last|this|next|on|past)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b/gi,
    (m) => weekdayExpression(m[1], m[2]!),
  ],
  [
    /\b(last|this|next|on)\s+(mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\b\.?/gi,
    (m) => weekdayExpression(m[1], m[2]!),
  ],
  [
    /\b(recently|lately|the\s+other\s+day|a\s+while\s+ago|earlier\s+this\s+(?:week|month|year))\b/gi,
    () => relative(lastMonth),
  ],
  [
    // News since the last conversation ("since we last talked, I…"): it happened in between.
    /\bsince\s+(?:(?:we|I|you)\s+(?:last\s+)?(?:talked|spoke|chatted|caught\s+up)(?:\s+last)?|(?:the\s+|our\s+)?last\s+(?:time|chat|talk|conversation|call)(?:\s+(?:we|I|you)\s+(?:talked|spoke|chatted))?)\b/gi,
    () => relative(lastMonth),
  ],
  [
    /\b(?:years|months|weeks|ages|decades)\s+ago\b/gi,
    () => relative((ref) => ({ from: dayStart(ref) - 3653 * DAY, to: dayStart(ref) })),
  ],
  [
    // A duration ("for a year", "seven years now") reaches back from when it was said.
    new RegExp(`\\b(?:for\\s+(an?)|(${NUMBER}))\\s+${UNIT}\\b`, 'gi'),
    (m) =>
      relative((ref) => ({
        from: dayStart(ref - count(m[1] ?? m[2]!) * UNIT_DAYS[m[3]!.toLowerCase()]! * DAY),
        to: dayStart(ref) + DAY,
      })),
  ],
];

function dayExpression(y: number, m: number, d: number): TimeExpression | null {
  return validDay(y, m, d) ? span(daySpan(utc(y, m, d))) : null;
}

function yearless(month: number, day?: number): TimeExpression | null {
  if (day !== undefined && !validDay(2000, month, day)) return null;
  return { kind: 'yearless', date: day === undefined ? { month } : { month, day } };
}

function weekdayExpression(which: string | undefined, name: string): TimeExpression {
  const weekday = WEEKDAYS[name.toLowerCase()]!;
  return relative((ref) => weekdaySpan((which ?? '').toLowerCase(), weekday, ref));
}

/** A time found in a text, and where: `text.slice(index, index + length)`. */
export interface FoundTime {
  expression: TimeExpression;
  index: number;
  length: number;
}

/** Every rule's match contains one of these: text without any names no time, read in one pass. */
const MAYBE_TIME =
  /\d|day|week|month|year|night|morning|tomorrow|afternoon|evening|ago|recent|lately|while|since|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|summer|winter|spring|fall|autumn/i;

/** Every time `text` names, in the order of the rules that found them. */
export function findTimes(text: string): FoundTime[] {
  if (!MAYBE_TIME.test(text)) return [];
  let rest = text;
  const found: FoundTime[] = [];
  for (const [pattern, read] of RULES) {
    rest = rest.replace(pattern, (match: string, ...args: unknown[]) => {
      const index = args.find((a): a is number => typeof a === 'number')!;
      const groups = [match, ...args.slice(0, -2)] as unknown as RegExpExecArray;
      const expression = read(groups);
      if (!expression) return match;
      found.push({ expression, index, length: match.length });
      return ' '.repeat(match.length);
    });
  }
  return found;
}

/** The span a yearless date stands for in the year that puts it nearest `ref`. */
export function nearestYear(date: YearlessDate, ref: number): TimeSpan {
  const y = yearOf(ref);
  const spans = [y - 1, y, y + 1].map((year) =>
    date.day === undefined ? monthSpan(year, date.month) : daySpan(utc(year, date.month, date.day)),
  );
  const distance = (s: TimeSpan) => (ref < s.from ? s.from - ref : ref >= s.to ? ref - s.to : 0);
  return spans.reduce((best, s) => (distance(s) < distance(best) ? s : best));
}

/** Whether a yearless date falls, in some year, within `s`. */
export function yearlessWithin(date: YearlessDate, s: TimeSpan): boolean {
  for (let y = yearOf(s.from); y <= yearOf(s.to - 1); y++) {
    const own =
      date.day === undefined ? monthSpan(y, date.month) : daySpan(utc(y, date.month, date.day));
    if (own.from < s.to && s.from < own.to) return true;
  }
  return false;
}

export const overlaps = (a: TimeSpan, b: TimeSpan) => a.from < b.to && b.from < a.to;
export { DAY as DAY_MS, daySpan };
