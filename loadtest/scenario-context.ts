import type { LiveProgress } from './progress.ts';
import type { MessageSource } from './session.ts';
import { mapLimit } from '../core/concurrency/limits.ts';
import { replyError, type TargetClient } from './target-client.ts';
import type { PreparedUser } from './types.ts';

/** The synthetic people the virtual users are: their memories and their messages. */
export interface PersonaCorpus {
  /** A seeded random source. */
  random(seed: number): () => number;
  /** `count` distinct memories of user `index` of a run seeded with `seed`. */
  memories(seed: number, index: number, count: number, random: () => number): string[];
  /** What user `index` asks about. */
  messages(seed: number, index: number, random: () => number): MessageSource;
}

export type ProgressCounts = Omit<LiveProgress, 'scenario' | 'elapsedMs'>;

/** Starts reporting a scenario's counts (read when reported); `now()` reports at once. */
export type ProgressHook = (read: () => ProgressCounts) => { stop(): void; now(): void };

/** Who a scenario's virtual users are: the run's prepared users and its seed. */
export interface ScenarioUsers {
  users: readonly PreparedUser[];
  seed: number;
}

export interface ScenarioContext {
  client: TargetClient;
  /** The target's admin key: creates users, issues and revokes their keys. */
  adminKey: string;
  corpus: PersonaCorpus;
  progress: ProgressHook;
}

/** Tags the synthetic memories carry. */
export const TAGS = ['family', 'work', 'hobbies', 'health', 'preferences', 'travel'];

/** One key per user for a scenario, issued by the admin API; `revoke()` withdraws them all. */
export async function issueKeys(ctx: ScenarioContext, users: readonly PreparedUser[]) {
  const { client, adminKey } = ctx;
  const keys = new Map<string, { key: string; keyId: string }>();
  const revoke = () =>
    mapLimit([...keys.values()], 8, async ({ keyId }) => {
      await client
        .patientCall('DELETE', `/v1/admin/keys/${keyId}`, { key: adminKey })
        .catch(() => {});
    });
  try {
    await mapLimit(users, 8, async (u) => {
      const res = await client.patientCall('POST', `/v1/admin/users/${u.id}/keys`, {
        key: adminKey,
      });
      if (res.status !== 201) {
        throw new Error(
          `POST /v1/admin/users/:id/keys answered ${res.status} (${replyError(res)})`,
        );
      }
      keys.set(u.id, { key: String(res.body!.api_key), keyId: String(res.body!.key_id) });
    });
  } catch (error) {
    await revoke();
    throw error;
  }
  return { keyOf: (userId: string) => keys.get(userId)!.key, revoke };
}
