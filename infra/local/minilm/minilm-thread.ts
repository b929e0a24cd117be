// The body of one embedding thread (see threaded-minilm.ts): a MiniLM session of its own,
// answering one request at a time, so its CPU-bound model calls never run on the event
// loop that serves requests.
import { parentPort, workerData } from 'node:worker_threads';
import { createMiniLmEmbedder } from './minilm-embedder.ts';

export interface ThreadRequest {
  id: number;
  texts: string[];
}

export type ThreadReply =
  { id: number; vectors: Float64Array; dimension: number } | { id: number; error: string };

const { modelDir, threads } = workerData as { modelDir: string; threads: number };
const port = parentPort!;
const session = createMiniLmEmbedder({ modelDir, threads });
// A failed load is answered to every request; keep it from surfacing as unhandled meanwhile.
session.catch(() => undefined);
let queue: Promise<void> = Promise.resolve();

port.on('message', (request: ThreadRequest) => {
  queue = queue.then(async () => {
    try {
      const embedder = await session;
      const vectors = await embedder.embed(request.texts);
      const flat = new Float64Array(vectors.length * embedder.dimension);
      vectors.forEach((vector, row) => flat.set(vector, row * embedder.dimension));
      const reply: ThreadReply = { id: request.id, vectors: flat, dimension: embedder.dimension };
      port.postMessage(reply, [flat.buffer]);
    } catch (error) {
      const reply: ThreadReply = {
        id: request.id,
        error: error instanceof Error ? error.message : String(error),
      };
      port.postMessage(reply);
    }
  });
});
