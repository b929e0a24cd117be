import { within } from '../concurrency/limits.ts';
import { AppError } from '../errors.ts';
import type { ImportRuns } from '../ports/import-runs.ts';
import type { ImportBatch, ImportRecord, PortabilityStore } from '../ports/portability-store.ts';
import { MAX_IMPORT_ERRORS } from '../ports/portability-records.ts';
import { ImportBatcher, type BatchBounds, type LineParser } from './import-batcher.ts';
import { ndjsonLines, type RawLine } from './ndjson-lines.ts';

export type { LineParser, ParsedLine } from './import-batcher.ts';

const PAUSED = Symbol('paused');

/** How an import reads and commits; every bound keeps one upload from holding much of anything. */
export interface ImportSettings {
  batch: BatchBounds;
  /** A longer line is refused (and never held): a memory's fields fit well within it. */
  maxLineBytes: number;
  /** An upload larger than this is cut off with `payload_too_large`. */
  maxBytes: number;
  /** Uploads this process receives at once; more wait for a `Retry-After`. */
  maxConcurrent: number;
  /** A receiving import that got nothing for this long counts as interrupted. */
  stallMs: number;
}

export const DEFAULT_IMPORT_SETTINGS: ImportSettings = {
  batch: { lines: 500, bytes: 1 << 20, waitMs: 1000 },
  maxLineBytes: 128 * 1024,
  maxBytes: 1 << 30,
  maxConcurrent: 4,
  stallMs: 120_000,
};

export interface ImportServiceDeps {
  store: PortabilityStore;
  /** Starts each import's indexing run; absent, imported memories wait for the reconciler. */
  runs?: ImportRuns;
  parse: LineParser;
  settings?: Partial<ImportSettings>;
  /** Told when an indexing run could not be started (the import itself stands). */
  onRunStartError?: (error: unknown, importId: string) => void;
  now?: () => number;
}

/** The upload's bytes, counted: past `maxBytes` it is cut off; a broken upload is a client error. */
async function* bounded(
  source: AsyncIterable<Uint8Array | string>,
  maxBytes: number,
): AsyncGenerator<Uint8Array | string> {
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > maxBytes) {
        throw new AppError('payload_too_large', `the upload is larger than ${maxBytes} bytes`);
      }
      yield chunk;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('bad_request', 'the upload ended before its last line (connection lost)', {
      cause: error,
    });
  }
}

/** One upload into one import: reads its lines, commits them, starts its indexing run. */
class Upload {
  private indexingStarted = false;

  constructor(
    private readonly deps: ImportServiceDeps & { settings: ImportSettings; now: () => number },
    private readonly userId: string,
    readonly record: ImportRecord,
  ) {}

  /** Starts the import's indexing run once; a failure is told and tried again at the next call. */
  async startIndexing(): Promise<void> {
    const { runs, store } = this.deps;
    if (this.indexingStarted || !runs) return;
    try {
      const { workflowId } = await runs.start({ importId: this.record.id, userId: this.userId });
      await store.setImportWorkflow(this.record.id, workflowId);
      this.indexingStarted = true;
    } catch (error) {
      this.deps.onRunStartError?.(error, this.record.id);
    }
  }

  /** The batch being committed: one at a time, while the next one is read. */
  private committing: Promise<void> = Promise.resolve();

