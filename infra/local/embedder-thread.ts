// The body of one embedding thread (see threaded-embedder.ts): a local model session of its
// own, answering one request at a time, so its CPU-bound model calls never run on the event
// loop that serves requests.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { EmbedKind } from '../../core/ports/embedder.ts';
import { createLocalEmbedder, type LocalModelSpec } from './local-model.ts';

export interface ThreadRequest {
  id: number;
  texts: string[];
  kind: EmbedKind;
}

export type ThreadReply =
  { id: number; vectors: Float64Array; dimension: number } | { id: number; error: string };

const port = parentPort!;
const spec = workerData as LocalModelSpec;
if (spec.niceness) lowerThisThread(spec.niceness);
const session = createLocalEmbedder(spec);
// A failed load is answered to every request; keep it from surfacing as unhandled meanwhile.
session.catch(() => undefined);
let queue: Promise<void> = Promise.resolve();

port.on('message', (request: ThreadRequest) => {
  queue = queue.then(async () => {
    try {
      const embedder = await session;
      const vectors = await embedder.embed(request.texts, { kind: request.kind });
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

/**
 * Lowers this thread's priority by `niceness` (and that of the model
 * session's intra-op threads, created from it afterwards, which inherit it). On Linux a thread id names one
 * thread to setpriority; elsewhere, or when refused, the thread keeps the
 * process's priority.
 */
function lowerThisThread(niceness: number) {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    // Relative to the thread's own (the process's): a process started at nice 10 puts it at 15.
    if (Number.isSafeInteger(tid) && tid > 0) {
      os.setPriority(tid, Math.min(19, os.getPriority(tid) + niceness));
    }
  } catch {
    // No /proc/thread-self (not Linux) or not permitted: same priority as the process.
  }
}
