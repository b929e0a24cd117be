import type {
  Memory,
  MemoryChanges,
  MemoryChangesResult,
  NewMemory,
  MemoryRevisionUpdate,
} from '../ports/relational-store.ts';
import type {
  ConversationInput,
  ConversationResult,
  ExtractedFact,
  SkippedFact,
} from './conversation-types.ts';
import { normalisedFact } from './local-facts.ts';

/** The most memories one conversation creates or updates; further facts are skipped. */
export const MAX_CONVERSATION_WRITES = 50;

/** A fact as the answer names it: its text and where it was said. */
type Said = Pick<ExtractedFact, 'content' | 'message' | 'sentence'>;

/** Where a fact went in the write: an insert, an update, or the same text as an earlier fact. */
type Slot =
  | { kind: 'insert'; at: number; said: Said }
  | { kind: 'update'; at: number; said: Said; memoryId: string }
  | { kind: 'again'; slot: number; said: Said };

/** The write a conversation's facts come to, and the facts it leaves out. */
export interface PlannedChanges {
  changes: MemoryChanges;
  slots: Slot[];
  skipped: SkippedFact[];
}

/**
 * Turns facts into one write over the user's memories. A fact is left out
 * when it is not from a user turn, says what a candidate memory already says
 * (compared by {@link normalisedFact}), or comes after
 * {@link MAX_CONVERSATION_WRITES} writes. An update targets a candidate at
 * the revision it was shown at; a second update of the same memory is an add.
 * A fact that repeats an earlier one of the conversation follows it.
 */
export function planChanges(
  facts: readonly ExtractedFact[],
  input: ConversationInput,
  candidates: readonly Memory[],
): PlannedChanges {
  const byId = new Map(candidates.map((m) => [m.id, m]));
  const byText = new Map<string, Memory>();
  for (const m of candidates) {
    const key = normalisedFact(m.content);
    if (!byText.has(key)) byText.set(key, m);
  }
  const inserts: NewMemory[] = [];
  const updates: MemoryRevisionUpdate[] = [];
  const slots: Slot[] = [];
  const skipped: SkippedFact[] = [];
  const seen = new Map<string, { slot: number } | { memoryId: string }>();
  const revised = new Set<string>();
  const extras = {
    ...(input.tags !== undefined ? { tags: input.tags } : {}),
    ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
  };

  for (const fact of facts) {
    const { content, message, sentence } = fact;
    const said: Said = { content, message, ...(sentence !== undefined ? { sentence } : {}) };
    const turn = input.messages[message];
    if (turn?.role !== 'user') {
      skipped.push({ ...said, reason: 'not_a_user_turn' });
      continue;
    }
    const key = normalisedFact(content);
    const earlier = seen.get(key);
    if (earlier && 'slot' in earlier) {
      slots.push({ kind: 'again', slot: earlier.slot, said });
      continue;
    }
    const target = fact.memoryId === undefined ? undefined : byId.get(fact.memoryId);
    const known = earlier?.memoryId ?? byText.get(key)?.id;
    const repeats = known ?? (fact.action === 'repeat' ? target?.id : undefined);
    if (repeats !== undefined) {
      skipped.push({ ...said, reason: 'repeat', memoryId: repeats });
      seen.set(key, { memoryId: repeats });
      continue;
    }
    if (inserts.length + updates.length >= MAX_CONVERSATION_WRITES) {
      skipped.push({ ...said, reason: 'too_many_facts' });
      continue;
    }
    const occurredAt = turn.at ? { occurredAt: turn.at } : {};
    seen.set(key, { slot: slots.length });
    if (fact.action === 'update' && target && !revised.has(target.id)) {
      revised.add(target.id);
      const memoryId = target.id;
      slots.push({ kind: 'update', at: updates.length, said, memoryId });
      updates.push({ memoryId, revision: target.revision, content, ...occurredAt });
    } else {
      slots.push({ kind: 'insert', at: inserts.length, said });
      inserts.push({ content, ...occurredAt, ...extras });
    }
  }
  return { changes: { inserts, updates }, slots, skipped };
}

/** What the write did to each fact: created, updated, or skipped with a reason. */
export function changeOutcome(
  planned: PlannedChanges,
  result: MemoryChangesResult,
): Omit<ConversationResult, 'extraction'> {
  const out: Omit<ConversationResult, 'extraction'> = {
    created: [],
    updated: [],
    skipped: [...planned.skipped],
  };
  // The memory each slot ended up as, for the facts that say the same again.
  const landed: (string | undefined)[] = [];
  for (const slot of planned.slots) {
    const { said } = slot;
    const { message } = said;
    if (slot.kind === 'again') {
      const memoryId = landed[slot.slot];
      out.skipped.push({ ...said, reason: 'repeat', ...(memoryId ? { memoryId } : {}) });
      landed.push(memoryId);
    } else if (slot.kind === 'insert') {
      const { memory, created } = result.inserted[slot.at]!;
      if (created) out.created.push({ memory, message });
      else out.skipped.push({ ...said, reason: 'repeat', memoryId: memory.id });
      landed.push(memory.id);
    } else {
      const outcome = result.updated[slot.at]!;
      if (outcome.kind === 'updated') {
        out.updated.push({ memory: outcome.memory, previous: outcome.previous, message });
        landed.push(outcome.memory.id);
      } else if (outcome.kind === 'repeat') {
        out.skipped.push({ ...said, reason: 'repeat', memoryId: outcome.memory.id });
        landed.push(outcome.memory.id);
      } else {
        out.skipped.push({ ...said, reason: 'memory_changed', memoryId: slot.memoryId });
        landed.push(undefined);
      }
    }
  }
  return out;
}
