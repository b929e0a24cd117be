// The file an import benchmark reads: N memories as NDJSON, seeded, so every run imports
// the same lines. Lines look like a real user's: a sentence of everyday words (each line
// distinct by its number), tags, a little metadata, an event time, and an external id on
// every other line (the rest are deduplicated by content).
import fs from 'node:fs';
import { once } from 'node:events';
import { seededRandom } from '../../core/util/seeded-random.ts';

// Everyday words, so sentences tokenize like a user's notes (made-up words split into many
// word pieces and would make embedding look slower than it is).
const PEOPLE =
  'my sister,my brother,my mother,my father,Maya,Tom,my boss,our neighbour,my friend Ana,the kids,my partner,grandma'.split(
    ',',
  );
const VERBS =
  'visited,cooked,bought,fixed,painted,called,planned,booked,cleaned,found,lost,tried,watched,read,started,finished'.split(
    ',',
  );
const THINGS =
  'the garden,a new bike,dinner,the kitchen,a birthday cake,the car,tickets for the concert,a book about birds,the old piano,a trip to Porto,the roof,a blue jacket,the project report,a yoga class,the fridge,a gift for the wedding'.split(
    ',',
  );
const PLACES =
  'in Lisbon,at home,at the office,in the park,near the river,at the market,in Berlin,at school,in the mountains,by the sea,downtown,at the gym'.split(
    ',',
  );
const ENDINGS =
  'and it went well,but it rained all day,and we want to do it again,which took longer than planned,and everyone loved it,though it cost too much,and I should remember the details,because the weather was great'.split(
    ',',
  );

const pick = <T>(items: readonly T[], random: () => number) =>
  items[Math.floor(random() * items.length)]!;

/** One import line: the i-th memory of the corpus. */
export function corpusLine(i: number, random: () => number): string {
  const day = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 1500) * 86_400_000);
  const sentence =
    `${pick(PEOPLE, random)} and I ${pick(VERBS, random)} ${pick(THINGS, random)} ` +
    `${pick(PLACES, random)} ${pick(ENDINGS, random)} (note ${i})`;
  return JSON.stringify({
    content: sentence.charAt(0).toUpperCase() + sentence.slice(1),
    tags: ['bench', `topic-${i % 17}`],
    metadata: { source: 'import-bench', n: i },
    occurred_at: day.toISOString(),
    ...(i % 2 === 0 ? { external_id: `bench-${i}` } : {}),
  });
}

/** Writes `count` lines to `file` (streamed, with backpressure); resolves to its size in bytes. */
export async function writeCorpus(file: string, count: number, seed = 2026): Promise<number> {
  const random = seededRandom(seed);
  const out = fs.createWriteStream(file);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const line = `${corpusLine(i, random)}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  await new Promise<void>((resolve, reject) =>
    out.end((e?: Error | null) => (e ? reject(e) : resolve())),
  );
  return bytes;
}
