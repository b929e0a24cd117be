import type { ConsolidationChange, Memory } from '../ports/relational-store.ts';

/** Cosine similarity at or above which two memories count as the same (default). */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.95;
/** Tags a merged memory keeps at most (the API's own limit on tags). */
export const DEFAULT_MAX_TAGS = 10;
/** A tag `key:<name>` puts a memory in the slot `<name>`: the newest in a slot is the truth. */
export const SLOT_TAG_PREFIX = 'key:';

export type RetiredReason = 'expired' | 'superseded';

/** A memory consolidation archives because it stopped being true. */
export interface Retirement {
  memory: Memory;
  reason: RetiredReason;
  /** The newer memory that replaced it (superseded only). */
  by?: string;
}

/** Near-duplicates folded into the oldest of them. */
export interface MergePlan {
  survivor: Memory;
  duplicates: Memory[];
  /** The survivor's tags after the merge: its own first, then the duplicates'. */
  tags: string[];
}

export interface Neighbour {
  id: string;
  /** Cosine similarity to the memory the neighbour was found for. */
  score: number;
}

/**
 * When a memory stops being true: `metadata.expires_at`, an ISO 8601 date or
 * date-time (a date alone means its midnight UTC). Null when absent or not a date.
 */
export function expiresAt(memory: Pick<Memory, 'metadata'>): Date | null {
  const value = memory.metadata.expires_at;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : new Date(at);
}

/** True when the memory's `expires_at` is at or before `now`. */
export function isExpired(memory: Pick<Memory, 'metadata'>, now: Date): boolean {
  const at = expiresAt(memory);
  return at !== null && at.getTime() <= now.getTime();
}

/**
 * The memory's slot tag (`key:<name>`) when it has exactly one; memories with
 * none, or with several (ambiguous), are in no slot.
 */
export function slotOf(memory: Pick<Memory, 'tags'>): string | null {
  const slots = memory.tags.filter(
    (t) => t.startsWith(SLOT_TAG_PREFIX) && t.length > SLOT_TAG_PREFIX.length,
  );
  return slots.length === 1 ? slots[0]! : null;
}

/** Ids named by `metadata.supersedes`: one id or a list of them. */
export function supersededIds(memory: Pick<Memory, 'id' | 'metadata'>): string[] {
  const value = memory.metadata.supersedes;
  const ids = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return [
    ...new Set(
      ids
        .filter((id): id is string => typeof id === 'string')
        .map((id) => id.toLowerCase())
        .filter((id) => id !== memory.id.toLowerCase()),
    ),
  ];
}

/** Saved later; the id breaks ties so every run orders memories the same way. */
export function isNewer(a: Pick<Memory, 'id' | 'createdAt'>, b: Pick<Memory, 'id' | 'createdAt'>) {
  const dt = a.createdAt.getTime() - b.createdAt.getTime();
  return dt > 0 || (dt === 0 && a.id > b.id);
}

const oldestFirst = (a: Memory, b: Memory) => (isNewer(a, b) ? 1 : isNewer(b, a) ? -1 : 0);

export interface RetirementInput {
  /** Active memories of one page. */
  page: readonly Memory[];
  now: Date;
  /** The newest active memory of each slot the page's memories are in. */
  newestInSlot: ReadonlyMap<string, Memory>;
  /** The memories the page's memories name in `supersedes` (any page, any state). */
  superseded: readonly Memory[];
}

/**
 * Memories to archive as outdated, each once:
 * - `expired`: `metadata.expires_at` is at or before `now`;
 * - `superseded`, by slot: a newer active memory carries the same `key:<name>` tag;
 * - `superseded`, explicitly: a newer memory of the page names it in
 *   `metadata.supersedes` (an older one cannot, so cycles retire nothing).
 * A memory that is itself expired supersedes nothing.
 */
export function planRetirements(input: RetirementInput): Retirement[] {
  const { page, now, newestInSlot } = input;
  const retired = new Map<string, Retirement>();
  for (const memory of page) {
    if (isExpired(memory, now)) {
      retired.set(memory.id, { memory, reason: 'expired' });
      continue;
    }
    const slot = slotOf(memory);
    const newest = slot ? newestInSlot.get(slot) : undefined;
    // The store orders a slot by creation to the microsecond: its newest is the newest.
    if (newest && newest.id !== memory.id) {
      retired.set(memory.id, { memory, reason: 'superseded', by: newest.id });
    }
  }
  const byId = new Map(input.superseded.map((m) => [m.id.toLowerCase(), m]));
  for (const memory of page) {
    if (retired.get(memory.id)?.reason === 'expired') continue;
    for (const id of supersededIds(memory)) {
      const target = byId.get(id);
      if (!target || target.state !== 'active' || retired.has(target.id)) continue;
      if (target.userId !== memory.userId || !isNewer(memory, target)) continue;
      retired.set(target.id, { memory: target, reason: 'superseded', by: memory.id });
    }
  }
  return [...retired.values()];
}

