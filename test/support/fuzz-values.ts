import fc from 'fast-check';

/** A JSON Schema node as `/openapi.json` and MCP `tools/list` publish them. */
export type JsonSchema = Record<string, unknown>;

/** Characters that break naive text handling: NUL, lone surrogates, bidi controls, separators. */
const NASTY_CHARS = [
  '\u0000',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\u200F',
  '\u202E',
  '\u2066',
  '\u200B',
  '\uFEFF',
  '\uFFFE',
  '\uFFFF',
  '\u0085',
  '\u2028',
  '\r\n',
  '\\',
  '"',
  '%',
  '%00',
  '%ZZ',
  '\u{1F600}',
  '\u0301',
  '\u{10FFFF}',
  'İ',
  "'; DROP TABLE memories; --",
  '<script>',
  '__proto__',
];

/** Any code point of Unicode, lone surrogates (which `String.fromCodePoint` allows) included. */
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp));

const hostileChar = fc.oneof(
  { weight: 4, arbitrary: anyCodePoint },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_CHARS) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
);

/** Strings from all of Unicode, with the nasty ones often and 100k-character runs now and then. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.array(hostileChar, { maxLength: 40 }).map((a) => a.join('')) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('', ' ', '\t\n ', 'null', '-1', '1e309', 'NaN', '{}', 'constructor'),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(hostileChar, fc.constantFrom(5_001, 8_001, 100_000))
      .map(([c, n]) => c.repeat(n)),
  },
);

/** Objects and arrays nested `depth` deep, with a value at the bottom. */
export const nested = (depth: number, bottom: unknown = 'x'): unknown => {
  let value: unknown = bottom;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

/** A value of the wrong kind or size for nearly any field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      -0,
      1e308,
      Number.MAX_SAFE_INTEGER + 2,
      [],
      {},
      [null],
      { '': '' },
    ),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(50, 1500).map((d) => nested(d)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(200, 5000).map((n) => Array.from({ length: n }, (_, i) => `t${i}`)),
  },
);

/** Walks a `$ref` such as `#/components/schemas/Error` inside `root`; undefined when it dangles. */
export function resolveRef(root: unknown, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'object' && node !== null ? (node as JsonSchema) : undefined;
}

/** Generates values from JSON Schemas, recording every `$ref` that leads nowhere. */
export class SchemaValues {
  readonly dangling = new Set<string>();

  /** `root` is the document `$ref`s are resolved in (the OpenAPI document, or the schema itself). */
  constructor(private readonly root: unknown) {}

  /**
   * Values that mostly satisfy `schema` (bounds are kept small so requests stay
   * cheap). A `$ref` is resolved in the document, or failing that in the
   * nearest enclosing schema with `$defs` (where zod puts them), and is then
   * recorded as dangling: a client reading the document could not follow it.
   */
  valid(schema: unknown, depth = 0, local: unknown = schema): fc.Arbitrary<unknown> {
    if (typeof schema !== 'object' || schema === null || depth > 6) {
      return fc.jsonValue({ maxDepth: 2 });
    }
    const s = schema as JsonSchema;
    const scope = s.$defs ? s : local;
    const next = (child: unknown) => this.valid(child, depth + 1, scope);
    if (typeof s.$ref === 'string') {
      const inDocument = resolveRef(this.root, s.$ref);
      if (!inDocument) this.dangling.add(s.$ref);
      const target = inDocument ?? resolveRef(scope, s.$ref);
      return target ? next(target) : fc.jsonValue({ maxDepth: 2 });
    }
    if ('const' in s) return fc.constant(s.const);
    if (Array.isArray(s.enum) && s.enum.length > 0)
      return fc.constantFrom(...(s.enum as unknown[]));
    const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (Array.isArray(alternatives) && alternatives.length > 0) {
      return fc.oneof(...alternatives.map(next));
    }
    if (Array.isArray(s.allOf) && s.allOf.length > 0) return next(s.allOf[0]);
    if (Array.isArray(s.type)) {
      return fc.oneof(...s.type.map((t: unknown) => next({ ...s, type: t })));
    }
    return this.ofType(s, next);
  }

  private ofType(
    s: JsonSchema,
    next: (child: unknown) => fc.Arbitrary<unknown>,
  ): fc.Arbitrary<unknown> {
    const num = (key: string) => (typeof s[key] === 'number' ? (s[key] as number) : undefined);
    switch (s.type) {
      case 'string':
        return this.string(s);
      case 'integer':
        return fc.integer({ min: num('minimum') ?? -1000, max: num('maximum') ?? 1000 });
      case 'number':
        return fc.double({
          min: num('minimum') ?? -1e6,
          max: num('maximum') ?? 1e6,
          noNaN: true,
          noDefaultInfinity: true,
        });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array':
        return fc.array(next(s.items), {
          minLength: Math.min(num('minItems') ?? 0, 3),
          maxLength: Math.min(num('maxItems') ?? 4, 4),
        });
      case 'object':
        return this.object(s, next);
      default:
        return s.properties ? this.object(s, next) : fc.jsonValue({ maxDepth: 2 });
    }
  }

  private string(s: JsonSchema): fc.Arbitrary<string> {
    if (s.format === 'uuid') return fc.uuid();
    if (s.format === 'date-time') {
      return fc
        .date({ min: new Date(0), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    }
    const minLength = typeof s.minLength === 'number' ? Math.max(s.minLength, 1) : 0;
    const maxLength = Math.max(minLength, Math.min(Number(s.maxLength ?? 80), 80));
    return fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength, maxLength }) },
    );
  }

  private object(
    s: JsonSchema,
    next: (child: unknown) => fc.Arbitrary<unknown>,
  ): fc.Arbitrary<unknown> {
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    const required = Array.isArray(s.required) ? (s.required as string[]) : [];
    const known = fc.record(
      Object.fromEntries(Object.entries(properties).map(([key, prop]) => [key, next(prop)])),
      { requiredKeys: required.filter((key) => key in properties) },
    );
    const extra = s.additionalProperties;
    if (typeof extra !== 'object' || extra === null || Object.keys(properties).length > 0) {
      return known;
    }
    return fc.dictionary(fc.string({ maxLength: 12 }), next(extra), {
      maxKeys: 4,
    });
  }

  /** Values from `schema` with one thing wrong: a field replaced, dropped, added or retyped. */
  mutated(schema: unknown): fc.Arbitrary<unknown> {
    return fc
      .record({
        value: this.valid(schema),
        op: fc.constantFrom('replace', 'replace', 'drop', 'extra', 'retype'),
        pick: fc.nat(),
        key: hostileString,
        bad: hostileValue,
      })
      .map(({ value, op, pick, key, bad }) => mutate(value, op, pick, key, bad));
  }
}

function mutate(value: unknown, op: string, pick: number, key: string, bad: unknown): unknown {
  if (op === 'retype' || typeof value !== 'object' || value === null) return bad;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const target = keys[pick % Math.max(keys.length, 1)];
  if (op === 'extra' || target === undefined) {
    Object.defineProperty(copy, key.slice(0, 200), { value: bad, enumerable: true });
  } else if (op === 'drop') {
    delete copy[target];
  } else {
    const inner = copy[target];
    copy[target] =
      typeof inner === 'object' && inner !== null && pick % 3 === 0
        ? mutate(inner, 'replace', pick >> 2, key, bad)
        : bad;
  }
  return Array.isArray(value) ? Object.values(copy) : copy;
}
