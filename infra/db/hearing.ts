import type { ListenHandlers } from './pg-listener.ts';

/**
 * What every cache kept true by `LISTEN` shares: whether changes are heard
 * now (only then may it answer from memory), and an epoch handed to each
 * database read as it starts, so a read that was in flight when the cache
 * was emptied (or a change was heard) is not remembered. `forget` empties the
 * cache's own contents; the cache calls {@link Hearing.clear} for that.
 */
export function createHearing(forget: () => void, readyAtStart = false) {
  let ready = readyAtStart;
  let epoch = 0;
  const clear = () => {
    epoch += 1;
    forget();
  };
  return {
    /** Whether answers may come from memory. */
    get ready() {
      return ready;
    },
    /** Taken before a database read, handed back to {@link current} with its answer. */
    begin(): number {
      return epoch;
    },
    /** Whether a read begun at `startedAt` may be remembered. */
    current(startedAt: number): boolean {
      return ready && startedAt === epoch;
    },
    /** Reads in flight now are not to be remembered (a change was heard). */
    moveOn() {
      epoch += 1;
    },
    /** Empties the cache; reads in flight are not remembered. */
    clear,
    /** Changes are heard from now on: start empty. */
    listening() {
      clear();
      ready = true;
    },
    /** Changes may be missed: stop answering from memory. */
    deaf() {
      ready = false;
      clear();
    },
  };
}

export type Hearing = ReturnType<typeof createHearing>;

/** The listen handlers of a cache: its messages, and its hearing's ready and lost. */
export const hearingHandlers = (
  hearing: Pick<Hearing, 'listening' | 'deaf'>,
  onMessage: (payload: string) => void,
): ListenHandlers => ({
  onMessage,
  onReady: () => hearing.listening(),
  onLost: () => hearing.deaf(),
});
