/**
 * Synthetic users for the context benchmark: varied, realistic memories built
 * from templates (family, work, hobbies, health, preferences, travel) and the
 * chat messages a user would send about them. Everything is drawn from a
 * seeded generator, so a run is reproducible.
 */

import { seededRandom, type Random } from '../core/util/seeded-random.ts';
import type { PersonaCorpus } from './scenario-context.ts';

export { seededRandom, type Random };

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const FIRST_NAMES = [
  'Anna', 'Ben', 'Carla', 'David', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas',
  'Keiko', 'Liam', 'Maya', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Samir', 'Tara',
  'Umar', 'Vera', 'Wen', 'Ximena', 'Yusuf', 'Zoe', 'Marco', 'Lena', 'Theo', 'Sofia',
]; // prettier-ignore
const CITIES = [
  'Lisbon', 'Berlin', 'Kyoto', 'Toronto', 'Melbourne', 'Barcelona', 'Denver', 'Oslo',
  'Cape Town', 'Edinburgh', 'Seoul', 'Porto', 'Vancouver', 'Marrakech', 'Prague', 'Austin',
]; // prettier-ignore
const COMPANIES = [
  'Northwind', 'Acme Robotics', 'Bluefin Labs', 'Helios Energy', 'Orbit Health', 'Quill Media',
  'Juniper Bank', 'Tessellate', 'Copperleaf', 'Stellar Freight',
]; // prettier-ignore
const JOBS = [
  'product manager', 'backend engineer', 'nurse', 'teacher', 'data analyst', 'architect',
  'designer', 'accountant', 'sales lead', 'researcher',
]; // prettier-ignore
const HOBBIES = [
  'marathon running', 'bouldering', 'sourdough baking', 'watercolour painting', 'chess',
  'salsa dancing', 'birdwatching', 'cycling', 'playing the cello', 'gardening', 'photography',
  'woodworking', 'yoga', 'open-water swimming',
]; // prettier-ignore
const FOODS = [
  'pad thai', 'mushroom risotto', 'sushi', 'lamb tagine', 'margherita pizza', 'ramen',
  'falafel wraps', 'paella', 'dal with rice', 'tacos al pastor',
]; // prettier-ignore
const HEALTH = [
  'a sore left knee', 'mild asthma', 'trouble sleeping', 'a lactose intolerance',
  'lower back pain', 'seasonal allergies', 'migraines', 'high blood pressure',
]; // prettier-ignore
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December',
]; // prettier-ignore
const RELATIONS = [
  'sister',
  'brother',
  'mother',
  'father',
  'partner',
  'son',
  'daughter',
  'best friend',
];
const PETS = ['dog', 'cat', 'parrot', 'rabbit'];
const PET_NAMES = ['Biscuit', 'Pepper', 'Luna', 'Mochi', 'Rex', 'Olive', 'Ziggy', 'Nala'];
const DRINKS = ['flat white', 'green tea', 'oat latte', 'espresso', 'rooibos', 'cold brew'];
const MUSIC = ['jazz', 'indie folk', 'techno', 'classical piano', 'hip hop', 'bossa nova'];

/** The facts one synthetic user's memories are written from. */
export interface Persona {
  family: { relation: string; name: string; city: string; birthday: string }[];
  pet: { kind: string; name: string };
  job: string;
  company: string;
  boss: string;
  city: string;
  hobbies: string[];
  food: string;
  drink: string;
  music: string;
  health: string;
  doctor: string;
  trips: { city: string; month: string }[];
}

export function makePersona(random: Random): Persona {
  const relations = [...RELATIONS].sort(() => random() - 0.5).slice(0, 4);
  return {
    family: relations.map((relation) => ({
      relation,
      name: pick(random, FIRST_NAMES),
      city: pick(random, CITIES),
      birthday: `${pick(random, MONTHS)} ${1 + Math.floor(random() * 28)}`,
    })),
    pet: { kind: pick(random, PETS), name: pick(random, PET_NAMES) },
    job: pick(random, JOBS),
    company: pick(random, COMPANIES),
    boss: pick(random, FIRST_NAMES),
    city: pick(random, CITIES),
    hobbies: [...HOBBIES].sort(() => random() - 0.5).slice(0, 3),
    food: pick(random, FOODS),
    drink: pick(random, DRINKS),
    music: pick(random, MUSIC),
    health: pick(random, HEALTH),
    doctor: `Dr. ${pick(random, FIRST_NAMES)}`,
    trips: [0, 1, 2].map(() => ({ city: pick(random, CITIES), month: pick(random, MONTHS) })),
  };
}

