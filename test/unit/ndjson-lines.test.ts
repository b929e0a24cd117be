import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ndjsonLines, type RawLine } from '../../core/portability/ndjson-lines.ts';

async function* chunks(...parts: (string | number[])[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    yield typeof part === 'string' ? new TextEncoder().encode(part) : new Uint8Array(part);
  }
}

async function read(source: AsyncIterable<Uint8Array>, maxLineBytes = 64): Promise<RawLine[]> {
  const lines: RawLine[] = [];
  for await (const line of ndjsonLines(source, { maxLineBytes })) lines.push(line);
  return lines;
}

describe('reading NDJSON as it arrives', () => {
  it('joins lines split across chunks, numbers every line and skips blank ones', async () => {
    const lines = await read(chunks('{"a":1}\n{"b"', ':2}\r\n\n   \n{"c":3}'));
    assert.deepEqual(lines, [
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '{"b":2}' },
      { line: 5, text: '{"c":3}' },
    ]);
  });

  it('refuses a line past the limit without holding it, and goes on with the next', async () => {
    const long = 'x'.repeat(50);
    const lines = await read(chunks(`ok\n${long}`, long, long, '\nafter\n'), 64);
    assert.deepEqual(lines, [
      { line: 1, text: 'ok' },
      { line: 2, problem: 'line is longer than 64 bytes' },
      { line: 3, text: 'after' },
    ]);
  });

  it('refuses bytes that are not UTF-8, and keeps a character split across chunks', async () => {
    const euro = [...new TextEncoder().encode('€')];
    const lines = await read(chunks([0x61, euro[0]!], [euro[1]!, euro[2]!, 0x0a, 0xff, 0x0a]));
    assert.deepEqual(lines, [
      { line: 1, text: 'a€' },
      { line: 2, problem: 'line is not valid UTF-8' },
    ]);
  });
});
