// Which user each chat session speaks for: one at a time, as a person's chat,
// drawn by Zipf activity among the users no other session holds.
import type { Random } from '../../core/util/seeded-random.ts';

/**
 * The users the chat sessions hold. A session takes a user when it starts and
 * again when it opens a new conversation (handing the previous one back), drawn
 * by Zipf(s) activity over a shuffled rank order among the users no session
 * holds, so no user sends more than one session's messages, and the most
 * active users are held most of the time (the skew across users stays).
 */
export class SessionUsers<U> {
  private readonly weights: Float64Array;
  private readonly index = new Map<U, number>();
  private readonly held = new Set<number>();

  constructor(
    private readonly users: readonly U[],
    s: number,
    random: Random,
  ) {
    // Rank order is shuffled so the most active users are not simply the first seeded.
    const order = users.map((_, i) => i).sort(() => random() - 0.5);
    this.weights = new Float64Array(users.length);
    order.forEach((index, rank) => (this.weights[index] = 1 / Math.pow(rank + 1, s)));
    users.forEach((user, i) => this.index.set(user, i));
  }

  /** A user no session holds, drawn by activity; undefined when every user is held. */
  take(random: Random): U | undefined {
    let free = 0;
    for (let i = 0; i < this.users.length; i++) if (!this.held.has(i)) free += this.weights[i]!;
    if (free <= 0) return undefined;
    let u = random() * free;
    let last = -1;
    for (let i = 0; i < this.users.length; i++) {
      if (this.held.has(i)) continue;
      last = i;
      u -= this.weights[i]!;
      if (u < 0) break;
    }
    this.held.add(last);
    return this.users[last];
  }

  /** Hands `user` back (undefined: nothing held). */
  release(user: U | undefined): void {
    const i = user === undefined ? undefined : this.index.get(user);
    if (i !== undefined) this.held.delete(i);
  }

  /** Hands `user` back and draws the next one (it may be drawn again). */
  switch(user: U | undefined, random: Random): U | undefined {
    this.release(user);
    return this.take(random);
  }

  /** How many users sessions hold now. */
  get heldCount(): number {
    return this.held.size;
  }
}
