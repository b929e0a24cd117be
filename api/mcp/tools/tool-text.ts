/** ` [tags: a, b]`, or nothing for a memory without tags. */
export const tagList = (tags: readonly string[]): string =>
  tags.length > 0 ? ` [tags: ${tags.join(', ')}]` : '';

/** One `- ` line per item, or `empty` when there is none. */
export function bulletList<T>(items: readonly T[], empty: string, line: (item: T) => string) {
  return items.length === 0 ? empty : items.map((item) => `- ${line(item)}`).join('\n');
}

/** A memory on one line: `<id> (<note>): <content> [tags: …]`. */
export const memoryLine = (
  m: { id: string; content: string; tags: readonly string[] },
  note: string,
): string => `${m.id} (${note}): ${m.content}${tagList(m.tags)}`;
