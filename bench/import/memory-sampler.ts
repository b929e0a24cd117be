// The product process's memory by kind while the import runs (`GET /status`, every second):
// resident memory, the V8 heap and the memory outside it (buffers, the model's arenas), so a
// growth in RSS can be told apart from garbage not yet collected.
import { sleep } from '../kit/lifecycle.ts';

export type MemoryReading = Record<'rss' | 'heapUsed' | 'heapTotal' | 'external', number>;

const MB = 2 ** 20;

async function read(url: string): Promise<MemoryReading | null> {
  try {
    const res = await fetch(`${url}/status`);
    return ((await res.json()) as { memory: MemoryReading }).memory;
  } catch {
    return null;
  }
}

/** Samples until stopped; resolves to the first reading and the highest of each kind (MB). */
export function startMemorySampler(url: string) {
  let running = true;
  const peak: MemoryReading = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
  let first: MemoryReading | null = null;
  const loop = (async () => {
    while (running) {
      const reading = await read(url);
      if (reading) {
        first ??= reading;
        for (const key of Object.keys(peak) as (keyof MemoryReading)[]) {
          peak[key] = Math.max(peak[key], reading[key]);
        }
      }
      await sleep(1000);
    }
  })();
  const mb = (r: MemoryReading) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, Math.round(v / MB)]),
    ) as unknown as MemoryReading;
  return {
    async stop() {
      running = false;
      await loop;
      return { first: first ? mb(first) : null, peak: mb(peak) };
    },
  };
}
