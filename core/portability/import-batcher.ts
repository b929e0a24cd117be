import type { ImportBatch, ImportedMemory, LineError } from '../ports/portability-store.ts';
import type { RawLine } from './ndjson-lines.ts';

/** What the edge made of one line's text, by the rules of a save. */
export type ParsedLine =
  | { kind: 'memory'; memory: ImportedMemory }
  /** A line that is not a memory but belongs in the file (an export's narrative). */
  | { kind: 'ignored' }
  | { kind: 'refused'; message: string };

/** Validates one line's text; `now` is when the import reads it (a `ttl_s` counts from it). */
export type LineParser = (text: string, now: number) => ParsedLine;

/** When a batch is due: whichever bound comes first. */
export interface BatchBounds {
  /** Lines per batch (and per transaction). */
  lines: number;
  /** Bytes of line text per batch. */
  bytes: number;
  /** The longest a line waits to be committed while more keep arriving. */
  waitMs: number;
}

/**
 * Gathers an upload's lines into batches: valid ones with their numbers,
 * refused ones with why, and counts. A batch is due at a bound, so a batch
 * (one transaction) stays small whatever the upload's size, and an
 * acknowledged line waits at most `waitMs` to be committed.
 */
export class ImportBatcher {
  private batch: ImportBatch = emptyBatch();
  private bytes = 0;
  private startedAt = 0;
  /** Refused lines so far, over every batch. */
  refusedTotal = 0;
  /** The first refused lines so far, over every batch (for an all-or-nothing refusal). */
  readonly firstErrors: LineError[] = [];

  constructor(
    private readonly parse: LineParser,
    private readonly bounds: BatchBounds,
    private readonly maxErrors: number,
    private readonly now: () => number,
  ) {}

  /** Takes one line into the current batch. */
  add(raw: RawLine): void {
    if (this.batch.read === 0) this.startedAt = this.now();
    this.batch.read++;
    const parsed: ParsedLine =
      'problem' in raw
        ? { kind: 'refused', message: raw.problem }
        : this.parse(raw.text, this.now());
    if ('text' in raw) this.bytes += raw.text.length;
    if (parsed.kind === 'memory') this.batch.lines.push({ line: raw.line, memory: parsed.memory });
    else if (parsed.kind === 'ignored') this.batch.ignored++;
    else this.refuse({ line: raw.line, message: parsed.message });
  }

  private refuse(error: LineError): void {
    this.batch.refused.push(error);
    this.refusedTotal++;
    if (this.firstErrors.length < this.maxErrors) this.firstErrors.push(error);
  }

  /** True once the current batch has reached one of its bounds. */
  due(): boolean {
    const { lines, bytes, waitMs } = this.bounds;
    return (
      this.batch.read >= lines ||
      this.bytes >= bytes ||
      (this.batch.read > 0 && this.now() - this.startedAt >= waitMs)
    );
  }

  /** How long the current batch may still wait for lines (infinite when it holds none). */
  waitLeft(): number {
    if (this.batch.read === 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.startedAt + this.bounds.waitMs - this.now());
  }

  /** Removes and returns the current batch; null when it holds no line. */
  take(): ImportBatch | null {
    if (this.batch.read === 0) return null;
    const batch = this.batch;
    this.batch = emptyBatch();
    this.bytes = 0;
    return batch;
  }
}

function emptyBatch(): ImportBatch {
  return { lines: [], refused: [], ignored: 0, read: 0 };
}
