import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import local from '../../tools/lint/import-direction.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// eslint.config.js is plain JavaScript without types: loaded by path, read as plain objects.
const configPath = path.join(root, 'eslint.config.js');
const projectConfig = ((await import(configPath)) as { default: unknown }).default as {
  files?: string[];
  rules?: Record<string, unknown>;
}[];
const linter = new Linter({ cwd: root });
const config = [
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { local },
    rules: { 'local/import-direction': 'error' as const },
  },
];

/** The direction errors ESLint reports for `code` placed at `file` (relative to the root). */
function directionErrors(file: string, code: string): string[] {
  return linter
    .verify(code, config, { filename: path.join(root, file) })
    .filter((m) => m.ruleId === 'local/import-direction')
    .map((m) => m.message);
}

describe('the import-direction lint rule', () => {
  it('is switched on for every TypeScript file by eslint.config.js', () => {
    const entry = projectConfig.find((c) => c.rules?.['local/import-direction'] === 'error');
    assert.deepEqual(entry?.files, ['**/*.ts']);
  });

  it('fails core/ importing anything outside core/', () => {
    const [error] = directionErrors('core/probe.ts', "import { x } from '../infra/config.ts';\nx;");
    assert.match(error ?? '', /core\/ imports nothing outside core\//);
    assert.deepEqual(directionErrors('core/probe.ts', "import { x } from './util/y.ts';\nx;"), []);
  });

  it('fails product code importing bench/, scripts/, test/ or tools/, and passes tooling doing so', () => {
    for (const spec of [
      '../bench/bench-kit.ts',
      '../scripts/test.ts',
      '../tools/dev-services/x.ts',
    ]) {
      const errors = directionErrors('api/probe.ts', `import { x } from '${spec}';\nx;`);
      assert.equal(errors.length, 1, spec);
      assert.match(errors[0]!, /the product never imports/);
    }
    assert.deepEqual(
      directionErrors('scripts/probe.ts', "import { x } from '../tools/dev-services/x.ts';\nx;"),
      [],
    );
  });

  it('fails what app/ assembles importing app/ back, the cycle the restructure removed', () => {
    const [error] = directionErrors(
      'api/main.ts',
      "import { runStack } from '../app/run-stack.ts';",
    );
    assert.match(error ?? '', /app\/ assembles the product/);
    assert.deepEqual(
      directionErrors('scripts/start.ts', "import { r } from '../app/run-stack.ts';"),
      [],
    );
  });

  it('lets workflows import types from anywhere but values only from listed pure helpers', () => {
    assert.deepEqual(
      directionErrors('workflows/probe.ts', "import type { A } from '../activities/index.ts';"),
      [],
    );
    assert.deepEqual(
      directionErrors('workflows/probe.ts', "import { type A, type B } from '../core/x.ts';"),
      [],
    );
    assert.deepEqual(
      directionErrors(
        'workflows/probe.ts',
        "import { UserPriorityQueue } from '../core/narrative/priority-queue.ts';",
      ),
      [],
    );
    const [value] = directionErrors(
      'workflows/probe.ts',
      "import { createConsolidator } from '../core/consolidation/consolidator.ts';",
    );
    assert.match(value ?? '', /workflows\/ import only types and the pure helpers/);
    const [builtin] = directionErrors('workflows/probe.ts', "import fs from 'node:fs';");
    assert.match(builtin ?? '', /only from @temporalio\/workflow/);
    assert.deepEqual(
      directionErrors('workflows/probe.ts', "import { sleep } from '@temporalio/workflow';"),
      [],
    );
  });

  it('checks re-exports and dynamic imports too', () => {
    assert.equal(directionErrors('core/probe.ts', "export * from '../api/app.ts';").length, 1);
    assert.equal(directionErrors('infra/probe.ts', "await import('../bench/x.ts');").length, 1);
  });
});
