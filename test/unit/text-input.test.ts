import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { apiSchemas, jsonShape, METADATA_LIMITS } from '../../api/schemas.ts';
import { MAX_INPUT_DEPTH, parseInput, textIssues, textProblem } from '../../api/validation.ts';

const s = apiSchemas({ maxMemoryChars: 5000, maxTags: 10 });

/** The AppError `parseInput` throws for `value`, or a failed assertion when it accepts it. */
function refusal(schema: Parameters<typeof parseInput>[0], value: unknown, where = 'body') {
  try {
    parseInput(schema, value, where);
  } catch (error) {
    assert.ok(error instanceof AppError);
    return error;
  }
  assert.fail('expected the input to be refused');
}

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { k: value };
  return value;
};

describe('the text rule', () => {
  it('accepts ordinary text, emoji (surrogate pairs) and other scripts', () => {
    for (const text of ['hello', '', 'café ☕', 'I ❤️ 🐕 dogs', '日本語', '\ud83d\ude00']) {
      assert.equal(textProblem(text), null, text);
    }
  });

  it('names NUL characters and lone surrogates wherever they are in the string', () => {
    assert.match(textProblem('a\u0000b') ?? '', /NUL/);
    assert.match(textProblem('\u0000') ?? '', /NUL/);
    for (const lone of ['\ud800', 'x\ud83d', '\ude00y', 'a\udc00\ud800b', '\ud83d\ud83d']) {
      assert.match(textProblem(lone) ?? '', /lone UTF-16 surrogate/, JSON.stringify(lone));
    }
  });

  it('finds bad strings at any depth, in arrays, and in object keys, with their paths', () => {
    const issues = textIssues({
      content: 'fine',
      tags: ['ok', 'bad\u0000'],
      metadata: { deep: { list: [1, '\ud800'] }, ['key\u0000']: 'value' },
    });
    const where = (path: PropertyKey[]) => issues.find((i) => i.path.join('.') === path.join('.'));
    assert.equal(issues.length, 3);
    assert.match(where(['tags', 1])?.message ?? '', /NUL/);
    assert.match(where(['metadata', 'deep', 'list', 1])?.message ?? '', /lone UTF-16 surrogate/);
    assert.match(where(['metadata'])?.message ?? '', /has a key that contains a NUL/);
  });

  it('refuses values nested deeper than the bound, without recursing into them', () => {
    assert.deepEqual(textIssues(nested(MAX_INPUT_DEPTH)), []);
    const [issue] = textIssues(nested(100_000));
    assert.equal(issue?.path.length, MAX_INPUT_DEPTH);
    assert.match(issue?.message ?? '', /at most 32 levels/);
  });

  it('makes parseInput refuse before the schema reads the value, naming the field', () => {
    const error = refusal(s.searchBody, { query: 'where is my dog', tags: ['\u0000'] });
    assert.equal(error.status, 400);
    assert.match(error.message, /^body\.tags\.0: contains a NUL character/);
    assert.deepEqual(error.details?.issues, [
      { path: ['body', 'tags', 0], message: 'contains a NUL character (U+0000)' },
    ]);
  });

  it('applies to query strings and MCP arguments alike', () => {
    const query = refusal(s.listQuery, { tag: 'x\ud800' }, 'query');
    assert.match(query.message, /^query\.tag: contains a lone UTF-16 surrogate/);
    let tool: AppError | undefined;
    try {
      parseInput(s.newMemory, { content: 'ok', metadata: { a: ['\u0000'] } }, 'arguments', String);
    } catch (error) {
      tool = error as AppError;
    }
    assert.deepEqual(tool?.details?.issues, [
      { path: ['arguments', 'metadata', 'a', '0'], message: 'contains a NUL character (U+0000)' },
    ]);
  });

  it('leaves valid input to the schema, whose errors keep their form', () => {
    const parsed = parseInput(s.searchBody, { query: '  dogs  ', tags: ['pets'] }, 'body');
    assert.deepEqual(parsed, { query: 'dogs', limit: 10, tags: ['pets'] });
    assert.match(
      refusal(s.searchBody, { query: '' }).message,
      /^body\.query: expected a non-empty/,
    );
  });
});

describe('metadata bounds', () => {
  it('measures depth and keys over every level', () => {
    assert.deepEqual(jsonShape('x'), { depth: 0, keys: 0 });
    assert.deepEqual(jsonShape({}), { depth: 1, keys: 0 });
    assert.deepEqual(jsonShape({ a: [1, { b: 2, c: [] }] }), { depth: 4, keys: 3 });
  });

  it(`accepts ${METADATA_LIMITS.maxDepth} levels and ${METADATA_LIMITS.maxKeys} keys, and refuses more`, () => {
    const keys = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    const deep = (levels: number) => nested(levels) as Record<string, unknown>;
    const ok = (metadata: unknown) => parseInput(s.newMemory, { content: 'c', metadata }, 'body');
    ok(deep(METADATA_LIMITS.maxDepth));
    ok(keys(METADATA_LIMITS.maxKeys));
    const tooDeep = refusal(s.newMemory, { content: 'c', metadata: deep(6) });
    assert.match(tooDeep.message, /^body\.metadata: expected metadata nested at most 5 levels/);
    const tooWide = refusal(s.newMemory, { content: 'c', metadata: keys(65) });
    assert.match(tooWide.message, /^body\.metadata: expected metadata with at most 64 keys/);
  });
});

describe('listing dates', () => {
  it('refuses dates PostgreSQL cannot store, as a 400 naming the field', () => {
    for (const from of ['0000-06-01T00:00:00Z', '0001-01-01T00:00:00+01:00']) {
      assert.match(
        refusal(s.listQuery, { from }, 'query').message,
        /^query\.from: expected a date/,
      );
    }
    assert.equal(
      parseInput(s.listQuery, { to: '0001-01-01T00:00:00Z' }, 'query').to,
      '0001-01-01T00:00:00Z',
    );
  });
});
