import type { Narrative } from '../../core/ports/relational-store.ts';
import { createHearing } from './hearing.ts';

/** The channel a user's narratives changing is announced on, with the user's id as payload. */
export const NARRATIVE_CHANNEL = 'memory_engine_narrative';

/** Users whose latest narrative is remembered (a portrait is a few KB: a few MB in all). */
const MAX_USERS = 2_000;

/**
 * Remembers users' latest narratives (or that they have none yet), so the
 * first message of a conversation, and every plan that wants the portrait,
 * do not cost a database round trip for it. A trigger announces every
 * narrative saved or deleted when it commits, and what is remembered for
 * that user is forgotten when it is heard; a read in flight meanwhile is
 * not remembered. Narratives change a few times an hour per user, so this
 * holds for the users who are talking now, least recently read forgotten
 * first.
 *
 * Only usable while changes are heard (see the data version cache).
 */
export function createNarrativeCache(maxUsers = MAX_USERS) {
  const narratives = new Map<string, Narrative | null>();
  const hearing = createHearing(() => narratives.clear());

  return {
    /** The narrative remembered (null: none yet); undefined when not remembered. */
    get(userId: string): Narrative | null | undefined {
      if (!hearing.ready) return undefined;
      const narrative = narratives.get(userId);
      if (narrative === undefined) return undefined;
      // Read lately: kept longest.
      narratives.delete(userId);
      narratives.set(userId, narrative);
      return narrative;
    },
    /** Taken before a database read, handed back to {@link set} with its answer. */
    begin: hearing.begin,
    set(userId: string, narrative: Narrative | null, startedAt: number) {
      if (!hearing.current(startedAt)) return;
      narratives.delete(userId);
      if (narratives.size >= maxUsers) {
        const oldest = narratives.keys().next().value;
        if (oldest !== undefined) narratives.delete(oldest);
      }
      narratives.set(userId, narrative);
    },
    /** A user's narratives changed: a read in flight is not remembered either. */
    heard(userId: string) {
      hearing.moveOn();
      narratives.delete(userId);
    },
    listening: hearing.listening,
    deaf: hearing.deaf,
  };
}

export type NarrativeCache = ReturnType<typeof createNarrativeCache>;
