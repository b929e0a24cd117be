// The quality benchmark's corpus in the product: one user per conversation, every
// turn saved as a memory, and the way back from a memory id to the turns it holds.
import { checkInterrupted, createUser, SETUP_CALL, userClient } from '../bench-kit.ts';
import type { LocomoConversation } from '../locomo.ts';
import { datedTurnMemory } from './session-time.ts';

const SAVE_BATCH = 100;

export interface UserCorpus {
  conversation: LocomoConversation;
  key: string;
  /** Memory id → the dia_ids of the turns with that content (identical turns share one memory). */
  diaIds: Map<string, string[]>;
}

/** Creates the conversation's user and saves its turns in batches of 100, each dated by its session. */
export async function saveConversation(
  url: string,
  adminKey: string,
  conversation: LocomoConversation,
): Promise<UserCorpus> {
  const { key } = await createUser(url, adminKey, { name: conversation.id });
  const diaIds = new Map<string, string[]>();
  for (let i = 0; i < conversation.turns.length; i += SAVE_BATCH) {
    checkInterrupted();
    const turns = conversation.turns.slice(i, i + SAVE_BATCH);
    const memories = turns.map(datedTurnMemory).map(({ occurredAt, ...memory }) => ({
      ...memory,
      ...(occurredAt ? { occurred_at: occurredAt.toISOString() } : {}),
    }));
    const { ids } = await userClient(url, key).memories.saveMany(memories, SETUP_CALL);
    turns.forEach((turn, j) => {
      const list = diaIds.get(ids[j]!) ?? [];
      diaIds.set(ids[j]!, [...list, turn.diaId]);
    });
  }
  return { conversation, key, diaIds };
}
