import type { PlanFallback } from '../planning/context-plan.ts';
import type { Memory, MemoryRevision } from '../ports/relational-store.ts';

export const conversationRoles = ['user', 'assistant', 'system'] as const;
export type ConversationRole = (typeof conversationRoles)[number];

/** One turn of a conversation, as a client sends it. */
export interface ConversationMessage {
  role: ConversationRole;
  content: string;
  /** When it was said; the facts it states take it as their event time. */
  at?: Date;
}

export interface ConversationInput {
  messages: readonly ConversationMessage[];
  /** Given to every memory the conversation creates. */
  tags?: string[];
  /** Given to every memory the conversation creates. */
  metadata?: Record<string, unknown>;
}

/** What a fact does to the user's memories, as extraction decides it. */
export type FactAction = 'add' | 'update' | 'repeat';

/** Something worth remembering from one of the user's messages. */
export interface ExtractedFact {
  content: string;
  /** Index of the user message it comes from. */
  message: number;
  action: FactAction;
  /** The stored memory it updates or repeats (one of the candidates). */
  memoryId?: string;
  /** Where its sentence comes among the conversation's sentences, to answer in that order. */
  sentence?: number;
}

/**
 * Why a fact or sentence was not saved: the user already has it (`repeat`),
 * the local rule found nothing to keep in it (`not_memorable`), the memory to
 * update changed meanwhile (`memory_changed`), the model took it from a turn
 * that is not the user's (`not_a_user_turn`), or the conversation held more
 * facts than one call saves (`too_many_facts`).
 */
export const skipReasons = [
  'repeat',
  'not_memorable',
  'memory_changed',
  'not_a_user_turn',
  'too_many_facts',
] as const;
export type SkipReason = (typeof skipReasons)[number];

export interface SkippedFact {
  content: string;
  message: number;
  reason: SkipReason;
  /** The memory that already says it (`repeat`) or that changed (`memory_changed`). */
  memoryId?: string;
  /** Where its sentence comes among the conversation's sentences, to answer in that order. */
  sentence?: number;
}

/** How the facts were found: by the model, or by the local rule (and why, when a model is configured). */
export interface ExtractionReport {
  source: 'model' | 'local';
  /** Set when the local rule stood in for a configured model. */
  fallback?: PlanFallback;
  modelCalls: number;
}

export interface ConversationResult {
  created: { memory: Memory; message: number }[];
  updated: { memory: Memory; previous: MemoryRevision; message: number }[];
  skipped: SkippedFact[];
  extraction: ExtractionReport;
}
