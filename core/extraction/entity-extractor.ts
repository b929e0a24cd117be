import { z } from 'zod';
import type { MemoryGraph } from '../ports/graph-store.ts';
import type { LanguageModel } from '../ports/language-model.ts';

export interface EntityExtractor {
  extract(content: string): Promise<{ graph: MemoryGraph; modelCalls: number }>;
}

// Capitalised words that start sentences or address the assistant, not entities.
const NOT_ENTITIES = new Set(
  (
    'I Im Ive Id Ill My Me We Our You Your He She His Her They Their It Its The A An This That ' +
    'These Those And But Or So If When Then Also Just Yesterday Today Tomorrow Remember Please ' +
    'Note Hi Hello Hey Thanks Yes No Ok Okay What Who Where Why How Which Do Does Did Is Are Was'
  ).split(' '),
);

const RELATION_PATTERNS: [RegExp, string][] = [
  [/\b(works?|working|worked) (at|for)\b/i, 'WORKS_AT'],
  [/\b(lives?|living|lived|moved) (in|to)\b/i, 'LIVES_IN'],
  [/\b(married to|wife|husband|partner)\b/i, 'PARTNER_OF'],
  [/\b(sister|brother|mother|father|mom|dad|son|daughter|cousin)\b/i, 'FAMILY_OF'],
  [/\b(friend|colleague|boss|manager|coworker)\b/i, 'KNOWS'],
  [/\b(studies|studied|studying|student) at\b/i, 'STUDIES_AT'],
];

const TRAILING_MARKS = new Set(["'", '’', '-']);

/**
 * `word` without trailing apostrophes and hyphens ("James'" → "James"), in
 * one pass from the end: `/['’-]+$/` would retry a long run of them from
 * each of its characters.
 */
function trimTrailingMarks(word: string): string {
  let end = word.length;
  while (end > 0 && TRAILING_MARKS.has(word[end - 1]!)) end--;
  return word.slice(0, end);
}

/**
 * Finds entities without a model: runs of capitalised words (names of people,
 * places, organisations), typed `thing`, linked by the verb between them when
 * a known pattern matches, else by co-mention.
 */
export function localExtract(content: string): MemoryGraph {
  const found: { name: string; index: number }[] = [];
  const pattern =
    /\p{Lu}[\p{L}\p{N}'’-]*(?:[ \t]+(?:of[ \t]+|de[ \t]+|van[ \t]+)?\p{Lu}[\p{L}\p{N}'’-]*)*/gu;
  for (const match of content.matchAll(pattern)) {
    const words = trimTrailingMarks(match[0]).split(/\s+/);
    while (words.length > 0 && NOT_ENTITIES.has(words[0]!.replace(/['’]/gu, ''))) words.shift();
    const name = words.join(' ');
    if (name.length < 2) continue;
    if (!found.some((f) => f.name.toLowerCase() === name.toLowerCase())) {
      found.push({ name, index: (match.index ?? 0) + match[0].indexOf(name) });
    }
  }
  const entities = found.slice(0, 12).map((f) => ({ name: f.name, type: 'thing' }));
  const relations: MemoryGraph['relations'] = [];
  for (let i = 0; i + 1 < found.length && i < 11; i++) {
    const from = found[i]!;
    const to = found[i + 1]!;
    const between = content.slice(from.index + from.name.length, to.index);
    // Entities in different sentences are not linked.
    if (/[.!?;\n]/.test(between)) continue;
    const type = RELATION_PATTERNS.find(([re]) => re.test(between))?.[1] ?? 'RELATED_TO';
    relations.push({ from: from.name, to: to.name, type });
  }
  return { entities, relations };
}

const modelGraphSchema = z.object({
  entities: z
    .array(
      z.object({ name: z.string().trim().min(1).max(120), type: z.string().trim().min(1).max(40) }),
    )
    .max(30),
  relations: z
    .array(
      z.object({
        from: z.string().trim().min(1).max(120),
        to: z.string().trim().min(1).max(120),
        type: z.string().trim().min(1).max(60),
      }),
    )
    .max(40),
});

const SYSTEM = `Extract the named entities in a user's saved memory and how they relate.
Answer with JSON only: {"entities":[{"name":"...","type":"person|place|organization|topic|thing"}],
"relations":[{"from":"<entity name>","to":"<entity name>","type":"UPPER_SNAKE_VERB"}]}`;

/** Extracts with the model when configured, and locally when not or when the model fails. */
export function createEntityExtractor(options: {
  model: LanguageModel | null;
  timeoutMs: number;
}): EntityExtractor {
  const { model, timeoutMs } = options;
  return {
    async extract(content) {
      if (!model) return { graph: localExtract(content), modelCalls: 0 };
      try {
        const answer = await model.generate({
          system: SYSTEM,
          prompt: content,
          json: true,
          temperature: 0,
          timeoutMs,
        });
        const parsed = modelGraphSchema.safeParse(JSON.parse(answer.text));
        if (!parsed.success) return { graph: localExtract(content), modelCalls: 1 };
        const names = new Set(parsed.data.entities.map((e) => entityKey(e.name)));
        return {
          graph: {
            entities: parsed.data.entities.map((e) => ({
              name: e.name,
              type: e.type.toLowerCase(),
            })),
            // A relation must join two entities the model named.
            relations: parsed.data.relations
              .filter((r) => names.has(entityKey(r.from)) && names.has(entityKey(r.to)))
              .map((r) => ({ ...r, type: relationType(r.type) })),
          },
          modelCalls: 1,
        };
      } catch {
        return { graph: localExtract(content), modelCalls: 1 };
      }
    },
  };
}

/** `works at` → `WORKS_AT`, keeping letters of any alphabet. */
export function relationType(type: string): string {
  const normalized = type
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
  return normalized || 'RELATED_TO';
}

/** Normalised form of an entity name: what the graph matches on. */
export function entityKey(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Finds known entity names in texts; built once per name list (each name normalised once). */
export interface EntityMatcher {
  (text: string): string[];
  /** Characters held, to bound a cache of matchers. */
  readonly size: number;
}

/** A matcher of `knownNames`: those that occur in a text as whole words, longest first. */
export function entityMatcher(knownNames: readonly string[]): EntityMatcher {
  const known = knownNames
    .map((name) => ({
      name,
      key: entityKey(name)
        .replace(/[^\p{L}\p{N}]+/gu, ' ')
        .trim(),
    }))
    .filter((k) => k.key.length > 1)
    .map((k) => ({ name: k.name, needle: ` ${k.key} ` }));
  const match = (text: string) => {
    const haystack = ` ${entityKey(text).replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
    return known
      .filter((k) => haystack.includes(k.needle))
      .map((k) => k.name)
      .sort((a, b) => b.length - a.length);
  };
  const size = known.reduce((sum, k) => sum + k.name.length + k.needle.length, 0);
  return Object.assign(match, { size });
}

/** Known entity names that occur in `text` as whole words, longest first. */
export function entitiesInText(text: string, knownNames: readonly string[]): string[] {
  return entityMatcher(knownNames)(text);
}
