import type {
  ExportCursor,
  ExportedMemory,
  ImportBatch,
  ImportedToIndex,
  ImportRecord,
  ImportState,
} from './portability-records.ts';

export type * from './portability-records.ts';

/**
 * Port for moving a user's memories out and in, in bounded pages and
 * batches so that neither depends on how many a user has. Every call is
 * scoped by user id (or by an import id that belongs to one user).
 *
 * Lines an import acknowledges are committed with the counts that report
 * them, in one transaction per batch, so a crash never leaves an import
 * half-counted; dedup is by `external_id` when a line gives one and by the
 * normalised content otherwise (both unique per user), so committing the
 * same lines again creates nothing.
 */
export interface PortabilityStore {
  /**
   * Up to `limit` of the user's memories (every state, expired ones left
   * out) in save order (`createdAt`, then id) after `after`.
   */
  exportPage(
    userId: string,
    options: { limit: number; after?: ExportCursor },
  ): Promise<ExportedMemory[]>;

  /**
   * Opens an import for the user. One import of a user receives at a time:
   * another one still receiving is a `conflict`, unless nothing arrived for
   * it for `stallMs` (its upload died), which marks it `interrupted` first.
   * Unknown user: `not_found`.
   */
  startImport(
    userId: string,
    options: { allOrNothing: boolean; stallMs: number },
  ): Promise<ImportRecord>;
  /**
   * Commits a batch: its lines become memories (duplicates are counted,
   * not stored), its counts and first refused lines are added to the
   * import, in one transaction. The import must still be receiving
   * (`conflict` otherwise, and nothing is written).
   */
  addImportBatch(
    userId: string,
    importId: string,
    batch: ImportBatch,
  ): Promise<{ created: number; duplicates: number }>;
  /** Holds an all-or-nothing import's batch aside (counted, not yet memories). */
  stageImportBatch(importId: string, batch: ImportBatch): Promise<void>;
  /**
   * Turns every held line of an all-or-nothing import into memories in one
   * transaction and marks it `received`: all are stored or none.
   */
  commitStagedImport(
    userId: string,
    importId: string,
  ): Promise<{ created: number; duplicates: number }>;
  /**
   * Ends a receiving import in `state` (held lines are dropped unless it was
   * received); returns its record. An import already ended keeps its state.
   */
  endImport(
    importId: string,
    state: Exclude<ImportState, 'receiving'>,
  ): Promise<ImportRecord | null>;
  /** The user's import, or null when it is not theirs or does not exist. */
  getImport(userId: string, importId: string): Promise<ImportRecord | null>;
  /** Records the workflow run that indexes the import. */
  setImportWorkflow(importId: string, workflowId: string): Promise<void>;

  /**
   * Up to `limit` of the import's memories (still there, not expired) in
   * line order after `afterLine`: what its indexing run takes next.
   */
  nextToIndex(
    userId: string,
    importId: string,
    options: { afterLine: number; limit: number },
  ): Promise<ImportedToIndex[]>;
  /**
   * Whether lines may still arrive for the import. A receiving import that
   * got nothing for `stallMs` is marked `interrupted` here: its upload died.
   */
  importStillReceiving(importId: string, stallMs: number): Promise<boolean>;
  /**
   * Adds a page's counts to the import's indexing, once per page: a page
   * through `throughLine` is counted only if no later one was (a retried
   * page is not counted twice). `done` marks the indexing done.
   */
  recordImportIndexing(
    importId: string,
    progress: { throughLine: number; indexed: number; failed: number; done: boolean },
  ): Promise<void>;
}
