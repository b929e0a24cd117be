// Letting the background work the seeding caused finish before measuring, so it does
// not run on the product's core during the measured load.
import { Client, Connection } from '@temporalio/client';
import { checkInterrupted, log, roundTo, sleep } from '../bench-kit.ts';

/**
 * Waits until the narrative scheduler's queue is empty: bulk seeding leaves
 * every user's portrait stale, and that one-off backlog would otherwise run
 * on the product's core during the measured load. Reads the queue depth from
 * `/metrics` (a query of the scheduler every 5 s).
 */
export async function drainNarratives(url: string, budgetS: number) {
  const started = Date.now();
  let depth: number | null = null;
  let last = 0;
  while (Date.now() - started < budgetS * 1000) {
    checkInterrupted();
    // fetch, not the API client: `/metrics` is Prometheus text, a route the client does not cover.
    const res = await fetch(`${url}/metrics`).catch(() => null);
    const text = res?.ok ? await res.text() : '';
    const m = /^\S*narrative_queue_depth\s+(\S+)$/m.exec(text);
    depth = m ? Number(m[1]) : null;
    if (depth === 0) break;
    if (Date.now() - last > 5000) {
      log(`narratives: ${depth ?? 'unknown'} users queued after seeding; waiting`);
      last = Date.now();
    }
    await sleep(2000);
  }
  // The last few generations run after the queue empties (at most the scheduler's concurrency).
  if (depth === 0) await sleep(6000);
  const seconds = roundTo((Date.now() - started) / 1000, 1);
  log(
    `narratives: queue ${depth === 0 ? 'drained' : `still ${depth ?? 'unknown'}`} after ${seconds} s`,
  );
  return { drained: depth === 0, remaining: depth, seconds };
}

/** Running workflows by type on the bench's dev server (visibility list). */
async function runningWorkflows(client: Client): Promise<Record<string, number>> {
  const byType: Record<string, number> = {};
  for await (const run of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    byType[run.type] = (byType[run.type] ?? 0) + 1;
  }
  return byType;
}

/**
 * Waits until no memory is being indexed: what the seeding's indexing hands
 * back to per-memory runs (or the reconciler re-requests) must not run on the
 * product's core during the measured load.
 */
export async function drainIndexing(address: string, budgetS: number) {
  const started = Date.now();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  let running: Record<string, number> = {};
  const indexing = () =>
    Object.entries(running)
      .filter(([type]) => type.startsWith('index'))
      .reduce((n, [, c]) => n + c, 0);
  try {
    while (Date.now() - started < budgetS * 1000) {
      checkInterrupted();
      running = await runningWorkflows(client);
      if (indexing() === 0) break;
      log(`indexing runs still going: ${JSON.stringify(running)}`);
      await sleep(3000);
    }
  } finally {
    await connection.close();
  }
  const seconds = roundTo((Date.now() - started) / 1000, 1);
  log(`running workflows before measuring: ${JSON.stringify(running)} (${seconds} s)`);
  return { running, seconds, drained: indexing() === 0 };
}
