import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { exitOf } from '../support/child-process.ts';
import { runMemoryEngine } from '../support/memory-engine-cli.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import {
  ADMIN_KEY,
  call,
  createUser,
  eventually,
  startTestApi,
  type TestApi,
} from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';
import { startWorkerProcess, workerProcessEnv } from '../support/worker-process.ts';

type Body = string | Uint8Array | ReadableStream<Uint8Array>;

/** `POST /v1/import` with an NDJSON body (or `type`); the status and parsed answer. */
async function importBody(
  url: string,
  key: string,
  body: Body,
  options: { query?: string; type?: string } = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/import${options.query ?? ''}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': options.type ?? 'application/x-ndjson',
    },
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** An export as text (`path` is `/v1/export` or the admin route), with its status and type. */
async function exportText(url: string, key: string, path = '/v1/export') {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const linesOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

async function waitIndexingDone(url: string, key: string, importId: string): Promise<any> {
  let status: any;
  await eventually(`import ${importId} indexed`, async () => {
    status = (await call(url, 'GET', `/v1/imports/${importId}`, { key })).body;
    return status.indexing.state === 'done';
  });
  return status;
}

async function listAll(url: string, key: string): Promise<any[]> {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await call(
      url,
      'GET',
      `/v1/memories?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      { key },
    );
    all.push(...page.body.items);
    cursor = page.body.next_cursor;
  } while (cursor);
  return all;
}

const WORDS = 'amber basil cedar dune ember fjord garnet harbor indigo juniper kelp lagoon'.split(
  ' ',
);
const note = (i: number) =>
  `Imported note ${i}: ${WORDS[i % 12]} ${WORDS[(i * 5 + 1) % 12]} ${WORDS[(i * 7 + 3) % 12]} ${i * 31}`;

/**
 * The real API over PostgreSQL 18 with its workers in a process of their own
 * (so that a test can kill them), embedding with a real sentence model: its
 * similarities have no ties, so two users' searches can be compared.
 */
describe('export and import of a user’s memories', () => {
  let engine: TestEngine;
  let api: TestApi;
  let dataDir: TempDir;
  let worker: ChildProcess;
  const taskQueue = `test-import-${randomUUID()}`;

  before(async () => {
    engine = await createTestEngine('postgres', { EMBEDDER: 'e5' });
    dataDir = await createTempDir('import-worker-');
    const workerEnv = workerProcessEnv(taskQueue, dataDir.path, { EMBEDDER: 'e5' });
    // Started together (the engine has migrated and registered the model's space already).
    [api, worker] = await Promise.all([
      // Small batches, so a file of a few hundred lines commits in several transactions.
      startTestApi(engine, {
        worker: false,
        taskQueue,
        importSettings: {
          batch: { lines: 40, bytes: 1 << 20, waitMs: 1000 },
          maxLineBytes: 16_384,
        },
      }),
      startWorkerProcess(workerEnv),
    ]);
  });
  after(async () => {
    worker?.kill('SIGTERM');
    if (worker) await exitOf(worker);
    await api?.stop();
    await engine?.close();
    await dataDir?.remove();
  });

  it('imports in batches, refusing each bad line by number, and re-running the file changes nothing', async () => {
    const user = await createUser(api.url);
    const good = Array.from({ length: 150 }, (_, i) =>
      JSON.stringify({
        content: note(i),
        tags: [`t${i % 3}`],
        metadata: { n: i },
        occurred_at: `2020-01-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
        ...(i % 10 === 0 ? { external_id: `ext-${i}` } : {}),
      }),
    );
    const bad: [string, RegExp][] = [
      ['{"content":"a\\u0000b"}', /content: contains a NUL character/],
      ['{"content":"a raw \u0000 byte"}', /^contains a NUL character/],
      ['{"content":"lone \\ud800 half"}', /content: contains a lone UTF-16 surrogate/],
      [`{"content":"${'x'.repeat(20_000)}"}`, /longer than 16384 bytes/],
      [
        '{"content":"deep","metadata":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}}',
        /metadata: expected metadata nested at most 5 levels/,
      ],
      ['{"content": "unterminated', /not valid JSON/],
      ['[1,2,3]', /expected a JSON object/],
      ['{"content":"fine","colour":"blue"}', /colour/],
      ['{"content":"   "}', /content: expected non-empty content/],
      ['{"content":"gone","expires_at":"2001-01-01T00:00:00Z"}', /expected a time in the future/],
      [
        '{"content":"both","expires_at":"2999-01-01T00:00:00Z","ttl_s":5}',
        /ttl_s: expected either/,
      ],
      [`${'['.repeat(5000)}${']'.repeat(5000)}`, /expected a JSON object/],
      [
        `{"content":"nested","metadata":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
        /at most 32 levels/,
      ],
    ];
    const lines = [
      '{"type":"narrative","content":"An old portrait","version":3}',
      ...good.slice(0, 75),
      '',
      ...bad.map(([line]) => line),
      ...good.slice(75),
      // Repeats: a known external id with new content, and a known content in other spacing.
      JSON.stringify({ content: 'Different words entirely', external_id: 'ext-0' }),
      JSON.stringify({ content: `  ${note(1).toUpperCase()}  ` }),
    ];
    const invalidUtf8 = Buffer.concat([
      Buffer.from(`${lines.join('\n')}\n`),
      Buffer.from([0x7b, 0x22, 0x63, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
    ]);
    const first = await importBody(api.url, user.api_key, new Uint8Array(invalidUtf8));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const r = first.body;
    assert.deepEqual(
      [r.state, r.read, r.created, r.duplicates, r.refused, r.ignored],
      ['received', 167, 150, 2, 14, 1],
    );
    // Line numbers count every line of the file: the narrative is 1, the blank line 77.
    const refusedAt = r.errors.map((e: { line: number }) => e.line);
    assert.deepEqual(refusedAt, [...bad.map((_, i) => 78 + i), lines.length + 1]);
    bad.forEach(([, why], i) => assert.match(r.errors[i].message, why, `line ${78 + i}`));
    assert.match(r.errors.at(-1).message, /not valid UTF-8/);

    const done = await waitIndexingDone(api.url, user.api_key, r.import_id);
    assert.deepEqual([done.indexing.indexed, done.indexing.failed], [150, 0]);
    assert.match(done.indexing.workflow_id, /^import-/);
    const stored = await listAll(api.url, user.api_key);
    assert.equal(stored.length, 150);
    assert.ok(stored.every((m) => m.index_state === 'indexed'));
    assert.equal(
      stored.find((m) => m.content === note(7))?.occurred_at,
      '2020-01-08T10:00:00.000Z',
    );

    const before = await engine.store.getUser(user.user_id);
    const again = await importBody(api.url, user.api_key, new Uint8Array(invalidUtf8));
    assert.deepEqual([again.body.created, again.body.duplicates, again.body.refused], [0, 152, 14]);
    assert.equal(again.body.indexing.state, 'done');
    assert.equal(again.body.indexing.workflow_id, null);
    assert.equal((await engine.store.getUser(user.user_id))?.dataVersion, before?.dataVersion);
    assert.equal((await listAll(api.url, user.api_key)).length, 150);

    const stranger = await createUser(api.url);
    const peek = await call(api.url, 'GET', `/v1/imports/${r.import_id}`, {
      key: stranger.api_key,
    });
    assert.equal(peek.status, 404);
  });

  it('exports every field and, imported into a fresh user, gives the same memories, times and search results', async () => {
    const a = await createUser(api.url);
    const saved = await call(api.url, 'POST', '/v1/memories', {
      key: a.api_key,
      body: {
        memories: [
          {
            content: 'My sister Maya lives in Lisbon',
            tags: ['family'],
            metadata: { k: [1, 'x'] },
          },
          { content: 'I ran my first marathon in Porto', occurred_at: '2019-11-03T08:30:00+01:00' },
          { content: 'The spare key is under the blue pot', ttl_s: 86_400 },
          { content: 'I used to like jazz before I found ambient', tags: ['music'] },
        ],
      },
    });
    assert.equal(saved.status, 201);
    await call(api.url, 'PATCH', `/v1/memories/${saved.body.ids[3]}`, {
      key: a.api_key,
      body: { state: 'archived' },
    });
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ content: note(i), tags: ['bulk'], external_id: `src-${i}` }),
    );
    const imported = await importBody(api.url, a.api_key, `${lines.join('\n')}\n`);
    await waitIndexingDone(api.url, a.api_key, imported.body.import_id);
    // The saved memories are indexed by their shard's run, not the import's: the searches
    // compared below must not race their graph writes.
    await eventually('the saved memories indexed', async () => {
      for (const id of saved.body.ids.slice(0, 3)) {
        const got = await call(api.url, 'GET', `/v1/memories/${id}`, { key: a.api_key });
        if (got.body.index_state !== 'indexed') return false;
      }
      return true;
    });

    const mine = await exportText(api.url, a.api_key);
    assert.equal(mine.status, 200);
    assert.match(mine.type ?? '', /application\/x-ndjson/);
    const exported = linesOf(mine.text);
    assert.equal(exported.length, 64);
    const maya = exported.find((m) => m.content === 'My sister Maya lives in Lisbon');
    assert.deepEqual(Object.keys(maya), [
      'type',
      'id',
      'external_id',
      'content',
      'tags',
      'metadata',
      'state',
      'index_state',
      'revision',
      'created_at',
      'updated_at',
      'occurred_at',
      'expires_at',
    ]);
    assert.match(maya.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(exported.find((m) => m.external_id === 'src-5')?.content, note(5));
    const admin = await exportText(api.url, ADMIN_KEY, `/v1/admin/users/${a.user_id}/export`);
    assert.equal(admin.text, mine.text);

    const b = await createUser(api.url);
    const copied = await importBody(api.url, b.api_key, mine.text);
    assert.deepEqual([copied.body.created, copied.body.refused], [64, 0]);
    await waitIndexingDone(api.url, b.api_key, copied.body.import_id);
    // A new memory gets its own id, revision and index state; every other field is kept.
    const kept = (m: any) =>
      Object.fromEntries(
        Object.entries(m).filter(([k]) => !['id', 'index_state', 'revision'].includes(k)),
      );
    const theirs = linesOf((await exportText(api.url, b.api_key)).text);
    assert.deepEqual(theirs.map(kept), exported.map(kept));
    // The best match is the same memory, found the same ways, and so is every result found by
    // its words or entities. Results found by meaning alone may trade places with neighbours of
    // nearly equal similarity: the model's numbers vary in the last bits with the batch a text
    // was embedded in, and ties go by id, which differs between the users.
    const view = (x: any) => [x.content, x.occurred_at, x.tags, x.sources];
    for (const query of [
      'where does Maya live',
      'my first marathon',
      'spare key',
      'the blue pot',
    ]) {
      const [mine, theirs] = await Promise.all(
        [a, b].map(async (u) => {
          const res = await call(api.url, 'POST', '/v1/search', {
            key: u.api_key,
            body: { query, limit: 8 },
          });
          return res.body.results as any[];
        }),
      );
      assert.deepEqual(view(theirs![0]), view(mine![0]), `best match for ${query}`);
      const byWords = (r: any[]) =>
        r
          .filter((x) => x.sources.some((s: string) => s !== 'vector'))
          .map((x) => JSON.stringify(view(x)))
          .sort();
      assert.deepEqual(byWords(theirs!), byWords(mine!), `found by words: ${query}`);
    }
  });

  it('refuses a whole all-or-nothing file for one bad line, storing nothing, and stores a clean one whole', async () => {
    const user = await createUser(api.url);
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ content: note(i) }));
    const broken = [...lines.slice(0, 89), '{"content": 42}', ...lines.slice(89)];
    const refused = await importBody(api.url, user.api_key, broken.join('\n'), {
      query: '?all_or_nothing=true',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'bad_request');
    assert.match(
      refused.body.error.message,
      /nothing stored: 1 bad line\(s\); line 90: content: expected a string/,
    );
    assert.deepEqual(refused.body.error.details.errors, [
      { line: 90, message: 'content: expected a string' },
    ]);
    assert.equal((await listAll(api.url, user.api_key)).length, 0);
    const record = await call(
      api.url,
      'GET',
      `/v1/imports/${refused.body.error.details.import_id}`,
      {
        key: user.api_key,
      },
    );
    assert.deepEqual([record.body.state, record.body.created], ['refused', 0]);

    const whole = await importBody(api.url, user.api_key, lines.join('\n'), {
      query: '?all_or_nothing=true',
    });
    assert.deepEqual([whole.status, whole.body.state, whole.body.created], [200, 'received', 100]);
    await waitIndexingDone(api.url, user.api_key, whole.body.import_id);
    assert.equal((await listAll(api.url, user.api_key)).length, 100);
  });

  it('takes the body as a stream, one import per user at a time, and refuses other media types', async () => {
    const user = await createUser(api.url);
    let push!: (line: string | null) => void;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (line) =>
          line === null ? controller.close() : controller.enqueue(new TextEncoder().encode(line));
      },
    });
    const slow = importBody(api.url, user.api_key, stream);
    push(`${JSON.stringify({ content: 'first of a slow upload' })}\n`);
    await eventually('the first line acknowledged', async () => {
      const listed = await listAll(api.url, user.api_key);
      return listed.length === 1;
    });
    const second = await importBody(api.url, user.api_key, '{"content":"meanwhile"}\n');
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'conflict');
    push(`${JSON.stringify({ content: 'second of a slow upload' })}`);
    push(null);
    const done = await slow;
    assert.deepEqual([done.status, done.body.created], [200, 2]);

    const json = await importBody(api.url, user.api_key, '{"content":"x"}', {
      type: 'application/json',
    });
    assert.equal(json.status, 415);
    const badFlag = await importBody(api.url, user.api_key, '{"content":"x"}', {
      query: '?all_or_nothing=yes',
    });
    assert.equal(badFlag.status, 400);
    assert.match(badFlag.body.error.message, /query.all_or_nothing: expected true or false/);
    const unknown = await exportText(
      api.url,
      ADMIN_KEY,
      `/v1/admin/users/${crypto.randomUUID()}/export`,
    );
    assert.equal(unknown.status, 404);
    const notAdmin = await exportText(
      api.url,
      user.api_key,
      `/v1/admin/users/${user.user_id}/export`,
    );
    assert.equal(notAdmin.status, 401);

    // An expired memory is gone: its content and external id import as a new memory.
    const soon = '{"content":"Gone soon","external_id":"soon","ttl_s":1}';
    assert.equal((await importBody(api.url, user.api_key, soon)).body.created, 1);
    await new Promise((r) => setTimeout(r, 1100));
    const back = await importBody(
      api.url,
      user.api_key,
      '{"content":"gone  SOON","external_id":"soon"}',
    );
    assert.deepEqual([back.body.created, back.body.duplicates], [1, 0]);
  });

  it('exports to a file and imports it on the command line, with progress and a summary', async () => {
    const from = await createUser(api.url);
    const to = await createUser(api.url);
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ content: note(i) }));
    await importBody(api.url, from.api_key, lines.join('\n'));
    const file = path.join(dataDir.path, 'exported.ndjson');
    const env = { MEMORY_ENGINE_URL: api.url, MEMORY_ENGINE_API_KEY: from.api_key };
    const exported = await runMemoryEngine(['export', '--out', file], env);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /exported 30 lines to .*exported\.ndjson/);
    assert.match(exported.stderr, /exported 30 lines \(/);
    assert.equal((await fs.readFile(file, 'utf8')).trim().split('\n').length, 30);

    const imported = await runMemoryEngine(['import', file, '--wait'], {
      ...env,
      MEMORY_ENGINE_API_KEY: to.api_key,
    });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /read 30: 30 created, 0 duplicates, 0 refused/);
    assert.match(imported.stdout, /indexing: +done: 30 of 30 indexed/);
    assert.match(imported.stderr, /importing \[#+\] 100%/);
  });

  it('finishes an import whose worker was killed while indexing, with nothing twice, and a re-run creates nothing', async () => {
    const user = await createUser(api.url);
    const lines = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({ content: `Crash-safe ${note(i)}`, external_id: `crash-${i}` }),
    );
    const file = `${lines.join('\n')}\n`;
    const first = await importBody(api.url, user.api_key, file);
    assert.deepEqual([first.status, first.body.created], [200, 400]);
    const id = first.body.import_id;
    let seen: any;
    await eventually('the first page indexed', async () => {
      seen = (await call(api.url, 'GET', `/v1/imports/${id}`, { key: user.api_key })).body;
      return seen.indexing.indexed > 0;
    });
    worker.kill('SIGKILL');
    await exitOf(worker);
    assert.ok(seen.indexing.indexed < 400, `killed mid-way (${seen.indexing.indexed} indexed)`);

    // The run's next task would wait 10 s for the dead worker's sticky queue before any other
    // worker may take it, as a worker that shut down clears it: the wait only slows the test.
    await api.client.workflowService.resetStickyTaskQueue({
      namespace: 'default',
      execution: { workflowId: first.body.indexing.workflow_id },
    });
    // Another worker takes over (this process's own: it starts faster than a new process).
    await api.startWorker();
    const done = await waitIndexingDone(api.url, user.api_key, id);
    assert.deepEqual([done.indexing.indexed, done.indexing.failed], [400, 0]);
    const db = new pg.Client({ connectionString: requireTestEnv('TEST_PGVECTOR_URL') });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS ids,
           count(*) FILTER (WHERE index_state = 'indexed' AND index_count = 1)::int AS once
         FROM memories WHERE user_id = $1`,
        [user.user_id],
      );
      assert.deepEqual(rows[0], { n: 400, ids: 400, once: 400 });
    } finally {
      await db.end();
    }
    assert.equal(await engine.vectors.count(user.user_id), 400);

    const again = await importBody(api.url, user.api_key, file);
    assert.deepEqual([again.body.created, again.body.duplicates], [0, 400]);
    assert.equal((await listAll(api.url, user.api_key)).length, 400);
  });
});
