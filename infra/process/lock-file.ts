import fs from 'node:fs/promises';
import os from 'node:os';
import { isAlive, PROGRESS_EVERY_MS, sleep, type Log } from './process-tools.ts';

/** A lock file still unreadable after this long was left by a process that died while writing it. */
const UNREADABLE_LOCK_STALE_MS = 10_000;
const POLL_MS = 250;

/** What a lock file holds, so other processes can tell whether its holder is gone. */
interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: number;
}

export interface LockOptions {
  /** What the holder does, for the waiting message: `building the Temporal CLI`. */
  activity: string;
  /** How long to wait for a live holder before giving up. */
  waitMs: number;
  /** A lock older than this is stale whoever holds it (default: age alone never makes it stale). */
  staleAfterMs?: number;
  /** Advice at the end of the give-up error: `remove it if no build is running`. */
  giveUpAdvice: string;
  log: Log;
}

/**
 * Takes the exclusive lock file `lockFile`, waiting while a live process
 * holds it and removing it when its holder is gone (a process of this host
 * that no longer exists, an unreadable file older than ten seconds, or a lock
 * older than `staleAfterMs`). Returns the release function.
 */
export async function acquireLock(
  lockFile: string,
  options: LockOptions,
): Promise<() => Promise<void>> {
  const { log } = options;
  const waitingSince = Date.now();
  let lastReport: number | undefined;
  for (;;) {
    try {
      const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), startedAt: Date.now() };
      await fs.writeFile(lockFile, JSON.stringify(owner), { flag: 'wx' });
      return () => fs.rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const staleness = await lockStaleness(lockFile, options.staleAfterMs);
    if (staleness) {
      log(`removing stale lock ${lockFile} (${staleness})`);
      await fs.rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() - waitingSince > options.waitMs) {
      throw new Error(`gave up waiting for ${lockFile}; ${options.giveUpAdvice}`);
    }
    if (lastReport === undefined || Date.now() - lastReport >= PROGRESS_EVERY_MS) {
      lastReport = Date.now();
      const seconds = Math.round((lastReport - waitingSince) / 1000);
      log(`waiting for another process ${options.activity} (${lockFile})… ${seconds} s`);
    }
    await sleep(POLL_MS);
  }
}

/** Why the lock is stale, or undefined while its holder may still be working. */
async function lockStaleness(
  lockFile: string,
  staleAfterMs: number | undefined,
): Promise<string | undefined> {
  let text: string;
  let ageMs: number;
  try {
    ageMs = Date.now() - (await fs.stat(lockFile)).mtimeMs;
    text = await fs.readFile(lockFile, 'utf8');
  } catch {
    return undefined; // released meanwhile: the next attempt takes it
  }
  let owner: Partial<LockOwner>;
  try {
    owner = (JSON.parse(text) as Partial<LockOwner> | null) ?? {};
  } catch {
    return ageMs > UNREADABLE_LOCK_STALE_MS ? 'unreadable and old' : undefined;
  }
  if (staleAfterMs !== undefined && ageMs > staleAfterMs) {
    return `older than ${Math.round(staleAfterMs / 60_000)} min`;
  }
  if (owner.hostname === os.hostname() && typeof owner.pid === 'number' && !isAlive(owner.pid)) {
    return `process ${owner.pid} is gone`;
  }
  return undefined;
}
