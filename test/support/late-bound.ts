import { after, before } from 'node:test';

/**
 * A stand-in for an object that exists only once a `before` hook has made it:
 * every property read (and a spread) goes to `current()` at the time, so
 * tests declared at registration time use it as if it were already there.
 */
export function lateBound<T extends object>(current: () => T): T {
  return new Proxy({} as T, {
    get(_, key) {
      const target = current();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (_, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    // Reported configurable: the proxy's own (empty) target may not hold a fixed property.
    getOwnPropertyDescriptor(_, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/**
 * Opens a fixture before the current suite's tests and closes it after them
 * (call it inside `describe`). Returns a late-bound stand-in for it; reading
 * it outside the suite's tests throws, naming `what`.
 */
export function suiteFixture<T extends object>(
  what: string,
  open: () => Promise<T>,
  close: (fixture: T) => Promise<void>,
): T {
  let opened: T | undefined;
  before(async () => {
    opened = await open();
  });
  after(async () => {
    if (opened) await close(opened);
  });
  return lateBound(() => {
    if (!opened) throw new Error(`${what} is used outside its suite's tests`);
    return opened;
  });
}
