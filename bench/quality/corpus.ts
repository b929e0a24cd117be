// The quality benchmark's corpus in the product: one user per conversation, every
// turn saved as a memory, and the way back from a memory id to the turns it holds.
import { checkInterrupted, createUser, SETUP_CALL, userClient } from '../bench-kit.ts';
import { turnMemory, type LocomoConversation } from '../locomo.ts';

const SAVE_BATCH = 100;

export interface UserCorpus {
  conversation: LocomoConversation;
  key: string;
  /** Memory id → the dia_ids of the turns with that content (identical turns share one memory). */
  diaIds: Map<string, string[]>;
}

/** Creates the conversation's user and saves its turns in batches of 100. */
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
    const { ids } = await userClient(url, key).memories.saveMany(turns.map(turnMemory), SETUP_CALL);
    turns.forEach((turn, j) => {
      const list = diaIds.get(ids[j]!) ?? [];
      diaIds.set(ids[j]!, [...list, turn.diaId]);
    });
  }
  return { conversation, key, diaIds };
}
