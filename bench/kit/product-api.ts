// What the benchmarks ask of the product's API around the calls they measure:
// users to save memories for, and whether those memories are indexed yet.
import { apiClient, SETUP_CALL, userClient } from './http.ts';
import type { CreateUserInput } from '../../client/src/index.ts';
import { checkInterrupted, sleep } from './lifecycle.ts';

/** A new user (`POST /v1/admin/users`) and its API key. */
export async function createUser(base: string, adminKey: string, body: CreateUserInput = {}) {
  const created = await apiClient(base, { adminKey }).admin.createUser(body, SETUP_CALL);
  return { id: created.user_id, key: created.api_key };
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
  for await (const memory of userClient(url, key).memories.all({ limit: 200 }, SETUP_CALL)) {
    items.push(memory);
  }
  return items;
}

/** Counts a user's memories by index state (`GET /v1/memories`, page by page). */
export async function countIndexStates(url: string, key: string) {
  let indexed = 0;
  let failed = 0;
  for await (const m of userClient(url, key).memories.all({ limit: 200 }, SETUP_CALL)) {
    if (m.index_state === 'indexed') indexed++;
    if (m.index_state === 'failed') failed++;
  }
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
