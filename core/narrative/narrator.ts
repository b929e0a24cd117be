import type { LanguageModel } from '../ports/language-model.ts';
import type { Memory } from '../ports/relational-store.ts';

export interface NarrativeDraft {
  content: string;
  /** `local` for the deterministic narrator, else the model's id. */
  model: string;
  modelCalls: number;
  fallbackReason?: string;
}

export interface Narrator {
  write(memories: readonly Memory[]): Promise<NarrativeDraft>;
}

const IDENTITY =
  /\b(i am|i'm|my name|i live|i grew up|i was born|i moved|years old|my (?:wife|husband|partner|family|kids?|son|daughter))\b/i;
const WORK =
  /\b(work|job|project|career|building|studying|learning|team|company|startup|goal|plan|launch|deadline)\b/i;
const STYLE =
  /\b(prefer|like|love|hate|don't like|dislike|favou?rite|style|tone|brief|detailed|concise)\b/i;

function sentences(memories: readonly Memory[], pattern: RegExp, limit: number): string[] {
  return memories
    .filter((m) => pattern.test(m.content))
    .slice(0, limit)
    .map((m) =>
      m.content
        .trim()
        .replace(/\s+/g, ' ')
        .replace(/([^.!?])$/, '$1.'),
    );
}

/**
 * Writes a portrait from the memories alone, deterministically: what the
 * engine serves when no model is configured or the model fails.
 */
export function localNarrative(memories: readonly Memory[]): string {
  if (memories.length === 0) return 'Nothing is known about this user yet.';
  const newestFirst = [...memories].sort((a, b) => +new Date(b.createdAt) - +new Date(a.createdAt));
  const identity = sentences(newestFirst, IDENTITY, 4);
  const work = sentences(newestFirst, WORK, 4);
  const style = sentences(newestFirst, STYLE, 4);
  const tagCounts = new Map<string, number>();
  for (const m of memories) for (const t of m.tags) tagCounts.set(t, (tagCounts.get(t) ?? 0) + 1);
  const topTags = [...tagCounts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([t]) => t);
  const oldest = newestFirst[newestFirst.length - 1]!;
  const newest = newestFirst[0]!;
  const span = `${new Date(oldest.createdAt).toISOString().slice(0, 10)} to ${new Date(newest.createdAt).toISOString().slice(0, 10)}`;

  return [
    `Who they are: ${identity.length > 0 ? identity.join(' ') : 'they have shared little about themselves so far.'}`,
    `Current work and direction: ${work.length > 0 ? work.join(' ') : sentences(newestFirst, /./, 3).join(' ')}`,
    `How they like to communicate: ${style.length > 0 ? style.join(' ') : 'no stated preferences yet; keep answers clear and direct.'}`,
    `Patterns over time: ${memories.length} memories from ${span}${topTags.length > 0 ? `, mostly about ${topTags.join(', ')}` : ''}.`,
  ].join('\n\n');
}

const SYSTEM = `You write a short portrait of a user for their AI assistant, from their saved memories.
Write 3 to 4 paragraphs: who they are; their current work and direction; how they like to
communicate; patterns over time. Use only what the memories say. Plain text, no headings.`;

/** Writes narratives with the model when configured, else (or on failure) locally. */
export function createNarrator(options: {
  model: LanguageModel | null;
  timeoutMs: number;
}): Narrator {
  const { model, timeoutMs } = options;
  return {
    async write(memories) {
      if (!model || memories.length === 0) {
        return { content: localNarrative(memories), model: 'local', modelCalls: 0 };
      }
      const prompt = memories
        .map((m) => `- [${new Date(m.createdAt).toISOString().slice(0, 10)}] ${m.content}`)
        .join('\n');
      try {
        const answer = await model.generate({
          system: SYSTEM,
          prompt,
          timeoutMs,
          temperature: 0.3,
        });
        const content = answer.text.trim();
        if (content.length < 40) throw new Error('narrative too short');
        return { content, model: model.id, modelCalls: 1 };
      } catch (error) {
        return {
          content: localNarrative(memories),
          model: 'local',
          modelCalls: 1,
          fallbackReason: error instanceof Error ? error.message : String(error),
        };
      }
    },
  };
}
