import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  MemoryEngineClient,
  MemoryEngineError,
  type ExportLine,
  type Memory,
} from '../../client/src/index.ts';
import { ADMIN_KEY, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/** `GET /v1/memories/{id}`-style templates of what the client sent, as `GET /v1/memories/:id`. */
type Sent = { method: string; path: string };

/** Whether a sent path matches an OpenAPI path template (`/v1/memories/{id}`). */
const matches = (template: string, path: string) =>
  new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path);

async function rejection(work: Promise<unknown>): Promise<MemoryEngineError> {
  try {
    await work;
  } catch (error) {
    assert.ok(
      error instanceof MemoryEngineError,
      `expected a MemoryEngineError, got ${String(error)}`,
    );
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('the typed client against the real API: every route', () => {
  let engine: TestEngine;
  let api: TestApi;
  let admin: MemoryEngineClient;
  const sent: Sent[] = [];
  const loadTestsQueue = `test-client-loadtests-${randomUUID()}`;

  /** Records every request the clients send, so the last test can check each route was called. */
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    sent.push({ method: init?.method ?? 'GET', path: url.pathname });
    return fetch(input, init);
  };

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { narratives: true, loadTestsQueue });
    admin = new MemoryEngineClient({ baseUrl: api.url, adminKey: ADMIN_KEY, fetch: recording });
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('serves health, readiness and the OpenAPI document with no key', async () => {
    assert.equal((await admin.health()).status, 'ok');
    assert.equal((await admin.ready()).status, 'ready');
    const doc = await admin.openApi();
    assert.equal(doc.openapi, '3.1.0');
  });

  it('creates a user, issues and revokes keys; a revoked key is refused at once', async () => {
    const created = await admin.admin.createUser({ name: 'Ada' });
    assert.match(created.api_key, /\S{20,}/);
    const issued = await admin.admin.issueKey(created.user_id);
    assert.equal(issued.user_id, created.user_id);
    assert.notEqual(issued.api_key, created.api_key);
    const second = admin.withApiKey(issued.api_key);
    assert.deepEqual((await second.memories.list()).items, []);
    await admin.admin.revokeKey(issued.key_id);
    const refused = await rejection(second.memories.list());
    assert.equal(refused.code, 'unauthorized');
    assert.equal(refused.status, 401);
  });

  it('saves, reads, lists page by page, edits, searches, answers context and deletes', async () => {
    const user = admin.withApiKey((await admin.admin.createUser()).api_key);
    const one = await user.memories.save({
      content: 'My sister Maya lives in Lisbon and teaches piano',
      tags: ['family'],
      metadata: { source: 'test', nested: { ok: true } },
    });
    assert.equal(one.created, true);
    const again = await user.memories.save({
      content: 'my sister maya lives in lisbon and teaches piano',
    });
    assert.deepEqual([again.id, again.created], [one.id, false]);
    const many = await user.memories.saveMany([
      { content: 'I am allergic to peanuts', tags: ['health'] },
      { content: 'I run 5 km every Saturday morning' },
      { content: 'My favourite tea is a smoky lapsang souchong' },
    ]);
    assert.deepEqual(many.created, [true, true, true]);

    const ids = [one.id, ...many.ids];
    await eventually('memories indexed', async () => {
      const states = await Promise.all(
        ids.map(async (id) => (await user.memories.get(id)).index_state),
      );
      return states.every((s) => s === 'indexed');
    });
    const read: Memory = await user.memories.get(one.id);
    assert.deepEqual(read.metadata, { source: 'test', nested: { ok: true } });

    const page = await user.memories.list({ limit: 2 });
    assert.equal(page.items.length, 2);
    assert.ok(page.next_cursor);
    const all: string[] = [];
    for await (const memory of user.memories.all({ limit: 2 })) all.push(memory.id);
    assert.deepEqual([...all].sort(), [...ids].sort());
    assert.deepEqual(
      (await user.memories.list({ tag: 'health' })).items.map((m) => m.id),
      [many.ids[0]],
    );

    const edited = await user.memories.update(many.ids[2]!, { tags: ['tea'], state: 'active' });
    assert.deepEqual(edited.tags, ['tea']);

    const found = await user.search({ query: 'Where does Maya live?', limit: 3 });
    assert.equal(found.results[0]?.id, one.id);
    const context = await user.context({ message: 'What should I know about my sister Maya?' });
    assert.ok(
      context.memories.some((m) => m.id === one.id),
      context.context,
    );
    assert.match(context.context, /Lisbon/);

    await user.memories.delete(many.ids[1]!);
    const gone = await rejection(user.memories.get(many.ids[1]!));
    assert.equal(gone.code, 'not_found');
    assert.equal(gone.status, 404);
  });

  it('reads the narrative once one is written (404 before)', async () => {
    const user = admin.withApiKey((await admin.admin.createUser()).api_key);
    const none = await rejection(user.narrative());
    assert.equal(none.code, 'not_found');
    await user.memories.saveMany([
      { content: 'I work as a marine biologist in Galway' },
      { content: 'I have two cats called Pixel and Byte' },
    ]);
    await user.context({ message: 'hello again', is_new_conversation: true });
    let content = '';
    await eventually('a narrative written', async () => {
      content = await user.narrative().then(
        (n) => n.content,
        () => '',
      );
      return content !== '';
    });
    assert.match(content, /\w/);
  });

  it('requeues failed memories and starts and reads a load test (admin)', async () => {
    const user = await admin.admin.createUser();
    assert.deepEqual(await admin.admin.reindex({ user_id: user.user_id }), { requeued: 0 });
    const unknown = await rejection(admin.admin.reindex({ user_id: randomUUID() }));
    assert.equal(unknown.code, 'not_found');

    // No worker polls this queue: the run is ended before it is read, so that reading it makes
    // no query that would wait for a worker past the end of the suite.
    const run = await admin.admin.startLoadTest({ sessions: 1, duration_s: 1, users: 1 });
    assert.match(run.workflow_id, /^loadtest-/);
    await api.client.workflow.getHandle(run.workflow_id).terminate('read by the client test');
    const status = await admin.admin.loadTest(run.workflow_id);
    assert.deepEqual([status.workflow_id, status.status], [run.workflow_id, 'TERMINATED']);
    assert.equal(typeof status.failure, 'string');
    const missing = await rejection(admin.admin.loadTest('loadtest-none'));
    assert.equal(missing.code, 'not_found');
  });

  it('exports and imports memories as streams, and reads an import and an admin export', async () => {
    const created = await admin.admin.createUser();
    const user = admin.withApiKey(created.api_key);
    await user.memories.save({ content: 'Exported by the typed client', tags: ['export'] });
    const lines: ExportLine[] = [];
    for await (const line of user.exportMemories({ narrative: true })) lines.push(line);
    assert.deepEqual(
      lines.map((l) => [l.type, l.content]),
      [['memory', 'Exported by the typed client']],
    );
    const asAdmin: ExportLine[] = [];
    for await (const line of admin.admin.exportUser(created.user_id)) asAdmin.push(line);
    assert.deepEqual(asAdmin, lines);

    const copy = admin.withApiKey((await admin.admin.createUser()).api_key);
    async function* chunks() {
      for (const line of lines) yield new TextEncoder().encode(`${JSON.stringify(line)}\n`);
    }
    const result = await copy.importMemories(chunks());
    assert.deepEqual([result.created, result.refused], [1, 0]);
    const read = await copy.imports.get(result.import_id);
    assert.equal(read.import_id, result.import_id);
    const again = await copy.importMemories(lines.map((l) => JSON.stringify(l)).join('\n'), {
      allOrNothing: true,
    });
    assert.deepEqual([again.created, again.duplicates], [0, 1]);
  });

  it("remembers a conversation and reads a memory's earlier revisions", async () => {
    const user = admin.withApiKey((await admin.admin.createUser()).api_key);
    const messages = [
      { role: 'user' as const, content: 'Remember that my sister Lena lives in Porto.' },
      { role: 'assistant' as const, content: 'Noted.' },
    ];
    const result = await user.rememberConversation({ messages });
    assert.equal(result.extraction.source, 'local');
    assert.equal(result.created.length, 1, JSON.stringify(result));
    const again = await user.rememberConversation({ messages });
    assert.deepEqual([again.created.length, again.skipped.map((s) => s.reason)], [0, ['repeat']]);
    const revisions = await user.memories.revisions(result.created[0]!.id);
    assert.deepEqual(revisions.items, []);
  });

  it('has called every operation of /openapi.json', async () => {
    const doc = (await admin.openApi()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([template, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), template })),
    );
    assert.ok(operations.length >= 14, `only ${operations.length} operations documented`);
    const uncalled = operations.filter(
      (op) => !sent.some((s) => s.method === op.method && matches(op.template, s.path)),
    );
    assert.deepEqual(uncalled, [], 'operations the client tests never called');
  });
});
