/** A memory the user's indexing run is asked to index. */
export interface PendingMemory {
  memoryId: string;
  /** Re-embed even if the memory is marked indexed (its vector may be an older pass's). */
  force?: boolean;
}

/**
 * The memories waiting for one user's indexing run: each once however often
 * it is asked for, forced when any request forced it, oldest request first.
 */
export class PendingMemories {
  private readonly pending = new Map<string, boolean>();

  constructor(initial: readonly PendingMemory[] = []) {
    this.add(initial);
  }

  get size(): number {
    return this.pending.size;
  }

  isEmpty(): boolean {
    return this.pending.size === 0;
  }

  add(memories: readonly PendingMemory[]): void {
    for (const { memoryId, force = false } of memories) {
      this.pending.set(memoryId, (this.pending.get(memoryId) ?? false) || force);
    }
  }

  /** Removes and returns up to `max` memories, oldest request first. */
  take(max: number): PendingMemory[] {
    const taken: PendingMemory[] = [];
    for (const [memoryId, force] of this.pending) {
      if (taken.length >= max) break;
      taken.push(force ? { memoryId, force } : { memoryId });
    }
    for (const { memoryId } of taken) this.pending.delete(memoryId);
    return taken;
  }

  /** Removes and returns everything still waiting (carried over a continue-as-new). */
  drain(): PendingMemory[] {
    return this.take(this.pending.size);
  }
}
