// What the embedding benchmark embeds: LoCoMo turns as the quality benchmark saves them
// (`[<session date>] <speaker>: <text>`) and their questions, or, without a data file,
// generated text of the same shape and length (mean ~52 e5 tokens with the prefix).
import { seededRandom, type Random } from '../../core/util/seeded-random.ts';
import { loadLocomo, turnMemory } from '../locomo.ts';

export interface BenchTexts {
  source: string;
  memories: string[];
  questions: string[];
}

const SPEAKERS = ['Caroline', 'Melanie', 'Jon', 'Gina', 'John', 'Maria', 'Joanna', 'Nate'];
const MONTHS = ['January', 'March', 'May', 'June', 'August', 'October', 'November'];
const WORDS = (
  'i really love the way we spent last weekend hiking near lake with my kids and it was ' +
  'so peaceful that i want to go back soon maybe next month after work gets quieter my ' +
  'sister just started a new job at the hospital she is nervous but excited about it we ' +
  'talked about painting pottery classes and the support group that meets every tuesday ' +
  'evening thanks for sharing that sounds amazing how did you feel when you finished the ' +
  'marathon training plan honestly proud tired grateful for friends who cheered'
).split(' ');
const QUESTION_STARTS = ['When did', 'What did', 'Where did', 'Why did', 'How did'];
const QUESTION_ENDS = [
  'go to the support group',
  'paint a sunrise',
  'start the new job',
  'run the marathon',
  'visit the lake with the kids',
  'take pottery classes',
];

const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)]!;

/** A turn-like memory of 12 to 115 words (mean ~46: ~52 e5 tokens, as LoCoMo turns), seeded. */
function generatedMemory(random: Random): string {
  const words = 12 + Math.floor(random() * random() * 104);
  const text = Array.from({ length: words }, () => pick(random, WORDS)).join(' ');
  const date = `${1 + Math.floor(random() * 28)} ${pick(random, MONTHS)}, 2023`;
  return `[${date}] ${pick(random, SPEAKERS)}: ${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

/** `memories` memories and up to `questions` questions, from `data` (LoCoMo JSON) or generated. */
export function benchTexts(options: {
  memories: number;
  questions: number;
  data?: string;
}): BenchTexts {
  if (options.data) {
    const conversations = loadLocomo(options.data);
    const turns = conversations.flatMap((c) => c.turns.map((t) => turnMemory(t).content));
    const asked = conversations.flatMap((c) => c.questions.map((q) => q.question));
    // Cycling keeps the length mix when more memories are asked for than the file holds.
    return {
      source: options.data,
      memories: Array.from({ length: options.memories }, (_, i) => turns[i % turns.length]!),
      questions: asked.slice(0, options.questions),
    };
  }
  const random = seededRandom(16);
  return {
    source: 'generated (seed 16)',
    memories: Array.from({ length: options.memories }, () => generatedMemory(random)),
    questions: Array.from(
      { length: options.questions },
      () =>
        `${pick(random, QUESTION_STARTS)} ${pick(random, SPEAKERS)} ${pick(random, QUESTION_ENDS)}?`,
    ),
  };
}