  /**
   * Reads every line, committing (or, all or nothing, holding) each batch as
   * it is due. The next batch is read and validated while the last one
   * commits; at most two batches are held, so memory stays bounded.
   */
  async receive(source: AsyncIterable<Uint8Array | string>): Promise<ImportBatcher> {
    const { settings, parse, now } = this.deps;
    const batcher = new ImportBatcher(parse, settings.batch, MAX_IMPORT_ERRORS, now);
    const lines: AsyncIterable<RawLine> = ndjsonLines(bounded(source, settings.maxBytes), {
      maxLineBytes: settings.maxLineBytes,
    });
    const reader = lines[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = reader.next();
        // Lines waiting while the sender pauses are committed after `waitMs` all the same.
        const wait = batcher.waitLeft();
        let read = Number.isFinite(wait) ? await within(next, wait, PAUSED) : await next;
        if (read === PAUSED) {
          await this.enqueue(batcher.take(), batcher);
          read = await next;
        }
        if (read.done) break;
        batcher.add(read.value);
        if (batcher.due()) await this.enqueue(batcher.take(), batcher);
      }
      await this.enqueue(batcher.take(), batcher);
      await this.committing;
    } finally {
      // Settled before the import is ended, whichever way.
      await this.committing.catch(() => undefined);
    }
    return batcher;
  }

  /** Starts committing `batch` once the one before is committed (a failure surfaces here). */
  private async enqueue(batch: ImportBatch | null, batcher: ImportBatcher): Promise<void> {
    await this.committing;
    const commit = this.commit(batch, batcher);
    // Awaited by the next call (or at the end); never an unhandled rejection meanwhile.
    commit.catch(() => undefined);
    this.committing = commit;
  }

  private async commit(batch: ImportBatch | null, batcher: ImportBatcher): Promise<void> {
    if (!batch) return;
    const { store } = this.deps;
    if (this.record.allOrNothing) {
      // After the first bad line nothing will be stored: the rest is only read and counted.
      if (batcher.refusedTotal === 0) await store.stageImportBatch(this.record.id, batch);
      return;
    }
    const { created } = await store.addImportBatch(this.userId, this.record.id, batch);
    // Indexing starts with the first memories stored, while the rest still arrives.
    if (created > 0) await this.startIndexing();
  }

  /** Ends the import `received` (an all-or-nothing one: commits what it held), or refuses it. */
  async conclude(batcher: ImportBatcher): Promise<{ created: number }> {
    const { store } = this.deps;
    const { id, allOrNothing } = this.record;
    if (!allOrNothing) {
      const ended = await store.endImport(id, 'received');
      return { created: ended?.counts.created ?? 0 };
    }
    if (batcher.refusedTotal > 0) {
      await store.endImport(id, 'refused');
      const [first] = batcher.firstErrors;
      throw new AppError(
        'bad_request',
        `import refused, nothing stored: ${batcher.refusedTotal} bad line(s); ` +
          `line ${first!.line}: ${first!.message}`,
        { details: { import_id: id, refused: batcher.refusedTotal, errors: batcher.firstErrors } },
      );
    }
    return store.commitStagedImport(this.userId, id);
  }
}

/**
 * Imports NDJSON into a user's memories as it streams in: each line
 * validated by the rules of a save (a bad line is refused with its number
 * and skipped, or, with `allOrNothing`, refuses the whole import),
 * deduplicated by `external_id` or content, committed in bounded batches (a
 * committed line is acknowledged and survives any crash; an all-or-nothing
 * import is held aside and committed whole at the end). One durable run per
 * import indexes the new memories, starting as soon as the first are stored.
 */
export function createImportService(deps: ImportServiceDeps) {
  const settings = { ...DEFAULT_IMPORT_SETTINGS, ...deps.settings };
  const context = { ...deps, settings, now: deps.now ?? Date.now };
  const { store } = deps;
  let receiving = 0;

  async function upload(
    userId: string,
    source: AsyncIterable<Uint8Array | string>,
    allOrNothing: boolean,
  ): Promise<ImportRecord> {
    const record = await store.startImport(userId, { allOrNothing, stallMs: settings.stallMs });
    const run = new Upload(context, userId, record);
    let created: number;
    try {
      ({ created } = await run.conclude(await run.receive(source)));
    } catch (error) {
      await store.endImport(record.id, 'interrupted').catch(() => undefined);
      throw error;
    }
    if (created > 0) await run.startIndexing();
    else {
      await store.recordImportIndexing(record.id, {
        throughLine: 0,
        indexed: 0,
        failed: 0,
        done: true,
      });
    }
    return (await store.getImport(userId, record.id))!;
  }

  return {
    settings,

    /**
     * Reads `source` to its end and answers with the import's record: its
     * counts, its first refused lines and its indexing. A store or upload
     * failure ends the import `interrupted` (what was committed stays: the
     * same file again completes it) and rejects. At most
     * `settings.maxConcurrent` uploads at once in this process (`overloaded`).
     */
    async run(
      userId: string,
      source: AsyncIterable<Uint8Array | string>,
      options: { allOrNothing: boolean },
    ): Promise<ImportRecord> {
      if (receiving >= settings.maxConcurrent) {
        throw new AppError('overloaded', 'too many imports are being received: retry shortly');
      }
      receiving++;
      try {
        return await upload(userId, source, options.allOrNothing);
      } finally {
        receiving--;
      }
    },

    /** The user's import; `not_found` when it is not theirs. */
    async get(userId: string, importId: string): Promise<ImportRecord> {
      const found = await store.getImport(userId, importId);
      if (!found) throw new AppError('not_found', `import ${importId} not found`);
      return found;
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;
