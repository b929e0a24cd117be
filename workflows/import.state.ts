import type { ImportPageResult } from '../activities/import-activities.ts';

/** What an import's indexing run has done so far, over every continue-as-new. */
export interface ImportRunTotals {
  /** Memories finished: indexed, found indexed, or deleted meanwhile. */
  indexed: number;
  /** Memories an index refused (marked failed). */
  failed: number;
  /** Memories edited while indexed, handed (forced) to the user's indexing run. */
  requeued: number;
  /** Page activities run, empty ones (waiting for lines) included. */
  pages: number;
}

/** The run's progress as its query answers it. */
export interface ImportRunProgress extends ImportRunTotals {
  importId: string;
  userId: string;
  /** The last line of the file the run has taken. */
  afterLine: number;
  /** `indexing` while it pages, `waiting` while the upload is ahead of nothing, `done` at the end. */
  phase: 'indexing' | 'waiting' | 'done';
}

/** The progress of an import's indexing run: counts, where it is in the file, and its phase. */
export class ImportProgress {
  readonly totals: ImportRunTotals;
  afterLine: number;
  phase: ImportRunProgress['phase'] = 'indexing';

  constructor(
    private readonly ids: { importId: string; userId: string },
    carried: { afterLine?: number; totals?: ImportRunTotals },
  ) {
    this.afterLine = carried.afterLine ?? 0;
    this.totals = { indexed: 0, failed: 0, requeued: 0, pages: 0, ...carried.totals };
  }

  /** Counts a page's work and moves past its lines. */
  add(page: ImportPageResult): void {
    this.totals.indexed += page.indexed;
    this.totals.failed += page.failed;
    this.totals.requeued += page.requeued;
    this.totals.pages++;
    this.afterLine = page.afterLine;
    this.phase = page.taken === 0 && page.receiving ? 'waiting' : 'indexing';
  }

  view(): ImportRunProgress {
    return { ...this.ids, ...this.totals, afterLine: this.afterLine, phase: this.phase };
  }

  /** Markdown for the Temporal UI's current details. */
  details(): string {
    const { indexed, failed, requeued } = this.totals;
    const state = {
      indexing: 'indexing',
      waiting: 'waiting for more lines',
      done: 'done',
    }[this.phase];
    return (
      `**Import ${this.ids.importId}** (user ${this.ids.userId}): ${state}\n\n` +
      `- indexed: ${indexed}\n- failed: ${failed}\n- handed back after an edit: ${requeued}\n` +
      `- through line: ${this.afterLine}`
    );
  }
}
