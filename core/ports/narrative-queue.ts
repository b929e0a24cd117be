/** How soon a user's narrative should be (re)built; ties are served first come, first served. */
export type NarrativePriority = 'high' | 'normal' | 'low';

/** Every priority, most urgent first. */
export const NARRATIVE_PRIORITIES: readonly NarrativePriority[] = ['high', 'normal', 'low'];

/** A request to (re)build one user's narrative. */
export interface NarrativeRequest {
  userId: string;
  priority: NarrativePriority;
}

/**
 * Port for asking the narrative scheduler to (re)build users' narratives.
 * Requesting a user who is already waiting raises their priority (never
 * lowers it) and never queues them twice. A request whose narrative is
 * already current for the user's data version costs one read, no model call.
 */
export interface NarrativeQueue {
  /**
   * Accepts the requests. `high` and `normal` ones are delivered before this
   * resolves; `low` ones (a save refreshing its user's portrait) may be
   * coalesced for a short window and delivered afterwards.
   */
  enqueue(requests: readonly NarrativeRequest[]): Promise<void>;
}
