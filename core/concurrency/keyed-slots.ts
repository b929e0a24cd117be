/**
 * At most `slots` holders per key at once (per user, for the API's requests):
 * more wait their turn in arrival order, at most `queue` of them and for at
 * most `waitMs` each; one past either bound is refused. Keys with nobody
 * running or waiting take no memory.
 */
export interface KeyedSlots {
  /**
   * Resolves to the function that gives the slot back (once; later calls do
   * nothing) when one is free, or to null when the key's queue is full or the
   * wait ran out.
   */
  acquire(key: string): Promise<(() => void) | null>;
  /** Holders and waiters of `key` now. */
  load(key: string): { running: number; waiting: number };
}

export interface KeyedSlotsOptions {
  slots: number;
  queue: number;
  waitMs: number;
}

interface Waiter {
  grant: (release: (() => void) | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface KeyState {
  running: number;
  waiting: Waiter[];
}

export function createKeyedSlots({ slots, queue, waitMs }: KeyedSlotsOptions): KeyedSlots {
  const keys = new Map<string, KeyState>();

  const releaser = (key: string, state: KeyState) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = state.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant(releaser(key, state));
        return;
      }
      state.running--;
      if (state.running === 0) keys.delete(key);
    };
  };

  return {
    acquire(key) {
      let state = keys.get(key);
      if (!state) {
        state = { running: 0, waiting: [] };
        keys.set(key, state);
      }
      if (state.running < slots) {
        state.running++;
        return Promise.resolve(releaser(key, state));
      }
      if (state.waiting.length >= queue) return Promise.resolve(null);
      const own = state;
      return new Promise((grant) => {
        const waiter: Waiter = {
          grant,
          timer: setTimeout(() => {
            const at = own.waiting.indexOf(waiter);
            if (at >= 0) own.waiting.splice(at, 1);
            grant(null);
          }, waitMs),
        };
        own.waiting.push(waiter);
      });
    },
    load(key) {
      const state = keys.get(key);
      return { running: state?.running ?? 0, waiting: state?.waiting.length ?? 0 };
    },
  };
}
