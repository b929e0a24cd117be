import { z } from 'zod';
import type { MemoryGraph } from '../ports/graph-store.ts';
import type { LanguageModel } from '../ports/language-model.ts';

export interface EntityExtractor {
  extract(content: string): Promise<{ graph: MemoryGraph; modelCalls: number }>;
  /**
   * The graphs of several memories of one user (never mix users: one prompt), in
   * order: with a model, one call per
   * {@link EXTRACT_BATCH_MAX} memories (fewer when they are long), each
   * memory the model leaves out or answers off-schema extracted locally.
   */
  extractMany(contents: readonly string[]): Promise<{ graphs: MemoryGraph[]; modelCalls: number }>;
}

/** Memories per batched extraction call. */
export const EXTRACT_BATCH_MAX = 16;
/** Characters of memory content per batched extraction call (a longer memory goes alone). */
export const EXTRACT_BATCH_CHARS = 12_000;

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

const BATCH_SYSTEM = `The prompt is a JSON array of a user's saved memories, each {"id":<number>,"text":"..."}.
For each memory, extract the named entities in its text and how they relate (within that memory only).
Answer with JSON only: {"memories":[{"id":<number>,"entities":[{"name":"...","type":"person|place|organization|topic|thing"}],
"relations":[{"from":"<entity name>","to":"<entity name>","type":"UPPER_SNAKE_VERB"}]}]}`;

const modelBatchSchema = z.object({
  memories: z.array(z.object({ id: z.number().int() }).passthrough()).max(EXTRACT_BATCH_MAX * 2),
});

/** The model's graph, cleaned: entity types lower-cased, relations only between named entities. */
function cleanGraph(data: z.infer<typeof modelGraphSchema>): MemoryGraph {
  const names = new Set(data.entities.map((e) => entityKey(e.name)));
  return {
    entities: data.entities.map((e) => ({ name: e.name, type: e.type.toLowerCase() })),
    // A relation must join two entities the model named.
    relations: data.relations
      .filter((r) => names.has(entityKey(r.from)) && names.has(entityKey(r.to)))
      .map((r) => ({ ...r, type: relationType(r.type) })),
  };
}

/** Consecutive groups of at most `max` contents and about `chars` characters. */
function chunks(contents: readonly string[], max: number, chars: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let size = 0;
  contents.forEach((content, i) => {
    if (current.length > 0 && (current.length >= max || size + content.length > chars)) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(i);
    size += content.length;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Extracts with the model when configured, and locally when not or when the model fails. */
export function createEntityExtractor(options: {
  model: LanguageModel | null;
  timeoutMs: number;
}): EntityExtractor {
  const { model, timeoutMs } = options;
  const extract: EntityExtractor['extract'] = async (content) => {
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
      return { graph: cleanGraph(parsed.data), modelCalls: 1 };
    } catch {
      return { graph: localExtract(content), modelCalls: 1 };
    }
  };

  /** One call for a group; every memory the answer lacks or spoils is extracted locally. */
  const extractGroup = async (contents: readonly string[]): Promise<MemoryGraph[]> => {
    const byId = new Map<number, MemoryGraph>();
    try {
      const answer = await model!.generate({
        system: BATCH_SYSTEM,
        prompt: JSON.stringify(contents.map((text, i) => ({ id: i + 1, text }))),
        json: true,
        temperature: 0,
        timeoutMs,
      });
      const parsed = modelBatchSchema.safeParse(JSON.parse(answer.text));
      for (const item of parsed.success ? parsed.data.memories : []) {
        const graph = modelGraphSchema.safeParse(item);
        if (graph.success && !byId.has(item.id)) byId.set(item.id, cleanGraph(graph.data));
      }
    } catch {
      // The model failed or answered something else: the local extraction serves them all.
    }
    return contents.map((content, i) => byId.get(i + 1) ?? localExtract(content));
  };

  return {
    extract,
    async extractMany(contents) {
      if (!model) return { graphs: contents.map(localExtract), modelCalls: 0 };
      if (contents.length === 1) {
        const one = await extract(contents[0]!);
        return { graphs: [one.graph], modelCalls: one.modelCalls };
      }
      const groups = chunks(contents, EXTRACT_BATCH_MAX, EXTRACT_BATCH_CHARS);
      const answered = await Promise.all(
        groups.map((group) => extractGroup(group.map((i) => contents[i]!))),
      );
      const graphs = new Array<MemoryGraph>(contents.length);
      groups.forEach((group, g) => group.forEach((i, j) => (graphs[i] = answered[g]![j]!)));
      return { graphs, modelCalls: groups.length };
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
