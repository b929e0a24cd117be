import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { createEngineAdapters, type EngineAdapters } from '../../app/engine-adapters.ts';
import { generateApiKey, hashApiKey } from '../../core/auth/api-keys.ts';
import type { Memory } from '../../core/ports/relational-store.ts';
import { loadConfig } from '../../infra/config.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { migrate } from '../../infra/db/migrations.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../../infra/db/sql-driver.ts';
import { copyStore } from '../../infra/db/store-copy.ts';
import { createLogger } from '../../infra/logger.ts';
import { createTestDatabase, dropTestDatabase } from '../../tools/dev-services/local-postgres.ts';
import { ROOT } from '../support/child-process.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { requireTestEnv } from '../support/test-env.ts';

const engineEnv = { LOG_LEVEL: 'silent', EMBEDDER: 'hashing', EMBED_BATCH_WINDOW_MS: '5' };
const serverUrl = requireTestEnv('TEST_PGVECTOR_URL');
const databaseName = `migrate_store_${Date.now()}_${process.pid}`;

interface SourceView {
  userIds: string[];
  apiKey: string;
  memories: Memory[][];
  vectorHits: string[];
  graphHits: unknown;
  entities: unknown;
  narrative: unknown;
}

let dataDir: TempDir;
let targetUrl: string;
let seen: SourceView;

async function openEngine(env: Record<string, string>, dir: string): Promise<EngineAdapters> {
  return createEngineAdapters(
    loadConfig({ ...engineEnv, DATA_DIR: dir, ...env }),
    createLogger('silent'),
  );
}

/** What a user would read back from the store, taken the same way on both sides. */
async function view(engine: EngineAdapters, userIds: string[], apiKey: string) {
  const [ada] = userIds as [string];
  const [query] = await engine.embedder.embed(['the analytical engine and its notes']);
  return {
    userIds,
    apiKey,
    memories: await Promise.all(
      userIds.map(async (id) => (await engine.store.listMemories(id, { limit: 100 })).items),
    ),
    vectorHits: (await engine.vectors.search({ userId: ada, vector: query!, limit: 5 })).map(
      (hit) => hit.id,
    ),
    graphHits: await engine.graph.findMemories(ada, ['Ada Lovelace'], { limit: 10, maxHops: 1 }),
    entities: await engine.graph.entityNames(ada, { limit: 50 }),
    narrative: await engine.store.latestNarrative(ada),
  };
}

/** Fills a PGlite store through the product's own adapters, the way the running product does. */
async function buildSource(dir: string): Promise<SourceView> {
  const engine = await openEngine({ STORE: 'pglite' }, dir);
  try {
    const { store, vectors, embedder, graph } = engine;
    const ada = await store.createUser({ name: 'ada' });
    const bob = await store.createUser({ name: 'bob' });
    const key = generateApiKey();
    await store.insertApiKey(ada.id, { hash: key.hash, prefix: key.prefix });
    const revoked = await store.insertApiKey(bob.id, generateApiKey());
    await store.revokeApiKey(revoked.id);
    const contents = [
      'Ada wrote notes on the analytical engine',
      'Tea with Charles on Tuesday',
      'The engine could compute Bernoulli numbers',
      'Remember to buy a notebook',
      'Lovelace is a family name',
    ];
    const written = await store.insertMemories(
      ada.id,
      contents.map((content, i) => ({
        content,
        tags: i % 2 === 0 ? ['work', `t${i}`] : ['home'],
        metadata: { order: i, source: { kind: 'chat', nested: [1, 2.5, null] } },
        // Event times and expiries are columns of their own: the copy must carry them.
        ...(i % 2 === 0 ? { occurredAt: new Date(Date.UTC(1843, 8, i + 1, 12, 30)) } : {}),
        ...(i === 4 ? { expiresAt: new Date('2999-01-01T00:00:00Z') } : {}),
      })),
    );
    const ids = written.map((w) => w.memory.id);
    await store.insertMemories(bob.id, [{ content: 'Bob likes chess', tags: ['games'] }]);
    await store.updateMemory(ada.id, ids[1]!, { content: 'Tea with Charles on Wednesday' });
    await store.deleteMemory(ada.id, ids[3]!);

    for (const user of [ada.id, bob.id]) {
      const active = (await store.listMemories(user, { limit: 100 })).items;
      const embedded = await embedder.embed(active.map((m) => m.content));
      await vectors.upsert(
        active.map((m, i) => ({ id: m.id, userId: user, vector: embedded[i]!, tags: m.tags })),
      );
      await store.markIndexedMany(
        user,
        active.map((m) => ({ memoryId: m.id, revision: m.revision })),
      );
    }
    await graph.upsertMemoryGraph(ada.id, ids[0]!, {
      entities: [
        { name: 'Ada Lovelace', type: 'person' },
        { name: 'Analytical Engine', type: 'thing' },
      ],
      relations: [{ from: 'Ada Lovelace', to: 'Analytical Engine', type: 'wrote_about' }],
    });
    await graph.upsertMemoryGraph(ada.id, ids[2]!, {
      entities: [{ name: 'Analytical Engine', type: 'thing' }],
      relations: [],
    });
    await store.saveNarrative(ada.id, {
      content: 'Ada studies engines.',
      dataVersion: 3,
      model: 'test',
    });
    await store.putCachedPlan(ada.id, 'plan-key', { steps: ['vector'] }, 3_600_000);
    await store.recordSelfCheck({ workflowId: 'self-check-1', note: 'ok' });
    return await view(engine, [ada.id, bob.id], key.apiKey);
  } finally {
    await engine.close();
  }
}

