/** Stage timings of one context request, in milliseconds to two decimals. */
export interface Stopwatch {
  /** The timings so far, by stage; `total` once `finish` has run. */
  readonly timings: Record<string, number>;
  /** Runs a synchronous step and records its duration under `stage`. */
  measure<T>(stage: string, step: () => T): T;
  /** Awaits a step and records its duration under `stage`; a step that throws records none. */
  measureAsync<T>(stage: string, step: () => Promise<T>): Promise<T>;
  /** Records `total` (since the stopwatch started) and hands `result` back. */
  finish<T>(result: T): T;
}

/** Starts the clock of one request: every stage and the total are measured from here. */
export function startStopwatch(): Stopwatch {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const since = (from: number) => Math.round((performance.now() - from) * 100) / 100;
  return {
    timings,
    measure(stage, step) {
      const from = performance.now();
      const value = step();
      timings[stage] = since(from);
      return value;
    },
    async measureAsync(stage, step) {
      const from = performance.now();
      const value = await step();
      timings[stage] = since(from);
      return value;
    },
    finish(result) {
      timings.total = since(started);
      return result;
    },
  };
}
