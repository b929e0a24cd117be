// test/: unit/ (pure logic), integration/ (anything crossing a process
// boundary: the real Temporal dev server, PostgreSQL, Neo4j, Redis, the Gemini
// emulator, the API on port 0), contracts/ (one suite per port, run against
// every adapter), support/ (shared fixtures), fixtures/ (data and recorded
// workflow histories).

/**
 * Reads a variable the test runner (`npm test`) provides, such as the URL of
 * the PostgreSQL database it created for this run. Fails loudly rather than
 * skipping: a test that silently does not run proves nothing.
 */
export function requireTestEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the suite with \`npm test\`, which starts the services`,
    );
  }
  return value;
}
