import { mapLimit } from '../core/concurrency/limits.ts';
import { TAGS, type ScenarioContext } from './scenario-context.ts';
import { abortableSleep, replyError, type TargetClient } from './target-client.ts';
import type { PreparedUser, PrepareResult } from './types.ts';

/** How many of a user's memories are no longer pending (indexed or failed). */
async function settledMemories(client: TargetClient, key: string): Promise<number> {
  let cursor: string | null = null;
  let settled = 0;
  do {
    const route: string = `/v1/memories?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await client.call('GET', route, { key });
    if (res.status !== 200) throw new Error(`GET /v1/memories answered ${res.status}`);
    for (const m of res.body!.items as { index_state: string }[]) {
      if (m.index_state !== 'pending') settled++;
    }
    cursor = res.body!.next_cursor as string | null;
  } while (cursor);
  return settled;
}

export interface SeedOptions {
  users: number;
  memoriesPerUser: number;
  seed: number;
  /** How long to wait for the seeded memories to be indexed before going on anyway. */
  indexWaitMs: number;
  /** Names the users (`<label> #<index>`). */
  label: string;
}

/**
 * Creates `users` users through the admin API, saves `memoriesPerUser`
 * memories for each, and waits (up to `indexWaitMs`) until they are indexed,
 * so the scenarios search a full index. The keys used are revoked.
 */
export async function seedUsers(ctx: ScenarioContext, opts: SeedOptions): Promise<PrepareResult> {
  const { client, adminKey, corpus } = ctx;
  const baseline = await client.snapshot();
  const users: (PreparedUser & { key: string; keyId: string; stored: number })[] = [];
  let created = 0;
  let indexed = 0;
  const progress = ctx.progress(() => ({
    sessions: users.length,
    requests: created,
    errors: 0,
    p95Ms: null,
    rssMb: baseline.rssMb,
    indexed,
  }));
  try {
    await mapLimit(
      Array.from({ length: opts.users }, (_, i) => i),
      4,
      async (index) => {
        const res = await client.patientCall('POST', '/v1/admin/users', {
          key: adminKey,
          body: { name: `${opts.label} #${index}` },
        });
        if (res.status !== 201) {
          throw new Error(`POST /v1/admin/users answered ${res.status} (${replyError(res)})`);
        }
        const user = {
          id: String(res.body!.user_id),
          index,
          key: String(res.body!.api_key),
          keyId: String(res.body!.key_id),
          stored: 0,
        };
        users.push(user);
        const contents = corpus.memories(
          opts.seed,
          index,
          opts.memoriesPerUser,
          corpus.random(opts.seed + index),
        );
        for (let i = 0; i < contents.length; i += 100) {
          const batch = contents
            .slice(i, i + 100)
            .map((content, j) => ({ content, tags: [TAGS[(i + j) % TAGS.length]!] }));
          const saved = await client.patientCall('POST', '/v1/memories', {
            key: user.key,
            body: { memories: batch },
          });
          if (saved.status !== 201 && saved.status !== 200) {
            throw new Error(`POST /v1/memories answered ${saved.status} (${replyError(saved)})`);
          }
          const n = ((saved.body?.created as boolean[] | undefined) ?? []).filter(Boolean).length;
          user.stored += n;
          created += n;
        }
      },
    );
    const deadline = Date.now() + opts.indexWaitMs;
    for (;;) {
      const settled = new Map<string, number>();
      await mapLimit(users, 4, async (u) => {
        settled.set(u.id, await settledMemories(client, u.key));
      });
      indexed = [...settled.values()].reduce((s, n) => s + n, 0);
      const done = users.every((u) => (settled.get(u.id) ?? 0) >= u.stored);
      if (done || Date.now() > deadline || client.signal.aborted) break;
      await abortableSleep(1000, client.signal);
    }
  } finally {
    progress.stop();
    await mapLimit(users, 8, async (u) => {
      await client
        .patientCall('DELETE', `/v1/admin/keys/${u.keyId}`, { key: adminKey })
        .catch(() => {});
    });
  }
  return {
    users: users.sort((a, b) => a.index - b.index).map(({ id, index }) => ({ id, index })),
    seed: opts.seed,
    memoriesPerUser: opts.memoriesPerUser,
    memoriesCreated: created,
    memoriesIndexed: indexed,
    baseline,
  };
}
