import { z } from 'zod';
import type { FilterScalar, RetrievalFilter } from '../core/retrieval/filters.ts';
import { FILTER_LIMITS } from '../core/retrieval/filters.ts';

const L = FILTER_LIMITS;

/** The pieces a filter is checked with: the API's own tag and date-time schemas. */
interface FilterFields {
  tag: z.ZodType<string, string>;
  isoDate: z.ZodType<string, string>;
}

const ONE_OF = 'expected a string, a number, a boolean or {"in": [...]}';

/** The metadata part: per top-level key, a scalar to equal or `{"in": [scalars]}`. */
function metadataFilterSchema() {
  const scalar = z.union(
    [
      z.string().max(L.valueChars, `expected a string of at most ${L.valueChars} characters`),
      z.number().refine(Number.isFinite, 'expected a finite number'),
      z.boolean(),
    ],
    { error: ONE_OF },
  );
  const oneOf = z.strictObject(
    {
      in: z
        .array(scalar, { error: 'expected an array of values' })
        .min(1, 'expected at least 1 value')
        // A refinement, not .max(): inside the union a failed bound must keep its own message.
        .refine((values) => values.length <= L.valuesPerKey, {
          message: `expected at most ${L.valuesPerKey} values`,
        }),
    },
    { error: ONE_OF },
  );
  return z
    .record(
      z
        .string()
        .min(1, 'expected non-empty keys')
        .max(L.keyChars, `expected keys of at most ${L.keyChars} characters`),
      z.union([scalar, oneOf], { error: ONE_OF }),
      {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? `expected keys of 1 to ${L.keyChars} characters`
            : onlyForType('expected an object of metadata keys')(issue),
      },
    )
    .refine((m) => Object.keys(m).length <= L.metadataKeys, {
      message: `expected at most ${L.metadataKeys} keys`,
    })
    .refine((m) => valuesOf(m).length <= L.values, {
      message: `expected at most ${L.values} values in all`,
    })
    .describe(
      'top-level metadata keys and the value each must equal, or {"in": [values]}: ' +
        'strings, numbers or booleans, compared with their type',
    );
}

/**
 * `filters` of `/v1/search`, `/v1/context` and the MCP tools that search:
 * metadata equality and `in` on top-level keys, tags `all`/`any`, the event
 * time range and the state. Anything else (unknown keys, nested objects,
 * null, too many keys or values, strings past the bounds of
 * {@link FILTER_LIMITS}) is a 400 naming the field.
 */
export function filtersSchema({ tag, isoDate }: FilterFields) {
  const tags = z
    .array(tag, { error: 'expected an array of tags' })
    .min(1, 'expected at least 1 tag')
    .max(L.tags, `expected at most ${L.tags} tags`);
  return z
    .strictObject(
      {
        metadata: metadataFilterSchema().optional(),
        tags: z
          .strictObject(
            {
              all: tags.optional().describe('memories carrying every one of these tags'),
              any: tags.optional().describe('memories carrying at least one of these tags'),
            },
            { error: onlyForType('expected {"all": [...], "any": [...]}') },
          )
          .optional(),
        from: isoDate.optional().describe('only memories whose event happened at or after this'),
        to: isoDate.optional().describe('only memories whose event happened before this'),
        state: z
          .enum(['active', 'archived'], { error: 'expected active or archived' })
          .optional()
          .describe('default: active'),
      },
      { error: onlyForType('expected an object') },
    )
    .refine((f) => !f.from || !f.to || Date.parse(f.from) < Date.parse(f.to), {
      message: 'expected from before to',
      path: ['to'],
    })
    .describe(
      'which memories may be used: every part given must hold (metadata, tags, from/to on ' +
        'the event time, state)',
    );
}

/** `message` for a value of the wrong type; zod's own message (naming unknown keys) otherwise. */
function onlyForType(message: string) {
  return (issue: { code?: string }) => (issue.code === 'invalid_type' ? message : undefined);
}

/**
 * A request body that searches: its own fields, then `from` and `to` (the
 * event time range, shorthands of `filters.from` and `filters.to`) and `filters`.
 */
export function scopedBody(fields: FilterFields) {
  const scope = {
    from: fields.isoDate.optional().describe('only memories whose event happened at or after this'),
    to: fields.isoDate.optional().describe('only memories whose event happened before this'),
    filters: filtersSchema(fields).optional(),
  };
  return <S extends z.ZodRawShape>(shape: S) => z.strictObject({ ...shape, ...scope });
}

export type ScopedBody = ReturnType<typeof scopedBody>;

export type FiltersInput = z.output<ReturnType<typeof filtersSchema>>;

type MetadataInput = Readonly<Record<string, FilterScalar | { in: FilterScalar[] }>>;

/** A key's values: one, or the list of `in`. */
const listOf = (value: MetadataInput[string]): FilterScalar[] =>
  typeof value === 'object' ? value.in : [value];

/** Every value a metadata filter names. */
const valuesOf = (metadata: MetadataInput): FilterScalar[] =>
  Object.values(metadata).flatMap(listOf);

/** The filter as core takes it: values as lists per key, tags split, times as dates. */
export function retrievalFilter(input: FiltersInput | undefined): RetrievalFilter | undefined {
  if (!input) return undefined;
  const { metadata, tags, from, to, state } = input;
  return {
    ...(metadata
      ? {
          metadata: Object.fromEntries(
            Object.entries(metadata).map(([key, value]) => [key, listOf(value)]),
          ),
        }
      : {}),
    ...(tags?.all ? { tagsAll: tags.all } : {}),
    ...(tags?.any ? { tagsAny: tags.any } : {}),
    ...(from ? { from: new Date(from) } : {}),
    ...(to ? { to: new Date(to) } : {}),
    ...(state ? { state } : {}),
  };
}
