import type pg from 'pg';

/** Runs of one text after which it is named (prepared on each connection that runs it). */
export const PREPARE_AFTER_RUNS = 3;
/** Texts named at most: each is prepared on every connection that runs it, and never dropped. */
export const PREPARED_TEXTS_MAX = 128;
/** Texts counted at most before the count starts again (texts built per call never repeat). */
const COUNTED_TEXTS_MAX = 2_048;

/**
 * Names the statements a process runs again and again, so that each pooled
 * connection parses, analyses and (once PostgreSQL settles on a generic plan)
 * plans them once instead of once per run. Unnamed, the server parses and
 * plans every statement afresh: under load that was most of PostgreSQL's
 * CPU (its parser, analyser and planner above its executor in a profile of
 * the default layout at 100 sessions).
 *
 * A text is named after {@link PREPARE_AFTER_RUNS} runs, and at most
 * {@link PREPARED_TEXTS_MAX} texts are: the product's statements are a fixed
 * set (filters and batch sizes are parameters or a few shapes), while a text
 * built per call (a literal in it) never repeats and stays unnamed, so the
 * server's prepared statements stay bounded per connection. Statements without
 * parameters (BEGIN, COMMIT, DDL) go as they are.
 */
export function createStatementNamer(options: { enabled: boolean }) {
  const names = new Map<string, string>();
  const runs = new Map<string, number>();

  const nameOf = (text: string): string | undefined => {
    const named = names.get(text);
    if (named !== undefined || !options.enabled || names.size >= PREPARED_TEXTS_MAX) return named;
    const seen = (runs.get(text) ?? 0) + 1;
    if (seen < PREPARE_AFTER_RUNS) {
      if (runs.size >= COUNTED_TEXTS_MAX) runs.clear();
      runs.set(text, seen);
      return undefined;
    }
    runs.delete(text);
    const name = `memory_engine_${names.size + 1}`;
    names.set(text, name);
    return name;
  };

  return {
    /** The query config for `pg`: named once the text has earned it. */
    config(text: string, values: readonly unknown[]): pg.QueryConfig {
      const name = values.length > 0 ? nameOf(text) : undefined;
      return name === undefined
        ? { text, values: values as unknown[] }
        : { name, text, values: values as unknown[] };
    },
    /** How many texts are named now. */
    get named() {
      return names.size;
    },
  };
}
