// What the benchmarks ask of the product's API around the calls they measure:
// users to save memories for, and whether those memories are indexed yet.
import { postOk, http } from './http.ts';
import { checkInterrupted, sleep } from './lifecycle.ts';

/** A new user (`POST /v1/admin/users`) and its API key. */
export async function createUser(base: string, adminKey: string, body: object = {}) {
  const created = await postOk(base, '/v1/admin/users', adminKey, body);
  return { id: created.body.user_id as string, key: created.body.api_key as string };
}

/** A memory as `GET /v1/memories` lists it, the fields the benchmarks check. */
export interface ListedMemory {
  id: string;
  content: string;
  index_state: string;
}

/** Every memory of a user (`GET /v1/memories`, page by page). */
export async function listMemories(url: string, key: string): Promise<ListedMemory[]> {
  const items: ListedMemory[] = [];
  let cursor: string | null = null;
  do {
    const route: string = `/v1/memories?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await http(url, 'GET', route, { key });
    if (res.status !== 200) throw new Error(`GET /v1/memories: ${res.status}`);
    items.push(...(res.body!.items as ListedMemory[]));
    cursor = res.body!.next_cursor as string | null;
  } while (cursor);
  return items;
}

/** Counts a user's memories by index state (`GET /v1/memories`, page by page). */
export async function countIndexStates(url: string, key: string) {
  let cursor: string | null = null;
  let indexed = 0;
  let failed = 0;
  do {
    const route: string = `/v1/memories?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await http(url, 'GET', route, { key });
    if (res.status !== 200) throw new Error(`GET /v1/memories: ${res.status}`);
    for (const m of res.body!.items as { index_state: string }[]) {
      if (m.index_state === 'indexed') indexed++;
      if (m.index_state === 'failed') failed++;
    }
    cursor = res.body!.next_cursor as string | null;
  } while (cursor);
  return { indexed, failed };
}

export interface WaitIndexedOptions {
  /** How often to count (default 1000 ms). */
  pollMs?: number;
  /** Give up when the count has not moved for this long (default 180 s). */
  stallMs?: number;
  /** Receives a progress line every 5 s. */
  log?: (message: string) => void;
}

/**
 * Waits until every memory of `users` is indexed or has failed; a user whose
 * memories are all settled is not counted again. Rejects when indexing stalls.
 */
export async function waitIndexed(
  url: string,
  users: readonly { key: string; expected: number }[],
  options: WaitIndexedOptions = {},
): Promise<{ indexed: number; failed: number }> {
  const { pollMs = 1000, stallMs = 180_000, log = () => {} } = options;
  const total = users.reduce((s, u) => s + u.expected, 0);
  const done = new Map<(typeof users)[number], { indexed: number; failed: number }>();
  let lastProgress = Date.now();
  let lastCount = -1;
  let lastLog = 0;
  for (;;) {
    checkInterrupted();
    for (const u of users) {
      const prev = done.get(u);
      if (prev && prev.indexed + prev.failed >= u.expected) continue;
      done.set(u, await countIndexStates(url, u.key));
    }
    const states = [...done.values()];
    const indexed = states.reduce((s, v) => s + v.indexed, 0);
    const failed = states.reduce((s, v) => s + v.failed, 0);
    if (indexed + failed >= total) return { indexed, failed };
    if (indexed + failed !== lastCount) {
      lastCount = indexed + failed;
      lastProgress = Date.now();
    }
    if (Date.now() - lastLog >= 5000) {
      log(`indexing: ${indexed}/${total} indexed, ${failed} failed`);
      lastLog = Date.now();
    }
    if (Date.now() - lastProgress > stallMs) {
      throw new Error(`indexing stalled at ${indexed}/${total} for ${stallMs / 1000} s`);
    }
    await sleep(pollMs);
  }
}
