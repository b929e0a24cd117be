/** One memory's part in a consolidation: archive it, or keep it with new tags or metadata. */
export interface ConsolidationChange {
  memoryId: string;
  /** The revision the rules looked at; the change's group is skipped when it moved on. */
  revision: number;
  /** Archive the memory (state `archived`); it keeps its row, content and links. */
  archive?: boolean;
  /** The memory's new tags. */
  tags?: string[];
  /** Top-level keys merged into the memory's metadata. */
  metadata?: Record<string, unknown>;
}

export interface ConsolidationOutcome {
  /** Per group, in order: applied (true), or skipped because a memory changed meanwhile. */
  applied: boolean[];
  /** Memories whose filter payload changed (archived, retagged, new metadata terms): new pending revisions to index. */
  reindex: string[];
}