/** `count` distinct memories about `p`: core facts first, then dated episodes. */
export function makeMemories(p: Persona, count: number, random: Random): string[] {
  const core = [
    ...p.family.map((f) => `My ${f.relation}'s name is ${f.name}; they live in ${f.city}.`),
    ...p.family.map((f) => `${f.name}, my ${f.relation}, has their birthday on ${f.birthday}.`),
    `I have a ${p.pet.kind} called ${p.pet.name}.`,
    `I work as a ${p.job} at ${p.company}; my manager is ${p.boss}.`,
    `I live in ${p.city}.`,
    `My hobbies are ${p.hobbies.join(', ')}.`,
    `My favourite food is ${p.food}.`,
    `I drink a ${p.drink} every morning.`,
    `I mostly listen to ${p.music} while working.`,
    `I have ${p.health}; my doctor is ${p.doctor}.`,
    ...p.trips.map((t) => `I'm planning a trip to ${t.city} in ${t.month}.`),
  ];
  const episodes: (() => string)[] = [
    () => {
      const f = pick(random, p.family);
      return `Called my ${f.relation} ${f.name} on ${date(random)}; we talked about ${pick(random, HOBBIES)} and their plans in ${f.city}.`;
    },
    () =>
      `On ${date(random)} I spent ${1 + Math.floor(random() * 4)} hours on ${pick(random, p.hobbies)} and felt ${pick(random, ['great', 'tired', 'proud', 'frustrated', 'relaxed'])}.`,
    () =>
      `Work at ${p.company} on ${date(random)}: ${pick(random, ['shipped the quarterly report', 'had a tense review with', 'planned the roadmap with', 'got praise from', 'missed a deadline set by'])} ${p.boss}.`,
    () =>
      `${date(random)}: ${p.health} ${pick(random, ['flared up after a long day', 'was better after resting', 'kept me up at night', 'came up at my check-up with'])} ${p.doctor}.`,
    () =>
      `Cooked ${pick(random, FOODS)} for ${pick(random, p.family).name} on ${date(random)}; ${pick(random, ['it was a hit', 'too salty', 'will make it again', 'needs more spice'])}.`,
    () => {
      const t = pick(random, p.trips);
      return `For the ${t.city} trip in ${t.month} I want to ${pick(random, ['see the old town', 'try the local food', 'go hiking nearby', 'visit a museum', 'find a good café for a ' + p.drink])}.`;
    },
    () =>
      `Took ${p.pet.name} the ${p.pet.kind} to ${pick(random, ['the vet', 'the park', 'the beach', 'a friend’s place'])} on ${date(random)}.`,
    () =>
      `I prefer ${pick(random, ['quiet mornings', 'late evenings', 'short meetings', 'written updates', 'weekend trips', 'small dinners'])} to ${pick(random, ['busy afternoons', 'early starts', 'long calls', 'open-plan offices', 'big parties'])}.`,
  ];
  const seen = new Set<string>();
  const out: string[] = [];
  const keepNew = (text: string) => {
    if (seen.has(text.toLowerCase())) return;
    out.push(text);
    seen.add(text.toLowerCase());
  };
  for (const text of core) {
    if (out.length >= count) break;
    keepNew(text);
  }
  for (let attempts = 0; out.length < count && attempts < count * 20; attempts++) {
    keepNew(pick(random, episodes)());
  }
  return out;
}

function date(random: Random): string {
  return `${pick(random, MONTHS)} ${1 + Math.floor(random() * 28)}, ${2023 + Math.floor(random() * 3)}`;
}

export type MessageKind = 'simple' | 'complex' | 'new_conversation';

/** Short fact lookups the classifier should serve without planning. */
export function simpleMessage(p: Persona, random: Random): string {
  const f = pick(random, p.family);
  return pick(random, [
    `what's my ${f.relation}'s name?`,
    `where does my ${f.relation} live?`,
    `when is ${f.name}'s birthday?`,
    `what's my ${p.pet.kind}'s name?`,
    `where do I work?`,
    `who is my manager?`,
    `what's my favourite food?`,
    `who is my doctor?`,
    `when is my trip to ${pick(random, p.trips).city}?`,
  ]);
}

/** Open questions that need a plan. */
export function complexMessage(p: Persona, random: Random): string {
  const f = pick(random, p.family);
  const hobby = pick(random, p.hobbies);
  const trip = pick(random, p.trips);
  return pick(random, [
    `How can I balance ${hobby} with my job at ${p.company} without burning out?`,
    `What patterns do you see in how my ${hobby} has changed over the last year?`,
    `Can you help me plan a weekend that my ${f.relation} ${f.name} and I would both enjoy?`,
    `Why do I keep struggling with ${p.health}, and what should I change in my routine?`,
    `What should I get ${f.name} for their birthday, given what you know about them?`,
    `Help me prepare for my trip to ${trip.city} in ${trip.month}, considering what I like.`,
    `How has my relationship with ${p.boss} at work evolved, and how should I approach our next review?`,
    `Could you suggest a weekly plan that fits ${hobby}, work and time with ${p.pet.name}?`,
    `What would be a thoughtful way to reconnect with my ${f.relation} after a busy month?`,
    `Based on my habits, how could I sleep better and feel less tired during the week?`,
  ]);
}

/** First messages of a new conversation. */
export function newConversationMessage(p: Persona, random: Random): string {
  return pick(random, [
    `Hi! I want to talk about my trip to ${pick(random, p.trips).city}.`,
    `Hey, I need some advice about ${pick(random, p.hobbies)} today.`,
    `Good morning, can we go over my week at ${p.company}?`,
    `Hello again, ${pick(random, p.family).name} is visiting soon and I need ideas.`,
    `Hi, I'd like to think through my health goals with you.`,
  ]);
}

/** These synthetic people as the load test's virtual users: user `index` of a run seeded with `seed`. */
export const personaCorpus: PersonaCorpus = {
  random: seededRandom,
  memories: (seed, index, count, random) =>
    makeMemories(makePersona(seededRandom(seed * 100_003 + index)), count, random),
  messages(seed, index, random) {
    const p = makePersona(seededRandom(seed * 100_003 + index));
    return {
      simple: () => simpleMessage(p, random),
      complex: () => complexMessage(p, random),
      newConversation: () => newConversationMessage(p, random),
    };
  },
};

/** Cumulative Zipf(s) weights over `n` ranks, for inverse-CDF sampling. */
export function zipfSampler(n: number, s: number, random: Random): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  return () => {
    const u = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
