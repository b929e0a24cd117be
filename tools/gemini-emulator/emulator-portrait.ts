/**
 * The emulator's answer to the narrative prompt (`core/narrative/narrator.ts`):
 * a portrait in four plain-text paragraphs (who the user is, their current work
 * and direction, how they like to communicate, patterns over time), written in
 * the third person from the memories listed in the prompt and nothing else.
 */

interface Entry {
  date: string | undefined;
  text: string;
}

const LINE = /^\s*-\s*(?:\[(\d{4}-\d{2}-\d{2})\]\s*)?(.+)$/;
const IDENTITY =
  /\b(i am|i'm|my name|i live|i grew up|i was born|i moved|years old|my (?:wife|husband|partner|family|kids?|son|daughter|sister|brother|mother|father))\b/i;
const WORK =
  /\b(work|job|project|career|building|studying|learning|team|company|startup|goal|plan|launch|deadline|training)\b/i;
const STYLE =
  /\b(prefer|like|love|hate|don't like|dislike|favou?rite|style|tone|brief|detailed|concise)\b/i;
const STOPWORDS = new Set(
  'about after again also because been before being from have just like more most much only other over really some than that their them then there these they this very want were what when where which while will with would your into going'.split(
    ' ',
  ),
);

/** The memories of the prompt, one per `- [date] text` line (the whole prompt when none is). */
function entries(prompt: string): Entry[] {
  const listed = prompt
    .split('\n')
    .map((line) => LINE.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ date: m[1], text: m[2]!.trim() }));
  return listed.length > 0 ? listed : [{ date: undefined, text: prompt.trim() }];
}

// Longest first, so "i'm" is swapped before "i".
const PERSON_SWAPS: [RegExp, string][] = [
  [/\bI am\b/gi, 'they are'],
  [/\bI['’]m\b/gi, "they're"],
  [/\bI was\b/gi, 'they were'],
  [/\bI['’]ve\b/gi, "they've"],
  [/\bI['’]ll\b/gi, "they'll"],
  [/\bI['’]d\b/gi, "they'd"],
  [/\bI have\b/gi, 'they have'],
  [/\bI\b/g, 'they'],
  [/\bmyself\b/gi, 'themselves'],
  [/\bmy\b/gi, 'their'],
  [/\bmine\b/gi, 'theirs'],
  [/\bme\b/gi, 'them'],
];

/** A memory as a sentence about the user: first person turned into the third, one full stop. */
function sentence(text: string): string {
  let s = text.replace(/\s+/g, ' ').trim().slice(0, 240);
  for (const [pattern, swap] of PERSON_SWAPS) s = s.replace(pattern, swap);
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function about(list: Entry[], pattern: RegExp, limit: number): string[] {
  return list
    .filter((e) => pattern.test(e.text))
    .slice(0, limit)
    .map((e) => sentence(e.text));
}

/** The words the memories come back to most, for the patterns paragraph. */
function topics(list: Entry[], limit: number): string[] {
  const counts = new Map<string, number>();
  for (const e of list) {
    const words = new Set(e.text.toLowerCase().match(/\p{L}{5,}/gu) ?? []);
    for (const w of words) if (!STOPWORDS.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts.entries()]
    .filter(([, n]) => n > 1)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([w]) => w);
}

/** The portrait of the user whose memories `prompt` lists, in four paragraphs. */
export function writePortrait(prompt: string): string {
  const list = entries(prompt);
  // Newest first: what they said lately says most about where they are now.
  const newest = [...list].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  const identity = about(newest, IDENTITY, 3);
  const work = about(newest, WORK, 3);
  const style = about(newest, STYLE, 3);
  const dates = list.flatMap((e) => (e.date ? [e.date] : [])).sort();
  const span = dates.length > 0 ? ` between ${dates[0]} and ${dates[dates.length - 1]}` : ' so far';
  const themes = topics(list, 5);
  const count = `${list.length} ${list.length === 1 ? 'memory' : 'memories'}`;
  return [
    identity.length > 0
      ? `This user has told their assistant a few things about who they are. ${identity.join(' ')}`
      : `This user has said little about themselves directly; what follows comes from ${count} they saved. ${sentence(newest[0]!.text)}`,
    work.length > 0
      ? `Their current work and direction show in what they save lately. ${work.join(' ')}`
      : `Their current direction is not stated outright; their latest memories are about other things. ${newest.slice(0, 2).map((e) => sentence(e.text)).join(' ')}`, // prettier-ignore
    style.length > 0
      ? `On how they like things: ${style.join(' ')} Answers should respect these preferences.`
      : 'They have stated no preferences about tone or length, so clear and direct answers suit them best.',
    `Over time, they saved ${count}${span}${themes.length > 0 ? `, coming back most often to ${themes.join(', ')}` : ''}.`,
  ].join('\n\n');
}
