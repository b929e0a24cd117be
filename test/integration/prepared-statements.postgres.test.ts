import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { PREPARE_AFTER_RUNS } from '../../infra/db/pg-statements.ts';
import type { SqlDriver, SqlExecutor } from '../../infra/db/sql-driver.ts';
import { requireTestEnv } from '../support/test-env.ts';

const url = requireTestEnv('TEST_DATABASE_URL');
const closers: (() => Promise<void>)[] = [];
after(() => Promise.all(closers.map((close) => close())));

async function open(preparedStatements?: boolean): Promise<SqlDriver> {
  const driver = await createPgDriver({
    url,
    // One connection, so every statement below runs on the connection the check reads.
    poolSize: 1,
    statementTimeoutMs: 60_000,
    connectTimeoutMs: 60_000,
    ...(preparedStatements === undefined ? {} : { preparedStatements }),
  });
  closers.push(() => driver.close());
  return driver;
}

const REPEATED = `SELECT $1::int + 1 AS next /* prepared-statements test */`;

/** The statements prepared on the connection `executor` runs on, with how often each ran. */
const preparedOn = async (executor: SqlExecutor) =>
  executor.query<{ name: string; statement: string }>(
    `SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%prepared-statements test%'`,
  );

it('a statement run again and again is prepared once on its connection, and answers as before', async () => {
  const driver = await open();
  const answers: number[] = [];
  for (let i = 0; i < PREPARE_AFTER_RUNS + 3; i++) {
    answers.push((await driver.query<{ next: number }>(REPEATED, [i]))[0]!.next);
  }
  assert.deepEqual(
    answers,
    Array.from({ length: PREPARE_AFTER_RUNS + 3 }, (_, i) => i + 1),
  );
  const prepared = await preparedOn(driver);
  assert.equal(prepared.length, 1, 'one prepared statement for the repeated text');
  assert.match(prepared[0]!.name, /^memory_engine_\d+$/);

  // A value the statement refuses is still the caller's error, and the connection goes on.
  await assert.rejects(driver.query(REPEATED, ['not a number']), {
    code: 'bad_request',
    details: { sqlstate: '22P02' },
  });
  assert.equal((await driver.query<{ next: number }>(REPEATED, [41]))[0]!.next, 42);
});

it('with PG_PREPARED_STATEMENTS=false nothing is prepared', async () => {
  const driver = await open(false);
  for (let i = 0; i < PREPARE_AFTER_RUNS + 3; i++) await driver.query(REPEATED, [i]);
  assert.deepEqual(await preparedOn(driver), []);
});
