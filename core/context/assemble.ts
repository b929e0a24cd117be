import type { Memory, Narrative } from '../ports/relational-store.ts';

/**
 * The context text an assistant reads: the user's narrative when there is
 * one, then the memories, most relevant first, each with the date its event
 * happened (the save date unless the client gave one).
 */
export function assembleContext(narrative: Narrative | null, memories: readonly Memory[]): string {
  const parts: string[] = [];
  if (narrative) parts.push(`About the user:\n${narrative.content.trim()}`);
  if (memories.length > 0) {
    const lines = memories.map(
      (m) => `- (${new Date(m.occurredAt).toISOString().slice(0, 10)}) ${m.content.trim()}`,
    );
    parts.push(`Relevant memories:\n${lines.join('\n')}`);
  }
  return parts.join('\n\n');
}
