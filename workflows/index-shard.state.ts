import type { PendingTarget } from './index-pass.ts';
import { PendingMemories } from './index-user.state.ts';

/**
 * The memories waiting for one indexing shard, per user: each memory once
 * however often it is asked for (forced when any request forced it), and
 * batches taken round-robin across the users with work, so a user who saves
 * thousands of memories at once takes one share of each batch and never
 * holds back another user's one memory behind them.
 */
export class FairPending {
  /** Users in turn order: the next batch starts with the first. */
  private readonly users = new Map<string, PendingMemories>();
  private count = 0;

  constructor(initial: readonly PendingTarget[] = []) {
    this.add(initial);
  }

  get size(): number {
    return this.count;
  }

  isEmpty(): boolean {
    return this.count === 0;
  }

  /** How many users have work waiting. */
  get userCount(): number {
    return this.users.size;
  }

  add(targets: readonly PendingTarget[]): void {
    for (const { userId, memoryId, force } of targets) {
      let memories = this.users.get(userId);
      if (!memories) this.users.set(userId, (memories = new PendingMemories()));
      const before = memories.size;
      memories.add([force ? { memoryId, force } : { memoryId }]);
      this.count += memories.size - before;
    }
  }

  /**
   * Removes and returns up to `max` memories: one of each waiting user in
   * turn, round after round, oldest request first within a user. Users
   * served move to the back of the turn order, the last served last.
   */
  take(max: number): PendingTarget[] {
    const taken: PendingTarget[] = [];
    const served = new Set<string>();
    while (taken.length < max && this.count > 0) {
      for (const [userId, memories] of this.users) {
        if (taken.length >= max) break;
        const [next] = memories.take(1);
        if (!next) continue;
        taken.push({ userId, ...next });
        // Kept in the order of each user's last serve.
        served.delete(userId);
        served.add(userId);
        this.count--;
      }
    }
    for (const userId of served) {
      const memories = this.users.get(userId)!;
      this.users.delete(userId);
      if (!memories.isEmpty()) this.users.set(userId, memories);
    }
    return taken;
  }

  /** Removes and returns everything still waiting (carried over a continue-as-new). */
  drain(): PendingTarget[] {
    const all: PendingTarget[] = [];
    for (const [userId, memories] of this.users) {
      for (const m of memories.drain()) all.push({ userId, ...m });
    }
    this.users.clear();
    this.count = 0;
    return all;
  }
}
