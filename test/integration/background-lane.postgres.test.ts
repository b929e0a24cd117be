import assert from 'node:assert/strict';
import os from 'node:os';
import { after, it } from 'node:test';
import { withPriority } from '../../core/concurrency/work-priority.ts';
import { BACKGROUND_STATEMENT_TIMEOUT_MS, createPgDriver } from '../../infra/db/pg-driver.ts';
import { writeLane, type SqlDriver, type SqlExecutor } from '../../infra/db/sql-driver.ts';
import { requireTestEnv } from '../support/test-env.ts';

const url = requireTestEnv('TEST_DATABASE_URL');
const options = { url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 60_000 };
const closers: (() => Promise<void>)[] = [];
after(() => Promise.all(closers.map((close) => close())));

async function open(backgroundNiceness?: number): Promise<SqlDriver> {
  const driver = await createPgDriver({
    ...options,
    ...(backgroundNiceness ? { backgroundNiceness } : {}),
  });
  closers.push(() => driver.close());
  return driver;
}

interface Backend {
  app: string;
  pid: number;
}
const whoAnswers = async (executor: SqlExecutor): Promise<Backend> =>
  (
    await executor.query<Backend>(
      `SELECT current_setting('application_name') AS app, pg_backend_pid() AS pid`,
    )
  )[0]!;
const background = <T>(fn: () => Promise<T>) => withPriority('background', fn);

it('work at background priority reads and writes on connections of its own', async () => {
  const driver = await open();
  const lane = writeLane(driver);
  assert.equal((await whoAnswers(driver)).app, 'memory-engine');
  assert.equal((await whoAnswers(lane)).app, 'memory-engine-writes');
  assert.equal(
    (await driver.transaction((tx) => whoAnswers(tx))).app,
    'memory-engine',
    'a transaction outside any priority is interactive',
  );
  for (const [what, answer] of [
    ['a read', background(() => whoAnswers(driver))],
    ['a write', background(() => whoAnswers(lane))],
    ['a transaction', background(() => driver.transaction((tx) => whoAnswers(tx)))],
    ['a write transaction', background(() => lane.transaction((tx) => whoAnswers(tx)))],
  ] as const) {
    assert.equal((await answer).app, 'memory-engine-background', what);
  }
});

it('the server processes behind background connections are made nicer, the others are not', async () => {
  // Nicing a new connection sends no statement of its own ahead of its first caller's,
  // which pg warns it will stop queueing.
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  const driver = await open(5);
  const interactive = await whoAnswers(driver);
  const base = os.getPriority(interactive.pid);
  // Several at once, so more than one background connection is opened and each is niced.
  const backends = await background(() =>
    Promise.all(
      Array.from({ length: 3 }, () =>
        driver.transaction(async (tx) => {
          await tx.query('SELECT pg_sleep(0.2)');
          return whoAnswers(tx);
        }),
      ),
    ),
  );
  assert.ok(new Set(backends.map((b) => b.pid)).size >= 2, 'more than one connection was used');
  for (const backend of backends) {
    assert.equal(os.getPriority(backend.pid), Math.min(19, base + 5), `backend ${backend.pid}`);
  }
  assert.equal(os.getPriority((await whoAnswers(writeLane(driver))).pid), base);
  assert.equal(os.getPriority(interactive.pid), base);

  const plain = await open();
  const unniced = await background(() => whoAnswers(plain));
  assert.equal(os.getPriority(unniced.pid), base, 'no niceness asked, none given');
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  assert.deepEqual(
    warnings.filter((w) => /already executing/.test(w)),
    [],
  );
});

it("background statements outlast a query's statement timeout; interactive ones do not", async () => {
  const driver = await createPgDriver({ ...options, statementTimeoutMs: 300 });
  closers.push(() => driver.close());
  const limit = async (executor: SqlExecutor) =>
    (await executor.query<{ ms: string }>(`SELECT current_setting('statement_timeout') AS ms`))[0]!
      .ms;
  assert.equal(await limit(driver), '300ms');
  assert.equal(await limit(writeLane(driver)), '300ms');
  assert.equal(
    await background(() => limit(driver)),
    `${BACKGROUND_STATEMENT_TIMEOUT_MS / 60_000}min`,
  );
  await assert.rejects(driver.query('SELECT pg_sleep(0.6)'), { code: 'dependency_unavailable' });
  await background(() => driver.query('SELECT pg_sleep(0.6)'));
});
