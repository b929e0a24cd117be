import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { API_TYPES_FILE, generateApiTypes } from '../../client/scripts/generate-api-types.ts';
import { ROOT } from '../support/child-process.ts';

describe('the client package', () => {
  it('has API types that match the zod schemas in api/ (else: npx tsx client/scripts/generate-api-types.ts)', async () => {
    const committed = await fs.readFile(API_TYPES_FILE, 'utf8');
    assert.equal(committed, await generateApiTypes());
  });

  it('compiles on its own, with web-standard globals only (no Node types, nothing outside client/src)', async () => {
    const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
    const config = path.join(ROOT, 'client/tsconfig.build.json');
    const run = await promisify(execFile)(tsc, ['--noEmit', '-p', config], { cwd: ROOT }).catch(
      (error: { stdout?: string; code?: number }) => ({
        stdout: error.stdout ?? '',
        code: error.code,
      }),
    );
    assert.equal('code' in run ? run.code : 0, 0, run.stdout);
  });
});
