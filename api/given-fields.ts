/**
 * The fields of `fields` that were given a value: undefined and the empty
 * string (an empty query parameter) count as not given, so core sees the
 * field as absent and applies its own default.
 */
export function givenFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''),
  ) as Partial<T>;
}
