import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoSaver } from '../../core/engine/engine-services.ts';
import type { MemoryService } from '../../core/memories/memory-service.ts';
import type { NewMemory } from '../../core/ports/relational-store.ts';

/** A memory service that records what it is asked to save (the store is not what is tested). */
function recordingMemories() {
  const saved: NewMemory[] = [];
  const memories = {
    async save(_userId: string, list: readonly NewMemory[]) {
      saved.push(...list);
      return [];
    },
  } as unknown as MemoryService;
  return { saved, memories };
}

describe('auto-saving messages the plan found worth keeping', () => {
  it('saves a message within the memory limit, tagged auto-saved', async () => {
    const { saved, memories } = recordingMemories();
    await autoSaver(memories, {}, 20)('user', 'I moved to Lisbon');
    assert.deepEqual(saved, [{ content: 'I moved to Lisbon', tags: ['auto-saved'] }]);
  });

  it('skips a message longer than the memory limit, as a save through the API would refuse it', async () => {
    const { saved, memories } = recordingMemories();
    const remember = autoSaver(memories, {}, 20);
    await remember('user', 'x'.repeat(21));
    await remember('user', `  ${'y'.repeat(20)}  `);
    assert.deepEqual(saved, [{ content: `  ${'y'.repeat(20)}  `, tags: ['auto-saved'] }]);
  });
});
