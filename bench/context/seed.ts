// Seeding the context benchmark's corpus through the API: users with synthetic
// personas and memories, saved four users at a time while a background poll counts
// what the indexer has finished, within a time budget.
import {
  checkInterrupted,
  countIndexStates,
  createUser,
  log,
  mapLimit,
  roundTo,
  SETUP_CALL,
  sleep,
  userClient,
} from '../bench-kit.ts';
import type { Random } from '../../core/util/seeded-random.ts';
import { makeMemories, makePersona, type Persona } from '../../loadtest/context-corpus.ts';
import { PROGRESS_EVERY_MS, type Options } from './options.ts';

export interface SeededUser {
  id: string;
  key: string;
  persona: Persona;
  memories: number;
  indexed: boolean;
}

/** What the seeding has done so far, shared by the savers, the poll and the progress log. */
interface SeedState {
  started: number;
  budgetMs: number;
  users: SeededUser[];
  submitted: number;
  indexed: number;
  failed: number;
  stoppedEarly: boolean;
  samples: { t: number; indexed: number }[];
}

const TAGS = ['family', 'work', 'hobbies', 'health', 'preferences', 'travel'];

/**
 * Seeds up to `o.users` users of `o.memories` memories each and waits until they
 * are indexed; stops adding users once what is saved could not be indexed within
 * `o.seedBudgetS`.
 */
export async function seed(url: string, adminKey: string, o: Options, random: Random) {
  const state: SeedState = {
    started: Date.now(),
    budgetMs: o.seedBudgetS * 1000,
    users: [],
    submitted: 0,
    indexed: 0,
    failed: 0,
    stoppedEarly: false,
    samples: [],
  };
  const poll = pollIndexing(url, state);
  const progress = setInterval(() => logProgress(state, o.users), PROGRESS_EVERY_MS);
  try {
    await mapLimit(
      Array.from({ length: o.users }, (_, i) => i),
      4,
      async () => {
        if (state.users.length > 0 && overBudget(state)) {
          state.stoppedEarly = true;
          return;
        }
        state.users.push(await seedUser(url, adminKey, o.memories, random, state));
      },
    );
    const savedAt = Date.now();
    log(`saved ${state.submitted} memories for ${state.users.length} users; waiting for indexing`);
    await waitForIndexing(state);
    await poll.stop();
    return summary(state, savedAt);
  } finally {
    clearInterval(progress);
    await poll.stop();
  }
}

/**
 * True once the budget is nearly spent, or (after 30 s of measured indexing rate)
 * once what is saved could not be indexed within it.
 */
function overBudget(state: SeedState): boolean {
  const elapsed = Date.now() - state.started;
  const rate = state.indexed / Math.max(1, elapsed / 1000);
  const eta = rate > 0 ? ((state.submitted - state.indexed) / rate) * 1000 : 0;
  return (
    elapsed > state.budgetMs * 0.9 ||
    (elapsed > 30_000 && rate > 0 && elapsed + eta > state.budgetMs)
  );
}

/** One user with a persona and its memories, saved in batches of 100. */
async function seedUser(
  url: string,
  adminKey: string,
  memories: number,
  random: Random,
  state: SeedState,
): Promise<SeededUser> {
  const { id, key } = await createUser(url, adminKey);
  const persona = makePersona(random);
  const contents = makeMemories(persona, memories, random);
  for (let i = 0; i < contents.length; i += 100) {
    const batch = contents.slice(i, i + 100).map((content, j) => ({
      content,
      tags: [TAGS[(i + j) % TAGS.length]!],
    }));
    await userClient(url, key).memories.saveMany(batch, SETUP_CALL);
    state.submitted += batch.length;
  }
  return { id, key, persona, memories: contents.length, indexed: false };
}

/** The indexer, polled in the background: users whose memories are all indexed drop out. */
function pollIndexing(url: string, state: SeedState) {
  let polling = true;
  const done = (async () => {
    while (polling) {
      const pending = state.users.filter((u) => !u.indexed);
      let sum = state.users.filter((u) => u.indexed).reduce((s, u) => s + u.memories, 0);
      let bad = 0;
      await mapLimit(pending, 4, async (u) => {
        const counts = await countIndexStates(url, u.key).catch(() => ({ indexed: 0, failed: 0 }));
        if (counts.indexed + counts.failed >= u.memories) u.indexed = true;
        sum += counts.indexed;
        bad += counts.failed;
      });
      state.indexed = sum;
      state.failed = bad;
      state.samples.push({ t: Date.now(), indexed: state.indexed });
      if (!polling) break;
      await sleep(2000);
    }
  })();
  return {
    stop: async () => {
      polling = false;
      await done;
    },
  };
}

async function waitForIndexing(state: SeedState) {
  const waitDeadline = Date.now() + Math.max(state.budgetMs, 120_000);
  while (state.users.some((u) => !u.indexed)) {
    checkInterrupted();
    if (Date.now() > waitDeadline) {
      log(`indexing not finished after the wait; continuing with ${state.indexed}/${state.submitted}`); // prettier-ignore
      break;
    }
    await sleep(1000);
  }
}

function logProgress(state: SeedState, requested: number) {
  const s = (Date.now() - state.started) / 1000;
  log(
    `seeding: ${state.users.length}/${requested} users, ${state.submitted} memories saved, ${state.indexed} indexed` +
      ` (${(state.indexed / s).toFixed(1)}/s), ${state.failed} failed`,
  );
}

function summary(state: SeedState, savedAt: number) {
  const { users, submitted, indexed, failed, stoppedEarly, started, samples } = state;
  // Until every memory was indexed, or until the wait gave up: never the save time alone.
  const seconds = (Date.now() - started) / 1000;
  return {
    users,
    submitted,
    indexed,
    failed,
    stoppedEarly,
    seconds: roundTo(seconds, 1),
    saveSeconds: roundTo((savedAt - started) / 1000, 1),
    indexedPerSecond: roundTo(indexed / seconds, 1),
    samples,
  };
}