/** Runs `npm run migrate-store`'s script to its end. */
async function migrateStore(env: Record<string, string>, args: string[] = []) {
  const file = path.join(ROOT, 'scripts', 'migrate-store.ts');
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', file, ...args],
      { cwd: ROOT, env: { ...process.env, STORE: 'postgres', ...env }, timeout: 120_000 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** Every file under `dir` with a hash of its bytes and its modification time. */
async function fingerprint(dir: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const stat = await fs.stat(file);
    const hash = createHash('sha1')
      .update(await fs.readFile(file))
      .digest('hex');
    result.set(path.relative(dir, file), `${hash} ${stat.mtimeMs}`);
  }
  return result;
}

/** Every row of every table as text (UTC times), sorted: equal only if the copy is exact. */
async function tableRows(driver: SqlDriver): Promise<Record<string, string[]>> {
  return driver.transaction(async (tx) => {
    await tx.query("SET LOCAL TimeZone = 'UTC'");
    const tables = await tx.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind = 'r' AND relname <> 'schema_migrations'`,
    );
    const rows: Record<string, string[]> = {};
    for (const { name } of tables) {
      const found = await tx.query<{ row: string }>(`SELECT x::text AS row FROM "${name}" x`);
      rows[name] = found.map((r) => r.row).sort();
    }
    return rows;
  });
}

before(async () => {
  dataDir = await createTempDir('migrate-store-');
  targetUrl = await createTestDatabase(serverUrl, databaseName);
  seen = await buildSource(dataDir.path);
});

after(async () => {
  await dropTestDatabase(serverUrl, databaseName);
  await dataDir.remove();
});

it('refuses to copy while a process has the PGlite store open', async () => {
  const engine = await openEngine({ STORE: 'pglite' }, dataDir.path);
  try {
    const run = await migrateStore({ DATA_DIR: dataDir.path, DATABASE_URL: targetUrl });
    assert.notEqual(run.code, 0, run.output);
    assert.match(run.output, /has the store at .* open: stop the product first/);
  } finally {
    await engine.close();
  }
});

it('copies every table into PostgreSQL, where the engine finds the same data', async () => {
  const pglite = path.join(dataDir.path, 'pglite');
  const before = await fingerprint(pglite);
  // Two rows a page, so every table, composite keys included, is read in several pages.
  const run = await migrateStore({ DATA_DIR: dataDir.path, DATABASE_URL: targetUrl }, [
    '--page-rows',
    '2',
  ]);
  assert.equal(run.code, 0, run.output);
  // Five memories left of six written, each with its vector: the summary shows the three counts.
  assert.match(run.output, /\nmemories\s+5\s+5\s+5\n/);
  assert.match(run.output, /\nvectors_local_hashing_384\s+5\s+5\s+5\n/);
  assert.deepEqual(await fingerprint(pglite), before, 'the PGlite directory was written to');

  const source = await createPgliteDriver(pglite);
  const target = await createPgDriver({
    url: targetUrl,
    poolSize: 2,
    statementTimeoutMs: 10_000,
    connectTimeoutMs: 3000,
  });
  try {
    const expected = await tableRows(source);
    assert.ok(Object.keys(expected).length >= 12, Object.keys(expected).join(', '));
    assert.deepEqual(await tableRows(target), expected);
  } finally {
    await source.close();
    await target.close();
  }

  const targetDir = await createTempDir('migrate-store-target-');
  const engine = await openEngine({ DATABASE_URL: targetUrl }, targetDir.path);
  try {
    assert.equal(engine.store.kind, 'postgres');
    assert.deepEqual(await view(engine, seen.userIds, seen.apiKey), seen);
    const owner = await engine.store.findUserByKeyHash(hashApiKey(seen.apiKey));
    assert.equal(owner?.userId, seen.userIds[0]);
    assert.equal(seen.memories[0]!.length, 4);
    assert.equal(seen.vectorHits.length, 4);
    // The view compared above carries event times and expiries; make sure it has some.
    assert.equal(seen.memories[0]!.filter((m) => m.occurredAt.getUTCFullYear() === 1843).length, 3);
    assert.equal(seen.memories[0]!.filter((m) => m.expiresAt !== null).length, 1);
  } finally {
    await engine.close();
    await targetDir.remove();
  }
});

it('refuses a second copy into a target that already holds users', async () => {
  const run = await migrateStore({ DATA_DIR: dataDir.path, DATABASE_URL: targetUrl });
  assert.notEqual(run.code, 0, run.output);
  assert.match(run.output, /already holds 2 user\(s\)/);
});

it('rolls back a copy whose counts differ, and advances identity sequences past the source', async () => {
  const name = `${databaseName}_seq`;
  const source = await createPgliteDriver('memory://');
  const target = await createPgDriver({
    url: await createTestDatabase(serverUrl, name),
    poolSize: 2,
    statementTimeoutMs: 10_000,
    connectTimeoutMs: 3000,
  });
  const notes =
    'CREATE TABLE extra_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)';
  const quiet = { log: () => {} };
  try {
    await migrate(source);
    await source.exec(notes);
    await source.query("INSERT INTO users (id, name) VALUES (gen_random_uuid(), 'u')");
    await source.query("INSERT INTO extra_notes (note) VALUES ('a'), ('b'), ('c')");
    await source.query("DELETE FROM extra_notes WHERE note = 'c'");
    await migrate(target);
    await target.exec(notes);
    // A trigger that drops one row stands in for a copy that loses rows.
    await target.exec(`
      CREATE FUNCTION skip_b() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.note = 'b' THEN RETURN NULL; END IF; RETURN NEW; END $$;
      CREATE TRIGGER skip_b BEFORE INSERT ON extra_notes FOR EACH ROW EXECUTE FUNCTION skip_b()`);

    const lossy = await copyStore(source, target, quiet);
    assert.equal(lossy.verified, false);
    assert.deepEqual(
      lossy.tables.find((t) => t.table === 'extra_notes'),
      { table: 'extra_notes', sourceRows: 2, copiedRows: 1, targetRows: 1 },
    );
    const users = await target.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    assert.equal(users[0]?.n, 0, 'a copy whose counts differ must leave the target empty');

    await target.exec('DROP TRIGGER skip_b ON extra_notes');
    assert.equal((await copyStore(source, target, quiet)).verified, true);
    // The source's sequence had handed out 3 (its row was deleted): the next id is 4.
    const [next] = await target.query<{ id: number }>(
      "INSERT INTO extra_notes (note) VALUES ('d') RETURNING id::int AS id",
    );
    assert.equal(next?.id, 4);
  } finally {
    await source.close();
    await target.close();
    await dropTestDatabase(serverUrl, name);
  }
});
