// Another user going about their business while the import runs: a search every 250 ms
// and a save every 2 s, each save followed until it is indexed. Their latencies say
// whether one user's import starves another user's requests.
import type { MemoryEngineClient } from '../../client/src/index.ts';
import { sleep } from '../kit/lifecycle.ts';

export interface BystanderFigures {
  searchesMs: number[];
  /** From a save's answer until `GET /v1/memories/:id` says indexed. */
  saveToIndexedMs: number[];
  failures: string[];
}

export function startBystander(client: MemoryEngineClient) {
  const figures: BystanderFigures = { searchesMs: [], saveToIndexedMs: [], failures: [] };
  let running = true;
  const note = (error: unknown) =>
    figures.failures.push(error instanceof Error ? error.message : String(error));
  const searches = (async () => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      await client
        .search({ query: `what did I say about the garden ${i % 7}`, limit: 10 })
        .then(() => figures.searchesMs.push(performance.now() - started), note);
      await sleep(250);
    }
  })();
  const saves = (async () => {
    for (let i = 0; running; i++) {
      try {
        const saved = await client.memories.save({
          content: `Bystander note ${i}: the garden needs water ${Date.now()}`,
        });
        const acked = performance.now();
        while (running && (await client.memories.get(saved.id)).index_state === 'pending')
          await sleep(100);
        if (running) figures.saveToIndexedMs.push(performance.now() - acked);
      } catch (error) {
        note(error);
      }
      await sleep(2000);
    }
  })();
  return {
    async stop(): Promise<BystanderFigures> {
      running = false;
      await Promise.all([searches, saves]);
      return figures;
    },
  };
}
