import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  createStatementNamer,
  PREPARE_AFTER_RUNS,
  PREPARED_TEXTS_MAX,
} from '../../infra/db/pg-statements.ts';

const runs = (namer: ReturnType<typeof createStatementNamer>, text: string, times: number) =>
  Array.from({ length: times }, () => namer.config(text, [1]).name);

it('names a text from its PREPARE_AFTER_RUNS-th run on, always with the same name', () => {
  const namer = createStatementNamer({ enabled: true });
  const names = runs(namer, 'SELECT $1', PREPARE_AFTER_RUNS + 2);
  assert.deepEqual(
    names.slice(0, PREPARE_AFTER_RUNS - 1),
    Array(PREPARE_AFTER_RUNS - 1).fill(undefined),
  );
  const named = names.slice(PREPARE_AFTER_RUNS - 1);
  assert.ok(named[0]);
  assert.deepEqual(named, Array(named.length).fill(named[0]));
  assert.notEqual(runs(namer, 'SELECT $1 + 1', PREPARE_AFTER_RUNS).at(-1), named[0]);
});

it('leaves statements without parameters, and every statement when disabled, unnamed', () => {
  const namer = createStatementNamer({ enabled: true });
  for (let i = 0; i < PREPARE_AFTER_RUNS + 1; i++)
    assert.equal(namer.config('BEGIN', []).name, undefined);
  const off = createStatementNamer({ enabled: false });
  assert.deepEqual(
    runs(off, 'SELECT $1', PREPARE_AFTER_RUNS + 1),
    Array(PREPARE_AFTER_RUNS + 1).fill(undefined),
  );
  assert.deepEqual(off.config('SELECT $1', [7]), { text: 'SELECT $1', values: [7] });
});

it('names at most PREPARED_TEXTS_MAX texts, and a text run once is never named', () => {
  const namer = createStatementNamer({ enabled: true });
  for (let i = 0; i < 5_000; i++) namer.config(`SELECT ${i} + $1`, [1]);
  assert.equal(namer.named, 0, 'texts that never repeat stay unnamed');
  for (let i = 0; i < PREPARED_TEXTS_MAX + 10; i++)
    runs(namer, `SELECT $1 /* ${i} */`, PREPARE_AFTER_RUNS);
  assert.equal(namer.named, PREPARED_TEXTS_MAX);
  assert.equal(runs(namer, 'SELECT $1 /* late */', PREPARE_AFTER_RUNS + 1).at(-1), undefined);
});
