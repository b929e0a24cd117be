import { withClient } from './pg-cluster-tools.ts';

// Throwaway databases for one test file or benchmark run, on a server from
// ensureLocalPostgres or ensurePgvectorServer.

/**
 * Creates an empty database `name` (replacing a leftover one of that name)
 * and returns its URL, which uses the admin URL's credentials.
 * `name` must be a plain lower-case identifier.
 */
export async function createTestDatabase(adminUrl: string, name: string): Promise<string> {
  const ident = quoteDatabaseName(name);
  await withClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${ident}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name`, closing its open connections; does nothing when it does not exist. */
export async function dropTestDatabase(adminUrl: string, name: string): Promise<void> {
  const ident = quoteDatabaseName(name);
  await withClient(adminUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`),
  );
}

function quoteDatabaseName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`invalid test database name ${JSON.stringify(name)}: use [a-z_][a-z0-9_]*`);
  }
  return `"${name}"`;
}
