import { Worker } from 'node:worker_threads';
import { currentPriority, type WorkPriority } from '../../core/concurrency/work-priority.ts';
import { embedKind, type EmbedKind } from '../../core/ports/embedder.ts';
import type { ThreadReply, ThreadRequest } from './embedder-thread.ts';
import {
  LOCAL_MODEL_SPACES,
  type LocalEmbedder,
  type LocalModelName,
  type LocalModelSpec,
} from './local-model.ts';

/** Options of {@link createThreadedEmbedder}. */
export interface ThreadedEmbedderOptions {
  model: LocalModelName;
  /** The installed model's directory. */
  dir: string;
  /** Intra-op threads of each lane's model session. */
  threads: Record<WorkPriority, number>;
  /** How much nicer than the process a lane's threads are (Linux), when it should yield the CPU. */
  niceness?: Partial<Record<WorkPriority, number>>;
}

// A worker thread does not inherit the TypeScript loader the process runs under
// (`--import tsx`), so the thread registers it before loading its .ts body.
const THREAD_BODY = new URL('./embedder-thread.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');
const THREAD_BOOT = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_BODY)}); })`;

interface Lane {
  embed(texts: string[], kind: EmbedKind): Promise<number[][]>;
  close(): Promise<void>;
}

/**
 * A local model (MiniLM or e5) off the event loop: onnxruntime-node runs a
 * model call synchronously on the calling thread, so in process a batch of
 * indexing texts would hold every request behind it. Here each priority
 * ({@link currentPriority}: queries `interactive`, indexing and other
 * background work `background`) has a worker thread and model session of its
 * own, started on first use: a query never queues behind an indexing batch,
 * and a process that only answers queries (or only indexes) loads one session.
 * The kind of text (query or passage) travels with each request. A thread
 * that dies fails its requests and is started again on the next call.
 */
export function createThreadedEmbedder(options: ThreadedEmbedderOptions): LocalEmbedder {
  const lanes = new Map<WorkPriority, Lane>();
  const laneFor = (priority: WorkPriority): Lane => {
    let lane = lanes.get(priority);
    if (!lane) {
      const spec: LocalModelSpec = {
        model: options.model,
        dir: options.dir,
        threads: options.threads[priority],
        ...(options.niceness?.[priority] ? { niceness: options.niceness[priority] } : {}),
      };
      lane = startLane(spec, () => {
        if (lanes.get(priority) === lane) lanes.delete(priority);
      });
      lanes.set(priority, lane);
    }
    return lane;
  };
  return {
    ...LOCAL_MODEL_SPACES[options.model],
    embed: (texts, embedOptions) =>
      texts.length === 0
        ? Promise.resolve([])
        : laneFor(currentPriority()).embed([...texts], embedKind(embedOptions)),
    async close() {
      const open = [...lanes.values()];
      lanes.clear();
      await Promise.all(open.map((lane) => lane.close()));
    },
  };
}

function startLane(spec: LocalModelSpec, onExit: () => void): Lane {
  const worker = new Worker(THREAD_BOOT, { eval: true, workerData: spec });
  const pending = new Map<number, { resolve(v: number[][]): void; reject(e: Error): void }>();
  let nextId = 0;
  let exited: Error | null = null;
  // An idle thread must not keep the process alive; a request in flight must.
  worker.unref();
  const settle = (id: number) => {
    const waiter = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return waiter;
  };
  worker.on('message', (reply: ThreadReply) => {
    const waiter = settle(reply.id);
    if (!waiter) return;
    if ('error' in reply) {
      waiter.reject(new Error(`local embedder: ${reply.error}`));
      return;
    }
    const vectors: number[][] = [];
    for (let row = 0; row * reply.dimension < reply.vectors.length; row++) {
      vectors.push(
        Array.from(reply.vectors.subarray(row * reply.dimension, (row + 1) * reply.dimension)),
      );
    }
    waiter.resolve(vectors);
  });
  const fail = (error: Error) => {
    exited ??= error;
    onExit();
    for (const id of [...pending.keys()]) settle(id)?.reject(error);
  };
  worker.on('error', (error) => fail(new Error(`local embedder thread failed: ${error.message}`)));
  worker.on('exit', (code) => fail(new Error(`local embedder thread exited (code ${code})`)));
  return {
    embed(texts, kind) {
      if (exited) return Promise.reject(exited);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.ref();
        const request: ThreadRequest = { id, texts, kind };
        worker.postMessage(request);
      });
    },
    async close() {
      exited ??= new Error('local embedder closed');
      await worker.terminate();
    },
  };
}