export interface MergeInput {
  /** The page's memories, in the order they are considered (id order). */
  sources: readonly Memory[];
  /** Each source's nearest vectors in the serving space (any score; filtered here). */
  neighbours: ReadonlyMap<string, readonly Neighbour[]>;
  /** Every memory a source or a neighbour names, as the store has them now. */
  memories: ReadonlyMap<string, Memory>;
  threshold: number;
  now: Date;
  /** Memories already being archived in this pass (retired). */
  exclude?: ReadonlySet<string>;
  maxTags?: number;
}

/**
 * May take part in a merge: active, indexed at its current revision (its
 * vector is its content's), not expired, in no slot (the slot rule keeps
 * the newest of those, a merge would keep the oldest), and without an
 * expiry of its own (the survivor would lend its lifetime to the others).
 */
export function isMergeable(memory: Memory, now: Date): boolean {
  return (
    memory.state === 'active' &&
    memory.indexState === 'indexed' &&
    slotOf(memory) === null &&
    !isExpired(memory, now) &&
    (memory.expiresAt ?? null) === null
  );
}

/**
 * Groups near-duplicates: each source, in order, with its neighbours at or
 * above the threshold that no earlier group took (a star around the source,
 * not a chain, so A≈B and B≈C never fold A and C together through B). The
 * oldest memory of a group survives: it is the one clients and other
 * memories have referred to longest, and near-duplicates say the same thing.
 */
export function planMerges(input: MergeInput): MergePlan[] {
  const { threshold, now } = input;
  const maxTags = input.maxTags ?? DEFAULT_MAX_TAGS;
  const taken = new Set(input.exclude ?? []);
  const plans: MergePlan[] = [];
  for (const source of input.sources) {
    if (taken.has(source.id) || !isMergeable(source, now)) continue;
    const group = [source];
    for (const hit of input.neighbours.get(source.id) ?? []) {
      if (hit.score < threshold || hit.id === source.id || taken.has(hit.id)) continue;
      const memory = input.memories.get(hit.id);
      if (!memory || memory.userId !== source.userId || !isMergeable(memory, now)) continue;
      if (group.some((m) => m.id === memory.id)) continue;
      group.push(memory);
    }
    if (group.length < 2) continue;
    for (const m of group) taken.add(m.id);
    const [survivor, ...duplicates] = [...group].sort(oldestFirst) as [Memory, ...Memory[]];
    const tags = [...new Set([survivor, ...duplicates].flatMap((m) => m.tags))].slice(0, maxTags);
    plans.push({ survivor, duplicates, tags });
  }
  return plans;
}

/**
 * The store changes of one merge, applied together or not at all: the
 * survivor gets the union of tags and `merged_from` (every id it absorbed,
 * over all runs); each duplicate is archived with `merged_into`, keeping its
 * row, content and links.
 */
export function mergeChanges(plan: MergePlan, now: Date): ConsolidationChange[] {
  const previous = plan.survivor.metadata.merged_from;
  const mergedFrom = [
    ...new Set([
      ...(Array.isArray(previous) ? previous.filter((id) => typeof id === 'string') : []),
      ...plan.duplicates.map((d) => d.id),
    ]),
  ];
  return [
    {
      memoryId: plan.survivor.id,
      revision: plan.survivor.revision,
      tags: plan.tags,
      metadata: { merged_from: mergedFrom },
    },
    ...plan.duplicates.map((d) => ({
      memoryId: d.id,
      revision: d.revision,
      archive: true,
      metadata: {
        retired_reason: 'duplicate',
        merged_into: plan.survivor.id,
        retired_at: now.toISOString(),
      },
    })),
  ];
}

/** The store change of one retirement: archived, with why, when and (superseded) by what. */
export function retirementChange(retirement: Retirement, now: Date): ConsolidationChange {
  return {
    memoryId: retirement.memory.id,
    revision: retirement.memory.revision,
    archive: true,
    metadata: {
      retired_reason: retirement.reason,
      retired_at: now.toISOString(),
      ...(retirement.by ? { superseded_by: retirement.by } : {}),
    },
  };
}
