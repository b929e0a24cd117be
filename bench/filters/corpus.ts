// The filter benchmark's data: one user's synthetic memories (varied sentences with
// metadata, tags, event times and a few archived), the queries asked of them, and the
// filters compared, from broad to selective. Seeded, so every run asks the same.
import type { SearchInput } from '../../client/src/index.ts';
import type { NewMemory } from '../../core/ports/relational-store.ts';
import { seededRandom, type Random } from '../../core/util/seeded-random.ts';

const SUBJECTS = ['I', 'My sister', 'Ana', 'Tom', 'My manager', 'The team', 'Our neighbour', 'Dad', 'Mia', 'Grandma', 'My doctor', 'The landlord', 'Leo', 'My coach', 'Priya', 'The kids', 'Sam', 'My partner', 'Nora', 'The client']; // prettier-ignore
const VERBS = ['planned', 'booked', 'cancelled', 'talked about', 'finished', 'started', 'postponed', 'paid for', 'argued about', 'celebrated', 'forgot', 'reviewed', 'moved', 'signed up for', 'worried about', 'recommended', 'returned', 'fixed', 'ordered', 'shared']; // prettier-ignore
const OBJECTS = ['the dentist appointment', 'a trip to Lisbon', 'the quarterly report', 'piano lessons', 'the kitchen renovation', 'a birthday dinner', 'the car insurance', 'a marathon training plan', 'the garden shed', 'a job interview', 'the tax return', 'a wedding gift', 'the new laptop', 'a yoga retreat', 'the school play', 'a hiking weekend', 'the budget review', 'a cooking class', 'the flat viewing', 'a concert in Berlin', 'the vet visit', 'a climbing course', 'the product launch', 'a camping trip', 'the visa application', 'a book club meeting', 'the bike repair', 'a language exam', 'the hospital check-up', 'a surprise party']; // prettier-ignore
const PLACES = ['in Porto', 'at the office', 'near the river', 'in Ghent', 'at home', 'downtown', 'in Kyoto', 'at the gym', 'in the old town', 'by the lake', 'in Madrid', 'at school', 'in Oslo', 'at the airport', 'in the suburbs', 'at the clinic', 'in Lyon', 'on the coast', 'in Vienna', 'at the cafe', 'in Dublin', 'at the market', 'in Prague', 'at the station', 'in Seville']; // prettier-ignore

const TAGS = ['work', 'travel', 'health', 'family', 'money', 'home', 'hobby', 'friends', 'school', 'food', 'sport', 'admin']; // prettier-ignore
const PROJECTS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'];
const FROM = Date.parse('2023-01-01T00:00:00Z');
const TO = Date.parse('2026-01-01T00:00:00Z');

const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)]!;

/** `en` 55 %, `de` 25 %, `fr` 15 %, `es` 5 %. */
function language(random: Random): string {
  const r = random();
  return r < 0.55 ? 'en' : r < 0.8 ? 'de' : r < 0.95 ? 'fr' : 'es';
}

/** A memory to seed, and whether it is archived after it is saved. */
export interface SeedMemory {
  memory: NewMemory;
  archived: boolean;
}

/**
 * `count` distinct memories: a sentence from the word lists, metadata
 * (project 10 % each, language, priority 1–5, source), one to three tags, an
 * event time spread over 2023–2025, and 5 % archived.
 */
export function seedMemories(count: number, seed = 0xf11e): SeedMemory[] {
  const random = seededRandom(seed);
  const seen = new Set<string>();
  const out: SeedMemory[] = [];
  while (out.length < count) {
    const content = `${pick(random, SUBJECTS)} ${pick(random, VERBS)} ${pick(random, OBJECTS)} ${pick(random, PLACES)}.`; // prettier-ignore
    if (seen.has(content)) continue;
    seen.add(content);
    const tags = [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, TAGS)))]; // prettier-ignore
    out.push({
      memory: {
        content,
        tags,
        metadata: {
          project: pick(random, PROJECTS),
          lang: language(random),
          priority: 1 + Math.floor(random() * 5),
          source: random() < 0.7 ? 'chat' : 'email',
        },
        occurredAt: new Date(FROM + Math.floor(random() * (TO - FROM))),
      },
      archived: random() < 0.05,
    });
  }
  return out;
}

/** `count` queries in the corpus's words, as a user would ask them. */
export function benchQueries(count: number, seed = 0x9e7): string[] {
  const random = seededRandom(seed);
  const forms = [
    (o: string, p: string) => `what did we decide about ${o} ${p}?`,
    (o: string) => `when is ${o}?`,
    (o: string, p: string) => `remind me of ${o} ${p}`,
    (o: string) => `who ${pick(random, VERBS)} ${o}`,
  ];
  return Array.from({ length: count }, () =>
    pick(random, forms)(pick(random, OBJECTS), pick(random, PLACES)),
  );
}

/** The filters compared, with the share of the user's memories each lets through. */
export const SCENARIOS: readonly { name: string; filters?: SearchInput['filters'] }[] = [
  { name: 'unfiltered' },
  { name: 'metadata equality (10 %)', filters: { metadata: { project: 'p3' } } },
  { name: 'metadata in (40 %)', filters: { metadata: { lang: { in: ['de', 'fr'] } } } },
  { name: 'tags all (2 tags)', filters: { tags: { all: ['work', 'travel'] } } },
  { name: 'tags any (3 tags)', filters: { tags: { any: ['health', 'family', 'money'] } } },
  {
    name: 'event time (half a year)',
    filters: { from: '2025-07-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
  },
  { name: 'archived (5 %)', filters: { state: 'archived' } },
  {
    name: 'combined',
    filters: {
      metadata: { project: { in: ['p1', 'p2', 'p3'] }, source: 'chat' },
      tags: { any: ['work', 'home', 'friends', 'food'] },
      from: '2024-01-01T00:00:00Z',
    },
  },
  {
    name: 'selective (0.3 %)',
    filters: { metadata: { project: 'p7', priority: 5, lang: 'fr' } },
  },
];
