import type { Memory } from '../../core/ports/relational-store.ts';

/** An active, indexed memory of `userId` whose content names its id, with `extra` on top. */
export function memoryFixture(id: string, userId: string, extra: Partial<Memory> = {}): Memory {
  return {
    id,
    userId,
    content: `memory ${id}`,
    tags: [],
    metadata: {},
    state: 'active',
    indexState: 'indexed',
    revision: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    occurredAt: new Date(0),
    expiresAt: null,
    ...extra,
  };
}
