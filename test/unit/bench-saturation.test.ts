import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLines } from '../../bench/context/saturation.ts';

describe('context bench: the API process memory line', () => {
  it('splits RSS into the V8 heap, external buffers and the native rest', () => {
    const [line] = memoryLines({ rssMb: 1000, heapUsedMb: 300, heapTotalMb: 400, externalMb: 50 });
    assert.match(
      line!,
      /RSS 1000 MB = V8 heap 400 MB reserved \(300 MB used\) \+ external 50 MB \+ 550 MB native/,
    );
  });

  it('says nothing when /metrics gave no memory', () => {
    assert.deepEqual(memoryLines(null), []);
  });
});
