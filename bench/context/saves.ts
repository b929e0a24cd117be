// Saves while chatting: a chat assistant remembering a short fact
// (`POST /v1/memories`) as one class of the message mix, an open-loop background
// stream of saves at a fixed rate, and the check that every acknowledged save
// exists exactly once and gets indexed.
import {
  failedSample,
  listMemories,
  log,
  mapLimit,
  roundTo,
  sleep,
  userClient,
  type ListedMemory,
} from '../bench-kit.ts';
import type { Random } from '../../core/util/seeded-random.ts';
import { makeMemories } from '../../loadtest/context-corpus.ts';
import type { Sample } from './drive.ts';
import type { SeededUser } from './seed.ts';

/** Where an acknowledged save came from. */
export type SaveSource = 'mix' | 'stream' | 'batch';

export interface AckedSave {
  user: SeededUser;
  id: string;
  content: string;
  source: SaveSource;
}

/** Every save the product acknowledged, to check afterwards; and unique contents to save. */
export class SaveLedger {
  readonly acked: AckedSave[] = [];
  private seq = 0;

  /** A short fact about the user, unique in the run so it is a new memory, never a duplicate. */
  fact(user: SeededUser, random: Random): string {
    const facts = makeMemories(user.persona, 16, random);
    const fact = facts[Math.floor(random() * facts.length)]!;
    return `${fact} (mentioned in chat ${++this.seq} of ${process.pid})`;
  }
}

/** One save of one fact: the sample, and the save in the ledger when acknowledged. */
export async function askSave(
  url: string,
  user: SeededUser,
  content: string,
  at: number,
  ledger: SaveLedger,
  source: SaveSource,
): Promise<Sample> {
  const t1 = performance.now();
  const sample = { at, kind: 'save' as const, user: user.id, repeat: false };
  try {
    const saved = await userClient(url, user.key).memories.save({ content, tags: ['chat'] });
    const ms = performance.now() - t1;
    ledger.acked.push({ user, id: saved.id, content, source });
    return { ...sample, ms, ok: true, status: saved.created ? 201 : 200 };
  } catch (error) {
    return { ...sample, ms: performance.now() - t1, ...failedSample(error) };
  }
}

/**
 * `rate` saves per second, open loop (sent on schedule whatever the answers take),
 * each for a user drawn uniformly so the stream is spread over all of them.
 * `stop()` ends the stream and resolves with its samples once all have answered.
 */
export function startSaveStream(opts: {
  url: string;
  users: SeededUser[];
  rate: number;
  random: Random;
  ledger: SaveLedger;
  started: number;
}) {
  const { url, users, rate, random, ledger, started } = opts;
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const begun = performance.now();
  let sent = 0;
  const tick = () => {
    const due = Math.floor(((performance.now() - begun) / 1000) * rate);
    for (; sent < due; sent++) {
      const user = users[Math.floor(random() * users.length)]!;
      const p =
        askSave(url, user, ledger.fact(user, random), performance.now() - started, ledger, 'stream') // prettier-ignore
          .then((s) => void samples.push(s))
          .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  };
  const timer = rate > 0 ? setInterval(tick, 10) : undefined;
  return {
    async stop(): Promise<Sample[]> {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return samples;
    },
  };
}

export type SaveCheck = Awaited<ReturnType<typeof verifySaves>>;

/**
 * Lists the memories of every user with acknowledged saves until each save is
 * indexed or `waitS` has passed: how many exist exactly once, are missing or
 * doubled (the same id or content twice), and how many were indexed in time.
 */
export async function verifySaves(url: string, acked: AckedSave[], waitS: number) {
  const started = Date.now();
  const byUser = new Map<SeededUser, AckedSave[]>();
  for (const a of acked) byUser.set(a.user, [...(byUser.get(a.user) ?? []), a]);
  const indexedAt = new Map<string, number>();
  const failed = new Set<string>();
  let missing: AckedSave[] = [];
  let doubled: AckedSave[] = [];
  let pending = [...byUser.keys()];
  for (let round = 0; pending.length > 0; round++) {
    const next: SeededUser[] = [];
    await mapLimit(pending, 8, async (user) => {
      const listed = await listMemories(url, user.key).catch(() => null);
      if (!listed) return void next.push(user);
      const own = byUser.get(user)!;
      if (round === 0) {
        missing.push(...own.filter((a) => occurrences(listed, a).ids === 0));
        doubled.push(...own.filter((a) => occurrences(listed, a).ids > 1 || occurrences(listed, a).contents > 1)); // prettier-ignore
      }
      const state = new Map(listed.map((m) => [m.id, m.index_state]));
      for (const a of own) {
        if (state.get(a.id) === 'indexed' && !indexedAt.has(a.id)) indexedAt.set(a.id, Date.now());
        if (state.get(a.id) === 'failed') failed.add(a.id);
      }
      if (own.some((a) => !indexedAt.has(a.id) && !failed.has(a.id) && state.has(a.id))) next.push(user); // prettier-ignore
    });
    pending = next;
    if (pending.length === 0 || Date.now() - started > waitS * 1000) break;
    await sleep(1000);
  }
  const lastIndexed = Math.max(started, ...indexedAt.values());
  const all = indexedAt.size === acked.length;
  const result = {
    acknowledged: acked.length,
    exactlyOnce: acked.length - missing.length - doubled.length,
    missing: missing.length,
    doubled: doubled.length,
    indexed: indexedAt.size,
    failed: failed.size,
    waitS,
    allIndexedAfterS: all ? roundTo((lastIndexed - started) / 1000, 1) : null,
    bySource: countBySource(acked, indexedAt),
  };
  missing = missing.slice(0, 3);
  doubled = doubled.slice(0, 3);
  if (missing.length + doubled.length > 0) {
    log(`saves lost or doubled, e.g. ${JSON.stringify([...missing, ...doubled].map((a) => a.id))}`);
  }
  return result;
}

function occurrences(listed: ListedMemory[], save: AckedSave) {
  return {
    ids: listed.filter((m) => m.id === save.id).length,
    contents: listed.filter((m) => m.content === save.content).length,
  };
}

function countBySource(acked: AckedSave[], indexedAt: Map<string, number>) {
  const out: Record<string, { acknowledged: number; indexed: number }> = {};
  for (const a of acked) {
    const s = (out[a.source] ??= { acknowledged: 0, indexed: 0 });
    s.acknowledged++;
    if (indexedAt.has(a.id)) s.indexed++;
  }
  return out;
}
