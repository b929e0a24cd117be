/**
 * One line of an NDJSON stream: its number (from 1, counting every line of
 * the file) and its text, or why it cannot be read (too long, not UTF-8).
 */
export type RawLine = { line: number; text: string } | { line: number; problem: string };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** The bytes of one line as they arrive, dropped (but still counted) once past the limit. */
class LineBytes {
  private parts: Uint8Array[] = [];
  private length = 0;
  private oversized = false;

  constructor(private readonly maxBytes: number) {}

  add(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.oversized) return;
    if (this.length + bytes.length > this.maxBytes) {
      // Never held: a line past the limit costs no memory however long it is.
      this.oversized = true;
      this.parts = [];
      return;
    }
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** The line's bytes (without a trailing CR), or null when it was too long; then starts afresh. */
  take(): Uint8Array | null {
    const { parts, length, oversized } = this;
    this.parts = [];
    this.length = 0;
    this.oversized = false;
    if (oversized) return null;
    let bytes = parts.length === 1 ? parts[0]! : concat(parts, length);
    if (bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    return bytes;
  }

  get empty(): boolean {
    return this.length === 0 && !this.oversized;
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Splits a byte stream into lines as it arrives, holding at most one line
 * (of at most `maxLineBytes`) at a time, so memory stays bounded whatever
 * the stream's size. Lines that are empty or only whitespace are skipped
 * (their numbers still count); a line longer than `maxLineBytes` or not
 * valid UTF-8 comes back as a problem, and the next line is read as usual.
 * Pulling the next line is what reads the stream on: a consumer that
 * awaits between lines holds the sender back (backpressure).
 */
export async function* ndjsonLines(
  source: AsyncIterable<Uint8Array | string>,
  { maxLineBytes }: { maxLineBytes: number },
): AsyncGenerator<RawLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const encoder = new TextEncoder();
  const current = new LineBytes(maxLineBytes);
  let line = 1;
  const finish = (): RawLine | null => {
    const bytes = current.take();
    const number = line++;
    if (bytes === null) {
      return { line: number, problem: `line is longer than ${maxLineBytes} bytes` };
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { line: number, problem: 'line is not valid UTF-8' };
    }
    return text.trim() === '' ? null : { line: number, text };
  };
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    for (let from = 0; from < bytes.length;) {
      const end = bytes.indexOf(NEWLINE, from);
      if (end === -1) {
        current.add(bytes.subarray(from));
        break;
      }
      current.add(bytes.subarray(from, end));
      from = end + 1;
      const done = finish();
      if (done) yield done;
    }
  }
  if (!current.empty) {
    const done = finish();
    if (done) yield done;
  }
}
