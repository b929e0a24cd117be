import { summarizeLatencies, histogramOf } from './histogram.ts';
import { issueKeys, TAGS, type ScenarioContext, type ScenarioUsers } from './scenario-context.ts';
import { createUsageTracker } from './target-readings.ts';
import { replyError } from './target-client.ts';
import type { SaveMeasurement } from './types.ts';

export interface SaveOptions extends ScenarioUsers {
  count: number;
}

/** `count` memory saves sent at once, spread over the users; each is new content. */
export async function runSaves(
  ctx: ScenarioContext,
  opts: SaveOptions & { runSalt: number },
): Promise<SaveMeasurement> {
  const { client, corpus } = ctx;
  const keys = await issueKeys(ctx, opts.users);
  const usage = createUsageTracker(await client.snapshot());
  const unsubscribe = client.onMemory((h) => usage.observeHeader(h));
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  const fail = (kind: string) => (errorKinds[kind] = (errorKinds[kind] ?? 0) + 1);
  let created = 0;
  let inFlight = 0;
  const progress = ctx.progress(() => ({
    sessions: inFlight,
    requests: latencies.length,
    errors: Object.values(errorKinds).reduce((s, n) => s + n, 0),
    p95Ms: summarizeLatencies(latencies).p95,
    rssMb: usage.latestMb,
  }));
  const random = corpus.random(opts.seed * 31 + opts.runSalt);
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: opts.count }, async (_, i) => {
        const user = opts.users[i % opts.users.length]!;
        // An episode from the user's life, numbered so that it is new content.
        const episode = corpus.memories(opts.seed, user.index, 60, random).at(-1) ?? 'a new day';
        const body = {
          content: `${episode} (${opts.runSalt}-${i})`,
          tags: [TAGS[i % TAGS.length]!],
        };
        const t0 = performance.now();
        inFlight++;
        try {
          const res = await client.call('POST', '/v1/memories', { key: keys.keyOf(user.id), body });
          if (res.status === 201 || res.status === 200) {
            latencies.push(performance.now() - t0);
            if (res.body?.created === true) created++;
          } else {
            fail(replyError(res));
          }
        } catch (error) {
          fail(error instanceof Error ? error.name : 'error');
        } finally {
          inFlight--;
        }
      }),
    );
  } finally {
    progress.stop();
    unsubscribe();
    await keys.revoke();
  }
  return {
    count: opts.count,
    concurrency: opts.count,
    durationMs: Math.round(performance.now() - started),
    errors: Object.values(errorKinds).reduce((s, n) => s + n, 0),
    errorKinds,
    created,
    latency: summarizeLatencies(latencies),
    histogram: histogramOf(latencies),
    target: usage.finish(await client.snapshot()),
  };
}
