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
