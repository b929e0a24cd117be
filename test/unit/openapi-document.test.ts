import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiDocument } from '../../api/docs.routes.ts';
import { createV1 } from '../../api/v1.ts';

// The routes as the API mounts them; their handlers are never called here, so the
// services they would call are left out.
const v1 = createV1({
  engine: {} as never,
  store: {} as never,
  limits: { maxMemoryChars: 5000, maxTags: 10 },
  adminApiKey: 'admin-key-for-the-document',
  loadTests: { service: {} as never, selfUrl: () => null },
});
const doc = openApiDocument(v1.routes, { title: 'memory-engine', version: '0.1.0' });

type Json = Record<string, unknown>;

/** Every `$ref` in `value`, with the JSON path it was found at. */
function refs(value: unknown, at = '#'): { at: string; ref: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => refs(item, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === '$ref' && typeof item === 'string' ? [{ at, ref: item }] : refs(item, `${at}/${key}`),
  );
}

/** What a local reference (`#/a/b`) points at in the document, or undefined. */
function resolve(ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `${ref} is not a local reference`);
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node as Json | undefined)?.[part], doc);
}

const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ path, method, op: op as Json })),
);
const operation = (method: string, path: string) =>
  operations.find((o) => o.method === method && o.path === path)!.op;
const statuses = (method: string, path: string) =>
  Object.keys(operation(method, path).responses as Json);

describe('the OpenAPI document', () => {
  it('resolves every $ref it holds, the metadata of saves and edits included', () => {
    const found = refs(doc);
    assert.ok(found.length > 0);
    for (const { at, ref } of found) assert.notEqual(resolve(ref), undefined, `${ref} at ${at}`);
    const save = JSON.stringify(operation('post', '/v1/memories').requestBody);
    const edit = JSON.stringify(operation('patch', '/v1/memories/{id}').requestBody);
    assert.doesNotMatch(save + edit, /\$defs/);
    assert.match(save, /#\/components\/schemas\//);
  });

  it('gives every operation a unique id', () => {
    const ids = operations.map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0));
  });

  it('lists the error statuses each route can answer with', () => {
    for (const { path, method, op } of operations) {
      const listed = Object.keys(op.responses as Json);
      if (path.startsWith('/v1/')) {
        for (const status of ['401', '429', '503']) {
          assert.ok(listed.includes(status), `${method} ${path} lists ${status}`);
        }
      }
      if (op.requestBody) {
        for (const status of ['400', '413', '415']) {
          assert.ok(listed.includes(status), `${method} ${path} lists ${status}`);
        }
      }
    }
    assert.ok(statuses('get', '/v1/memories/{id}').includes('404'));
    assert.ok(statuses('patch', '/v1/memories/{id}').includes('409'));
    assert.ok(statuses('get', '/v1/narrative').includes('404'));
    assert.ok(statuses('post', '/v1/admin/users').includes('403'));
    assert.ok(!statuses('post', '/v1/search').includes('404'));
  });

  it('links a saved memory to reading, editing and deleting it by its id', () => {
    const created = (operation('post', '/v1/memories').responses as Json)['201'] as {
      links: Record<string, { operationId: string; parameters: Record<string, string> }>;
    };
    const targets = Object.values(created.links).map((link) => link.operationId);
    for (const method of ['get', 'patch', 'delete']) {
      assert.ok(targets.includes(operation(method, '/v1/memories/{id}').operationId as string));
    }
    for (const link of Object.values(created.links)) {
      assert.deepEqual(link.parameters, { id: '$response.body#/id' });
    }
  });

  it('documents the degraded retrievers of a search', () => {
    const ok = (operation('post', '/v1/search').responses as Json)['200'];
    assert.match(JSON.stringify(ok), /"degraded"/);
  });
});
