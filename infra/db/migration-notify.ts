import { DATA_VERSION_CHANNEL } from './data-version-cache.ts';
import type { Migration } from './migrations.ts';
import { NARRATIVE_CHANNEL } from './narrative-cache.ts';

/**
 * Migrations 11 and 12: changes announced when they commit, so each process
 * answers data versions and narratives from memory
 * (infra/db/data-version-cache.ts, infra/db/narrative-cache.ts).
 */
export const dataVersionNotify: Migration = {
  version: 11,
  name: 'data-version-notify',
  // Every change of a user's data version is announced when it commits, on
  // the channel infra/db/data-version-cache.ts listens to ("<id>:<version>"),
  // so processes answer versions from memory. A trigger, not the writes
  // themselves, so no write (nor a hand-written UPDATE) can forget to.
  // The function's body stays on one line: statements split at line-final semicolons.
  sql: `
    CREATE FUNCTION memory_engine_data_version_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${DATA_VERSION_CHANNEL}', NEW.id::text || ':' || NEW.data_version::text); RETURN NULL; END $$;
    CREATE TRIGGER users_data_version_notify AFTER UPDATE OF data_version ON users
      FOR EACH ROW WHEN (NEW.data_version IS DISTINCT FROM OLD.data_version)
      EXECUTE FUNCTION memory_engine_data_version_notify();
  `,
};

export const narrativeNotify: Migration = {
  version: 12,
  name: 'narrative-notify',
  // Every narrative saved or deleted (a user's deletion included: the
  // cascade fires row triggers) is announced when it commits, with the
  // user's id, on the channel infra/db/narrative-cache.ts listens to.
  sql: `
    CREATE FUNCTION memory_engine_narrative_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${NARRATIVE_CHANNEL}', COALESCE(NEW.user_id, OLD.user_id)::text); RETURN NULL; END $$;
    CREATE TRIGGER narratives_notify AFTER INSERT OR UPDATE OR DELETE ON narratives
      FOR EACH ROW EXECUTE FUNCTION memory_engine_narrative_notify();
  `,
};
