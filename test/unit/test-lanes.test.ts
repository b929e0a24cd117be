import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RUN_ALONE, testFiles, testLanes } from '../../scripts/test-lanes.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the lanes of npm test', () => {
  it('lists only test files that exist, each with its reason', () => {
    for (const { file, why } of RUN_ALONE) {
      assert.ok(fs.existsSync(path.join(root, file)), `${file} is not in the checkout`);
      assert.match(file, /^test\/.+\.test\.ts$/);
      assert.ok(why.length > 0, `${file} says why it runs alone`);
    }
  });

  it('runs every file of the suite exactly once, the listed ones alone and in name order', async () => {
    const files = await testFiles(root, path.join(root, 'test'));
    const { shared, alone } = testLanes(files);
    assert.deepEqual([...shared, ...alone].sort(), files);
    assert.deepEqual(alone, RUN_ALONE.map((entry) => entry.file).sort());
    assert.ok(shared.includes('test/unit/test-lanes.test.ts'));
    // Files named on the command line as ./test/… land in the same lanes.
    assert.deepEqual(testLanes([`./${alone[0]!}`]).alone, [`./${alone[0]!}`]);
  });
});
