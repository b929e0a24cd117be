/**
 * Shares one in-flight promise between callers asking for the same key, so
 * identical concurrent requests (the same planning prompt) cost one call.
 */
export function createSingleFlight<T>() {
  const inFlight = new Map<string, Promise<T>>();
  let shared = 0;
  return {
    run(key: string, work: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
      const existing = inFlight.get(key);
      if (existing) {
        shared++;
        return { promise: existing, shared: true };
      }
      const promise = work().finally(() => inFlight.delete(key));
      inFlight.set(key, promise);
      return { promise, shared: false };
    },
    sharedCount: () => shared,
  };
}
