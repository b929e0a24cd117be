import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Test files that run one at a time, after the others, with nothing beside
 * them. Every other file may share the machine with one more: each keeps to
 * its own users, task queues, databases and ports, and most of a file's time
 * is spent waiting on Temporal timers, retries and child processes, which
 * leaves a core idle. A file belongs here when it reads state the other files
 * write, or when it asserts an upper bound on elapsed time that a second
 * busy process on a 2-core machine could push it past.
 */
export const RUN_ALONE: readonly { file: string; why: string }[] = [
  {
    file: 'test/integration/vector-index.pgvector.test.ts',
    why: "asserts the total count of a table in the run's pgvector database, which other files write to",
  },
  { file: 'test/client/bench-client.test.ts', why: 'a 429 within 500 ms, a timeout within 1 s' },
  {
    file: 'test/client/client-resilience.test.ts',
    why: 'gives up within 450 ms, aborts within 800 ms',
  },
  {
    file: 'test/integration/rate-limit.test.ts',
    why: 'a token 200 ms away is granted within 900 ms',
  },
  { file: 'test/integration/e5-embedder.test.ts', why: 'a second install check within 1 s' },
  {
    file: 'test/integration/minilm-threads.test.ts',
    why: 'a query embedded on its own thread before a large batch on another',
  },
  { file: 'test/unit/ipc-token-buckets.test.ts', why: 'a refused take within 1 s' },
];

/** Every `*.test.ts` under `dir`, relative to `root`, in name order. */
export async function testFiles(root: string, dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

/** The files that may run beside another (`shared`) and those that run alone, in order. */
export function testLanes(files: readonly string[]): { shared: string[]; alone: string[] } {
  const alone = new Set(RUN_ALONE.map((entry) => path.normalize(entry.file)));
  const isAlone = (file: string) => alone.has(path.normalize(file));
  return { shared: files.filter((f) => !isAlone(f)), alone: files.filter(isAlone) };
}
